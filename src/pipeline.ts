import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { runExtract } from '../extract/index.ts';
import { Loader } from '../load/loader.ts';
import { TargetDirectory } from '../load/target-directory.ts';
import { createRun, finishRun, runCounts, runReasons, type Db, type RunKind } from '../staging/index.ts';
import { startTransform } from '../transform/index.ts';
import { endOffsets, groupCaughtUp } from './bus.ts';
import type { Config } from './config.ts';
import { DeskportError } from './errors.ts';
import type { Logger } from './log.ts';
import type { RunReport } from './report.ts';
import { connectTarget } from './target.ts';

export interface PipelineDeps { db: Db; kafka: Kafka; log: Logger; registry: Registry }

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
 * One whole run in one process: extract → Kafka → transform → staging → load → report.
 * Each stage is also a process of its own for operators who scale out (R25); this is the
 * convenience path the demo and a single-machine migration use.
 */
export async function runPipeline(deps: PipelineDeps, config: Config, opts: { kind: RunKind; transformTimeoutMs?: number }): Promise<RunReport> {
  const { db, kafka, log, registry } = deps;
  const runId = await createRun(db, opts.kind, config.source.name, { sourcePath: config.source.path });
  log.info({ runId }, 'run started');
  try {
    const extracted = await runExtract({ db, kafka, log: log.child({ stage: 'extract' }), registry }, config, runId);
    log.info({ runId, ...extracted.byEntity }, 'extracted');

    const admin = kafka.admin();
    await admin.connect();
    const transform = await startTransform({ db, kafka, log: log.child({ stage: 'transform' }), registry }, config);
    try {
      const targets = await endOffsets(admin, transform.topics);
      await admin.disconnect();
      await waitForTransform(kafka, transform.groupId, targets, opts.transformTimeoutMs ?? 600_000);
    } finally {
      await transform.close();
    }
    log.info({ runId }, 'staged');

    const client = connectTarget({ db, log, registry }, config);
    let calls = 0;
    let seconds = 0;
    try {
      const directory = await TargetDirectory.read(client);
      const summary = await new Loader({ db, client, directory, log: log.child({ stage: 'load' }), registry }, config).run({ runId, finalPass: true });
      calls = client.callCount;
      seconds = summary.seconds;
    } finally {
      await client.close();
    }
    const report: RunReport = { runId, counts: await runCounts(db, runId), reasons: await runReasons(db, runId), calls, seconds };
    await finishRun(db, runId, 'done', { counts: report.counts, calls, seconds });
    return report;
  } catch (err) {
    await finishRun(db, runId, 'failed', { error: (err as Error).message }).catch(() => undefined);
    throw err;
  }
}
