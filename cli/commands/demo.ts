import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startBlobServerFor } from '../../load/blob-server.ts';
import { Loader } from '../../load/loader.ts';
import { LoadProgress, type ProgressSnapshot } from '../../load/progress.ts';
import { TargetDirectory } from '../../load/target-directory.ts';
import { createRun, finishRun, forcedPast, getRun } from '../../staging/index.ts';
import type { App } from '../app.ts';
import { DeskportError } from '../../core/errors.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { describeKept } from '../../load/original-assignee.ts';
import { probeTarget } from './probes.ts';
import { ensureStaged } from './stage.ts';
import { ensureCurrentMapping } from '../current-mapping.ts';
import { failedRunStatus, type BeforeLoad } from '../pipeline.ts';
import { forcedLines } from '../report.ts';

/**
 * `deskport demo --newest N | --ids 1,2,3` against the configured target (R17): only those
 * tickets — with the customers, companies and agents they need — go end to end, recorded as a run
 * of kind 'demo'. The loader's idempotency (load states, the id map, the import's dedupe by
 * source + id) makes the later full run skip what the demo loaded: nothing twice, nothing lost.
 */

export interface DemoTicket {
  sourceId: string; subject: string; state: string; reason: string | null; targetId: string | null; url: string | null;
  /** The source assignee the target has no agent for, and how the ticket keeps them (issue 16.2). */
  originalAssignee: string | null;
}
export interface DemoResult {
  runId: number;
  stagedRunId: number | null;
  tickets: DemoTicket[];
  /** Rows this demo brought to a final state, per entity. */
  counts: { entity: string; loaded: number; skipped: number; failed: number }[];
  calls: number;
  seconds: number;
  reportFile: string;
  /** The blocking preflight problems this demo was forced past (--force); null: not forced. */
  forcedPast: string[] | null;
}

export const DEFAULT_DEMO_SIZE = 10;

/** The tickets a demo takes: the ids given (all must be staged), or the N newest staged, unfiltered ones. */
export async function pickDemoTickets(app: App, opts: { ids?: string[]; newest?: number }): Promise<string[]> {
  const { db, config } = app;
  const source = config.source.name;
  if (opts.ids && opts.ids.length > 0) {
    const found = new Set((await db('tickets').where({ source }).whereIn('source_id', opts.ids).pluck('source_id')).map(String));
    const unknown = opts.ids.filter((id) => !found.has(id));
    if (unknown.length > 0) {
      throw new DeskportError('DESKPORT_DEMO_IDS', `staging has no ticket ${unknown.join(', ')} from ${source}`, {
        hint: 'Use ids of the source help desk as staged (deskport status shows the staged counts); run `deskport demo --refresh …` to re-read the source.',
      });
    }
    return [...new Set(opts.ids)];
  }
  const n = opts.newest ?? DEFAULT_DEMO_SIZE;
  const rows = await db('tickets').where({ source }).whereNot({ load_state: 'skipped' })
    .orderByRaw(`data->>'createdAt' DESC, length(source_id) DESC, source_id DESC`).limit(n).pluck('source_id');
  return rows.map(String);
}

export async function runTargetDemo(app: App, opts: {
  ids?: string[]; newest?: number; refresh?: boolean; say?: (line: string) => void; onProgress?: (s: ProgressSnapshot) => void; beforeLoad?: BeforeLoad;
}): Promise<DemoResult> {
  const { db, config, log, registry } = app;
  const target = await probeTarget(config);
  const { runId: stagedRunId } = await ensureStaged(app, { refresh: opts.refresh, ...(opts.say ? { say: opts.say } : {}) });
  // The mapping as it is now, not as it was when staging was filled (issue 16.5).
  await ensureCurrentMapping(app, config, opts.say);
  const ticketIds = await pickDemoTickets(app, opts);
  if (ticketIds.length === 0) throw new DeskportError('DESKPORT_DEMO_EMPTY', 'staging holds no ticket to demo', { hint: 'Check the source (deskport check) and the mapping\'s filters.' });

  const runId = await createRun(db, 'demo', config.source.name, { ticketIds, target: target.url });
  const client = connectTarget(app, config);
  try {
    const directory = await TargetDirectory.read(client);
    await opts.beforeLoad?.({ runId, config, client, directory });
    const blobs = await startBlobServerFor(config);
    const progress = new LoadProgress(registry, opts.onProgress);
    // finalPass stays off: it would fail every incomplete ticket of the source, not only the demo's.
    const summary = await new Loader({ db, client, directory, log: log.child({ stage: 'load' }), registry, progress, blobs }, config)
      .run({ runId, ticketIds }).finally(() => blobs.close());
    const result = await demoOutcome(app, runId, stagedRunId, ticketIds, target.url);
    result.calls = summary.calls;
    result.seconds = summary.seconds;
    await finishRun(db, runId, 'done', { ticketIds, counts: result.counts, calls: summary.calls, seconds: summary.seconds });
    await writeFile(result.reportFile, JSON.stringify(result, null, 2) + '\n');
    return result;
  } catch (err) {
    await finishRun(db, runId, failedRunStatus(err), { ticketIds, error: (err as Error).message }).catch(() => undefined);
    throw err;
  } finally {
    await client.close();
  }
}

