import type { Registry } from 'prom-client';
import { gauge } from './metrics.ts';

export const RUN_STATES = ['staging', 'loading', 'done', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];

/**
 * `deskport_pipeline_run_state{state}`: 1 for the state the run is in, 0 for the others, so a
 * dashboard shows where a run is and an alert can tell a finished run from a stalled one.
 */
export function setRunState(registry: Registry, state: RunState): void {
  const g = gauge(registry, 'deskport_pipeline_run_state', 'The state of the current run (1 = in this state)', ['state']);
  for (const s of RUN_STATES) g.set({ state: s }, s === state ? 1 : 0);
}
