import type { Registry } from 'prom-client';
import { gauge } from '../core/metrics.ts';
import type { ProgressSnapshot } from '../core/progress-view.ts';

export type { ProgressSnapshot };

/**
 * Tracks what the loader finished against what it had to do, with a pace measured over a
 * sliding minute, and publishes ETA in metrics. The CLI renders snapshots (a bar on a
 * terminal, a line every few seconds in a log).
 */
export class LoadProgress {
  private readonly events: { at: number; records: number; calls: number }[] = [];
  private entity = '';
  private done = 0;
  private total = 0;
  private readonly eta;
  private readonly pace;

  constructor(registry: Registry, private readonly onUpdate?: (s: ProgressSnapshot) => void) {
    this.eta = gauge(registry, 'deskport_load_eta_seconds', 'Estimated seconds until the current load phase ends', ['entity']);
    this.pace = gauge(registry, 'deskport_load_records_per_second', 'Records finished per second over the last minute', ['entity']);
  }

  start(entity: string, total: number): void {
    this.entity = entity;
    this.done = 0;
    this.total = total;
    this.events.length = 0;
    this.emit();
  }

  advance(records: number, calls: number): void {
    this.done += records;
    this.events.push({ at: Date.now(), records, calls });
    this.emit();
  }

  snapshot(): ProgressSnapshot {
    const now = Date.now();
    while (this.events.length > 0 && this.events[0]!.at < now - 60_000) this.events.shift();
    const first = this.events[0];
    const span = first ? Math.max(1, (now - first.at) / 1000) : 0;
    const records = this.events.reduce((n, e) => n + e.records, 0);
    const calls = this.events.reduce((n, e) => n + e.calls, 0);
    const rps = span > 0 && this.events.length > 1 ? records / span : 0;
    const left = Math.max(0, this.total - this.done);
    return {
      entity: this.entity, done: this.done, total: this.total, recordsPerSecond: rps,
      callsPerMinute: span > 0 ? (calls / span) * 60 : 0, etaSeconds: left === 0 ? 0 : rps > 0 ? left / rps : null,
    };
  }

  private emit(): void {
    const s = this.snapshot();
    if (s.etaSeconds !== null) this.eta.set({ entity: s.entity }, s.etaSeconds);
    this.pace.set({ entity: s.entity }, s.recordsPerSecond);
    this.onUpdate?.(s);
  }
}
