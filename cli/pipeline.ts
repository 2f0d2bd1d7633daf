import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { runExtract } from '../extract/index.ts';
import { startBlobServerFor } from '../load/blob-server.ts';
import { DeltaApplier } from '../load/delta.ts';
import { Loader } from '../load/loader.ts';
import { LoadProgress, type ProgressSnapshot } from '../load/progress.ts';
import { TargetDirectory } from '../load/target-directory.ts';
import { createRun, finishRun, forcedPast, getRun, keptAssigneeCounts, runCounts, runReasons, runWarnings, type Db, type RunKind, type RunRow } from '../staging/index.ts';
import { startTransform } from '../transform/index.ts';
import { endOffsets, groupCaughtUp } from '../core/bus.ts';
import type { Config } from '../core/config.ts';
import { DeskportError, PreflightRefusedError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { RunReport } from './report.ts';
import { writeReportFiles } from '../serve/report-files.ts';
import { setRunState } from '../core/run-state.ts';
import { connectTarget } from '../load/connect-target.ts';
import { ensureCurrentMapping } from './current-mapping.ts';
import type { TeamworkDeskClient } from '../load/client.ts';

export interface PipelineDeps { db: Db; kafka: Kafka; log: Logger; registry: Registry }

/** Runs once staging holds the source and before anything is written (the preflight of run, demo and delta: cli/commands/preflight-gate.ts). */
export type BeforeLoad = (ctx: { runId: number; config: Config; client: TeamworkDeskClient; directory: TargetDirectory }) => Promise<void>;

/** The status a run ends in when `err` stopped it: `refused` for a preflight refusal, else `failed`. */
export function failedRunStatus(err: unknown): RunRow['status'] {
  return err instanceof PreflightRefusedError ? 'refused' : 'failed';
}

/** Waits until the transform group committed every message up to `targets`. */
async function waitForTransform(kafka: Kafka, groupId: string, targets: Map<string, bigint>, timeoutMs: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    while (!(await groupCaughtUp(admin, groupId, targets))) {
      if (Date.now() > deadline) {
        throw new DeskportError('DESKPORT_TRANSFORM_STALLED', `transform did not catch up within ${timeoutMs / 1000} s`, {
          hint: 'Look for transform errors in the log; staging may be unreachable.',
        });
      }
      await sleep(250);
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Extract the whole source into Kafka, then run transform until it committed everything that
 * was produced: afterwards staging holds every record of the run (or its reject).
 */
export async function extractAndStage(deps: PipelineDeps, config: Config, runId: number, transformTimeoutMs = 600_000): Promise<void> {
  const { db, kafka, log, registry } = deps;
  const extracted = await runExtract({ db, kafka, log: log.child({ stage: 'extract' }), registry }, config, runId);
  log.info({ runId, ...extracted.byEntity }, 'extracted');

  const transform = await startTransform({ db, kafka, log: log.child({ stage: 'transform' }), registry }, config);
  try {
    const admin = kafka.admin();
    await admin.connect();
    const targets = await endOffsets(admin, transform.topics).finally(() => admin.disconnect());
    await waitForTransform(kafka, transform.groupId, targets, transformTimeoutMs);
  } finally {
    await transform.close();
  }
}

/**
 * One whole run in one process: extract → Kafka → transform → staging → load → report.
 * Each stage is also a process of its own for operators who scale out (R25); this is the
 * convenience path the demo and a single-machine migration use.
 */
export async function runPipeline(deps: PipelineDeps, config: Config, opts: {
  kind: RunKind; transformTimeoutMs?: number; onProgress?: (s: ProgressSnapshot) => void; beforeLoad?: BeforeLoad;
  /** One line for the operator (the terminal): e.g. that a changed mapping was re-applied. */
  say?: (line: string) => void;
}): Promise<RunReport> {
  const { db, log, registry } = deps;
  const runId = await createRun(db, opts.kind, config.source.name, { sourcePath: config.source.path });
  log.info({ runId }, 'run started');
  try {
    setRunState(registry, 'staging');
    await extractAndStage(deps, config, runId, opts.transformTimeoutMs);
    // Rows the transform did not see again (an API source resumes from its high-water marks) may
    // carry an older mapping: never load them so (issue 16.5).
    await ensureCurrentMapping(deps, config, opts.say);
    log.info({ runId }, 'staged');
    setRunState(registry, 'loading');

    const client = connectTarget({ db, log, registry }, config);
    let calls = 0;
    let seconds = 0;
    let updated: RunReport['updated'];
    try {
      const directory = await TargetDirectory.read(client);
      await opts.beforeLoad?.({ runId, config, client, directory });
      const progress = new LoadProgress(registry, opts.onProgress);
      const blobs = await startBlobServerFor(config);
      const loadLog = log.child({ stage: 'load' });
      const summary = await new Loader({ db, client, directory, log: loadLog, registry, progress, blobs }, config)
        .run({ runId, finalPass: true }).finally(() => blobs.close());
      // Tickets an earlier run loaded whose staged row changed since (the source, or a re-applied
      // mapping) get what differs PATCHed, as delta does.
      const { writes: _w, ...inLine } = await new DeltaApplier({ db, client, directory, log: loadLog, registry }, config).bringInLine();
      updated = inLine;
      calls = client.callCount;
      seconds = summary.seconds;
    } finally {
      await client.close();
    }
    const report: RunReport = {
      runId, counts: await runCounts(db, runId), reasons: await runReasons(db, runId), warnings: await runWarnings(db, runId), calls, seconds,
      kept: await keptAssigneeCounts(db, runId), updated, forcedPast: forcedPast(await getRun(db, runId)),
    };
    await finishRun(db, runId, 'done', { counts: report.counts, calls, seconds, ...(updated && updated.tickets > 0 ? { updated } : {}) });
    report.reportDir = (await writeReportFiles(db, config.workDir, runId))?.dir;
    log.info({ runId, reportDir: report.reportDir }, 'report files written');
    setRunState(registry, 'done');
    return report;
  } catch (err) {
    setRunState(registry, 'failed');
    await finishRun(db, runId, failedRunStatus(err), { error: (err as Error).message }).catch(() => undefined);
    // A failed run gets its report files too: they show how far it got.
    await writeReportFiles(db, config.workDir, runId).catch((e: unknown) => log.warn({ err: e }, 'could not write the report files'));
    throw err;
  }
}
