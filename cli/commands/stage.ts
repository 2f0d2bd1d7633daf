import { createRun, finishRun } from '../../staging/index.ts';
import type { App } from '../app.ts';
import { extractAndStage } from '../pipeline.ts';
import { probeSource } from './probes.ts';

/** How many tickets staging holds for the configured source. */
export async function stagedTicketCount(app: App): Promise<number> {
  const [{ n }] = await app.db('tickets').where({ source: app.config.source.name }).count<{ n: string }[]>('* as n');
  return Number(n);
}

/**
 * `check` and `demo` work on what staging holds (agents, groups, fields, tickets). When it holds
 * nothing for the source yet — or the operator asks for `--refresh` — the source is extracted and
 * transformed first, under a run of kind 'extract' (the same first half as `run`; a later run
 * re-reads the source and the upserts make that harmless).
 */
export async function ensureStaged(app: App, opts: { refresh?: boolean; say?: (line: string) => void } = {}): Promise<{ runId: number | null }> {
  if (!opts.refresh && (await stagedTicketCount(app)) > 0) return { runId: null };
  const { config } = app;
  await probeSource(config);
  opts.say?.(`staging the source first (${config.source.kind === 'zendesk-api' ? `Zendesk API ${config.source.url}` : config.source.path}): extract + transform…`);
  const runId = await createRun(app.db, 'extract', config.source.name, { sourceKind: config.source.kind, by: 'stage' });
  try {
    await extractAndStage(app, config, runId);
    await finishRun(app.db, runId, 'done', {});
  } catch (err) {
    await finishRun(app.db, runId, 'failed', { error: (err as Error).message }).catch(() => undefined);
    throw err;
  }
  return { runId };
}
