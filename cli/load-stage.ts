import { startBlobServerFor } from '../load/blob-server.ts';
import { Loader, type LoadSummary } from '../load/loader.ts';
import { LoadProgress } from '../load/progress.ts';
import { TargetDirectory } from '../load/target-directory.ts';
import { createRun, finishRun, resetFailed } from '../staging/index.ts';
import { CANONICAL_ENTITIES } from '../staging/canonical.ts';
import type { App } from './app.ts';
import { progressView } from '../core/progress-view.ts';
import { connectTarget } from '../load/connect-target.ts';
import { ensureCurrentMapping } from './current-mapping.ts';

/** `deskport load`: one loader process over staging, as a stage of its own (R25). */
export async function runLoadStage(app: App, opts: { retryFailed: boolean; finalPass: boolean; signal?: AbortSignal; say?: (line: string) => void }): Promise<LoadSummary> {
  const { db, config, log, registry } = app;
  // Never load rows mapped with a mapping the operator has since edited (issue 16.5).
  await ensureCurrentMapping(app, config, opts.say);
  if (opts.retryFailed) {
    for (const entity of CANONICAL_ENTITIES) {
      const n = await resetFailed(db, config.source.name, entity);
      if (n > 0) log.info({ entity, rows: n }, 'failed rows put back to pending');
    }
  }
  const runId = await createRun(db, 'load', config.source.name, { retryFailed: opts.retryFailed });
  const client = connectTarget(app, config);
  const view = progressView();
  try {
    const directory = await TargetDirectory.read(client);
    const progress = new LoadProgress(registry, view.update);
    const blobs = await startBlobServerFor(config);
    const summary = await new Loader({ db, client, directory, log: log.child({ stage: 'load' }), registry, progress, blobs }, config)
      .run({ runId, finalPass: opts.finalPass, ...(opts.signal ? { signal: opts.signal } : {}) }).finally(() => blobs.close());
    await finishRun(db, runId, opts.signal?.aborted ? 'interrupted' : 'done', { ...summary });
    return summary;
  } catch (err) {
    await finishRun(db, runId, 'failed', { error: (err as Error).message }).catch(() => undefined);
    throw err;
  } finally {
    view.stop();
    await client.close();
  }
}

export function formatLoadSummary(s: LoadSummary): string {
  const lines = CANONICAL_ENTITIES.map((e) => `${e.padEnd(10)} migrated ${s[e].loaded}  skipped ${s[e].skipped}  failed ${s[e].failed}`);
  lines.push(`target calls: ${s.calls} in ${s.seconds.toFixed(1)} s`);
  return lines.join('\n');
}
