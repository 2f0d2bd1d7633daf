import { rawTopic, RAW_ENTITIES } from '../../core/bus.ts';
import { listRuns, reconciliation, runActivity, type ActivityRow } from '../../staging/index.ts';
import { transformGroupId } from '../../transform/index.ts';
import type { App } from '../app.ts';

/**
 * `deskport status`: every run with its kind, state, times and per-entity counts, the newest
 * checkpoint of every source stream, and the transform's consumer lag (one offsets read).
 */

export interface EntityStatus {
  entity: string; extracted: number; staged: number; loaded: number; migrated: number; withWarnings: number;
  skipped: number; failed: number; rejected: number; pending: number; missing: number;
}
export interface RunStatus {
  id: number; kind: string; source: string; status: string; startedAt: string; finishedAt: string | null;
  /** Reconciliation of the records this run staged (extract and full runs). */
  counts: EntityStatus[];
  /** Records this run brought to their load state (loads and demos work on rows staged by another run). */
  finished: ActivityRow[];
}
export interface StatusReport {
  runs: RunStatus[];
  checkpoints: { source: string; stream: string; cursor: string; runId: number | null; updatedAt: string | null }[];
  /** Messages the transform group has not committed yet, per raw topic; null when Kafka was not asked. */
  lag: { topic: string; lag: number }[] | null;
  lagError?: string;
}

export async function collectStatus(app: App, opts: { limit?: number; lag?: boolean } = {}): Promise<StatusReport> {
  const { db } = app;
  const runs: RunStatus[] = [];
  for (const r of await listRuns(db, { limit: opts.limit ?? 50 })) {
    const counts = (await reconciliation(db, r.id))
      .filter((c) => c.extracted + c.staged + c.loaded + c.skipped + c.failed + c.rejected > 0)
      .map((c) => ({
        entity: c.entity, extracted: c.extracted, staged: c.staged, loaded: c.loaded, migrated: c.migrated, withWarnings: c.withWarnings,
        skipped: c.skipped, failed: c.failed, rejected: c.rejected, pending: c.pending + c.loading, missing: c.missing,
      }));
    const finished = await runActivity(db, r.id);
    runs.push({
      id: r.id, kind: r.kind, source: r.source, status: r.status,
      startedAt: new Date(r.startedAt).toISOString(), finishedAt: r.finishedAt ? new Date(r.finishedAt).toISOString() : null,
      counts, finished,
    });
  }
  const checkpoints = (await db('checkpoints').orderBy(['source', 'stream']).select('*')).map((c: any) => ({
    source: c.source, stream: c.stream, cursor: String(c.cursor), runId: c.run_id === null || c.run_id === undefined ? null : Number(c.run_id),
    updatedAt: c.updated_at ? new Date(c.updated_at).toISOString() : null,
  }));
  const report: StatusReport = { runs, checkpoints, lag: null };
  if (opts.lag !== false) {
    try {
      report.lag = await transformLag(app);
    } catch (err) {
      report.lagError = (err as Error).message;
    }
  }
  return report;
}

async function transformLag(app: App): Promise<{ topic: string; lag: number }[]> {
  const { config, kafka } = app;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = RAW_ENTITIES.map((e) => rawTopic(config.topicPrefix, config.source.name, e)).filter((t) => existing.has(t));
    if (topics.length === 0) return [];
    const committed = new Map<string, bigint>();
    for (const t of await admin.fetchOffsets({ groupId: transformGroupId(config), topics })) {
      for (const p of t.partitions) committed.set(`${t.topic}:${p.partition}`, BigInt(p.offset));
    }
    const out: { topic: string; lag: number }[] = [];
    for (const topic of topics) {
      let lag = 0n;
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const done = committed.get(`${topic}:${p.partition}`) ?? -1n;
        const low = BigInt(p.low);
        lag += BigInt(p.high) - (done < low ? low : done);
      }
      out.push({ topic, lag: Number(lag) });
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

export function formatStatus(s: StatusReport): string {
  const out: string[] = [];
  if (s.runs.length === 0) out.push('no runs yet: start with `deskport check`, then `deskport demo` or `deskport run`');
  for (const r of s.runs) {
    out.push(`run ${r.id}  ${r.kind.padEnd(9)} ${r.status.padEnd(11)} started ${r.startedAt}${r.finishedAt ? `  finished ${r.finishedAt}` : ''}`);
    for (const c of r.counts) {
      // An extract run loads nothing: what it has not loaded is not missing yet.
      if (r.kind === 'extract') {
        out.push(`    ${c.entity.padEnd(14)} extracted ${c.extracted}  staged ${c.staged}  rejected ${c.rejected}`);
        continue;
      }
      out.push(`    ${c.entity.padEnd(14)} extracted ${c.extracted}  migrated ${c.migrated}  migrated with warnings ${c.withWarnings}  skipped ${c.skipped}  failed ${c.failed}  rejected ${c.rejected}  pending ${c.pending}  missing ${c.missing}`);
    }
    const own = r.finished.filter((f) => f.migrated + f.withWarnings + f.skipped + f.failed > 0);
    if (own.length > 0) {
      out.push(`    this run wrote: ${own.map((f) => `${f.entity} ${f.migrated} migrated/${f.withWarnings} with warnings/${f.skipped} skipped/${f.failed} failed`).join(', ')}`);
    }
  }
  if (s.checkpoints.length > 0) {
    out.push('', 'checkpoints (newest per stream):');
    for (const c of s.checkpoints) out.push(`  ${c.source}/${c.stream}: ${c.cursor.length > 60 ? `${c.cursor.slice(0, 57)}…` : c.cursor}  (run ${c.runId ?? '?'}, ${c.updatedAt ?? '?'})`);
  }
  if (s.lag) {
    out.push('', s.lag.length === 0 ? 'transform lag: no raw topics yet' : `transform lag: ${s.lag.map((l) => `${l.topic.split('.').pop()} ${l.lag}`).join(', ')}`);
  } else if (s.lagError) {
    out.push('', `transform lag: unknown (${s.lagError})`);
  }
  return out.join('\n');
}