async function demoOutcome(app: App, runId: number, stagedRunId: number | null, ticketIds: string[], targetUrl: string): Promise<DemoResult> {
  const { db, config } = app;
  const source = config.source.name;
  const rows = await db('tickets as t')
    .leftJoin('id_map as m', function () { this.on('m.source', 't.source').andOn('m.source_id', 't.source_id').andOnVal('m.entity', 'tickets'); })
    .where('t.source', source).whereIn('t.source_id', ticketIds)
    .select('t.source_id', 't.load_state', 't.load_reason', 't.kept_assignee', db.raw(`t.data->>'subject' AS subject`), 'm.target_id');
  const byId = new Map(rows.map((r: any) => [String(r.source_id), r]));
  const tickets: DemoTicket[] = ticketIds.map((id) => {
    const r = byId.get(id);
    return {
      sourceId: id, subject: r?.subject ?? '', state: r?.load_state ?? 'missing', reason: r?.load_reason ?? null,
      targetId: r?.target_id ?? null, url: r?.target_id ? `${targetUrl}/desk/tickets/${r.target_id}` : null,
      originalAssignee: r?.load_state === 'loaded' && r.kept_assignee
        ? `was assigned to ${[r.kept_assignee.name, r.kept_assignee.email ? `<${r.kept_assignee.email}>` : null].filter(Boolean).join(' ')}, who is not an agent of the target: ${describeKept(r.kept_assignee)}`
        : null,
    };
  });
  const counts = await db('staged_records').where({ load_run_id: runId }).select('entity')
    .select(db.raw(`count(*) FILTER (WHERE load_state = 'loaded')::int AS loaded`), db.raw(`count(*) FILTER (WHERE load_state = 'skipped')::int AS skipped`), db.raw(`count(*) FILTER (WHERE load_state = 'failed')::int AS failed`))
    .groupBy('entity').orderBy('entity');
  const dir = join(config.workDir, 'reports', `run-${runId}`);
  await mkdir(dir, { recursive: true });
  return { runId, stagedRunId, tickets, counts, calls: 0, seconds: 0, reportFile: join(dir, 'demo.json'), forcedPast: forcedPast(await getRun(db, runId)) };
}

export function formatDemo(r: DemoResult): string {
  const out = [`deskport demo: run ${r.runId}, ${r.tickets.length} ticket(s)`, ...forcedLines(r.forcedPast)];
  for (const t of r.tickets) {
    out.push(`  ${t.sourceId.padStart(8)}  ${t.state.padEnd(8)} ${t.url ?? `(${t.reason ?? 'not loaded'})`}  ${t.subject}`);
    if (t.originalAssignee) out.push(`            ${t.originalAssignee}`);
  }
  out.push('', 'records this demo brought over:');
  for (const c of r.counts) out.push(`  ${c.entity.padEnd(14)} migrated ${c.loaded}  skipped ${c.skipped}  failed ${c.failed}`);
  out.push('', `target calls: ${r.calls} in ${r.seconds.toFixed(1)} s`, `report: ${r.reportFile}`);
  out.push('Review these tickets in Teamwork Desk. The full `deskport run` later skips what the demo loaded.');
  return out.join('\n');
}
