import { startBlobServerFor } from '../../load/blob-server.ts';
import { DeltaApplier, type DeltaSummary } from '../../load/delta.ts';
import { Loader, type LoadSummary } from '../../load/loader.ts';
import { LoadProgress, type ProgressSnapshot } from '../../load/progress.ts';
import { TargetDirectory } from '../../load/target-directory.ts';
import { createRun, finishRun, forcedPast, getRun, type Db } from '../../staging/index.ts';
import type { Config } from '../../core/config.ts';
import { DeskportError } from '../../core/errors.ts';
import { extractAndStage, failedRunStatus, type BeforeLoad, type PipelineDeps } from '../pipeline.ts';
import { forcedLines } from '../report.ts';
import { writeReportFiles } from '../../serve/report-files.ts';
import { setRunState } from '../../core/run-state.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { ensureCurrentMapping } from '../current-mapping.ts';

/** What `deskport delta` did, as stored in the run's summary and printed. */
export interface DeltaReport {
  runId: number;
  created: { tickets: number; comments: number; people: number; companies: number };
  appended: DeltaSummary['appended'];
  updated: DeltaSummary['updated'];
  failed: { tickets: number; people: number; companies: number };
  /** Desk calls that wrote (the loader's creates and the delta's posts, uploads and patches). */
  writes: number;
  calls: number;
  seconds: number;
  reportDir?: string | undefined;
  /** The blocking preflight problems this delta was forced past (--force); null: not forced. */
  forcedPast?: string[] | null;
}

/** A delta needs a run to start from: without one there is no high-water mark and nothing in the target to update. */
async function previousRun(db: Db, source: string): Promise<number | null> {
  const row = await db('runs').where({ source }).whereIn('kind', ['run', 'demo', 'delta']).whereIn('status', ['done']).orderBy('id', 'desc').first('id');
  return row ? Number(row.id) : null;
}

/**
 * `deskport delta` (R19): extract what the source created or changed since the last run's
 * high-water mark (the API extractor resumes each stream from its stored cursor; an export file
 * is read again and unchanged records are recognised by their content hash), transform until
 * caught up, then load: new tickets through the import as usual, new comments on tickets already
 * migrated appended through v2, changed fields PATCHed. Recorded as a run of kind 'delta'.
 */
export async function runDelta(deps: PipelineDeps, config: Config, opts: {
  transformTimeoutMs?: number; onProgress?: (s: ProgressSnapshot) => void; signal?: AbortSignal; say?: (line: string) => void; beforeLoad?: BeforeLoad;
} = {}): Promise<DeltaReport> {
  const { db, log, registry } = deps;
  const source = config.source.name;
  const since = await previousRun(db, source);
  if (since === null) {
    throw new DeskportError('DESKPORT_NO_PREVIOUS_RUN', `there is no finished run of source "${source}" to bring a delta over from`, {
      hint: 'Run the migration first (npx deskport run); delta then brings over what changed since.',
    });
  }
  const started = Date.now();
  const runId = await createRun(db, 'delta', source, { sourcePath: config.source.path, since });
  log.info({ runId, since }, 'delta run started');
  try {
    setRunState(registry, 'staging');
    await extractAndStage(deps, config, runId, opts.transformTimeoutMs);
    // A changed mapping is re-applied first; the tickets it changes are then brought in line below (issue 16.5).
    await ensureCurrentMapping(deps, config, opts.say);
    setRunState(registry, 'loading');
    const client = connectTarget(deps, config);
    let load: LoadSummary;
    let delta: DeltaSummary;
    try {
      const directory = await TargetDirectory.read(client);
      await opts.beforeLoad?.({ runId, config, client, directory });
      const blobs = await startBlobServerFor(config);
      try {
        const progress = new LoadProgress(registry, opts.onProgress);
        const loadLog = log.child({ stage: 'load' });
        load = await new Loader({ db, client, directory, log: loadLog, registry, progress, blobs }, config)
          .run({ runId, finalPass: true, ...(opts.signal ? { signal: opts.signal } : {}) });
        delta = await new DeltaApplier({ db, client, directory, log: loadLog, registry }, config).run(runId, opts.signal);
      } finally {
        await blobs.close();
      }
    } finally {
      await client.close();
    }
    const calls = client.callCount;
    const report: DeltaReport = {
      runId,
      created: { tickets: load.tickets.loaded, comments: load.comments.loaded, people: load.people.loaded, companies: load.companies.loaded },
      appended: delta.appended, updated: delta.updated,
      failed: { tickets: load.tickets.failed, people: load.people.failed, companies: load.companies.failed },
      // The loader's calls all go to new records (creates, their look-ups): count them as writes.
      writes: delta.writes + load.companies.calls + load.people.calls + load.tickets.calls,
      calls, seconds: (Date.now() - started) / 1000,
      forcedPast: forcedPast(await getRun(db, runId)),
    };
    await finishRun(db, runId, opts.signal?.aborted ? 'interrupted' : 'done', { delta: report, calls, seconds: report.seconds });
    report.reportDir = (await writeReportFiles(db, config.workDir, runId).catch(() => null))?.dir;
    setRunState(registry, 'done');
    return report;
  } catch (err) {
    setRunState(registry, 'failed');
    await finishRun(db, runId, failedRunStatus(err), { error: (err as Error).message }).catch(() => undefined);
    throw err;
  }
}

export function formatDeltaReport(r: DeltaReport): string {
  const lines = [
    `deskport delta (run ${r.runId})`,
    ...forcedLines(r.forcedPast),
    `  created   ${r.created.tickets} tickets (with ${r.created.comments} comments), ${r.created.people} people, ${r.created.companies} companies`,
    `  appended  ${r.appended.comments} comments to ${r.appended.tickets} tickets (as private notes unless load.v2PublicReplies)`,
    `  updated   ${r.updated.fields} fields on ${r.updated.tickets} tickets (${r.updated.unchanged} changed in the source but already matching)`,
  ];
  const failed = r.failed.tickets + r.failed.people + r.failed.companies + r.appended.failed + r.updated.failed;
  if (failed > 0) {
    lines.push(`  failed    ${r.failed.tickets} tickets, ${r.failed.people} people, ${r.failed.companies} companies, ${r.appended.failed} comments, ${r.updated.failed} updates (see: npx deskport report --run ${r.runId})`);
  }
  lines.push(`  target calls: ${r.calls} (${r.writes} writes) in ${r.seconds.toFixed(1)} s`);
  if (r.reportDir) lines.push(`  report files: ${r.reportDir}`);
  return lines.join('\n');
}
