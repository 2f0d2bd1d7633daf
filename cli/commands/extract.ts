import { runExtract, type ExtractResult } from '../../extract/index.ts';
import { createRun, finishRun, type RunKind } from '../../staging/index.ts';
import type { App } from '../app.ts';

/**
 * `deskport extract` (R25): the extract stage as a long-running process of its own — reads the
 * configured source into the raw Kafka topics, checkpointing after Kafka's acks. It resumes the
 * source's unfinished extract run, so a restart (after Ctrl-C or a crash) carries on from the
 * checkpoints instead of starting over. Progress comes from the stage's own metrics.
 */
/** The run this extract belongs to: the source's unfinished extract run (resumed), else a new one. */
export async function openExtractRun(app: App, kind: RunKind = 'extract'): Promise<{ runId: number; resumed: boolean }> {
  const { db, config } = app;
  // A run left 'running' by a process that died, or one stopped with Ctrl-C, is resumed.
  const open = await db('runs').where({ source: config.source.name, kind }).whereIn('status', ['running', 'interrupted']).orderBy('id', 'desc').first('id');
  if (open) {
    await db('runs').where({ id: open.id }).update({ status: 'running', finished_at: null });
    return { runId: Number(open.id), resumed: true };
  }
  return { runId: await createRun(db, kind, config.source.name, { sourceKind: config.source.kind }), resumed: false };
}

export async function runExtractStage(app: App, runId: number, opts: {
  progress?: (line: string) => void; progressEveryMs?: number;
  /** True once Ctrl-C was pressed: the run is 'interrupted', not 'failed', whatever breaks next. */
  isStopping?: () => boolean;
} = {}): Promise<ExtractResult> {
  const { db, config } = app;
  const started = Date.now();
  const timer = opts.progress ? setInterval(() => {
    void progressLine(app, started).then((l) => { if (l) opts.progress!(l); }).catch(() => undefined);
  }, opts.progressEveryMs ?? 2000) : null;
  try {
    const result = await runExtract(app, config, runId);
    // The last line says where it ended, however short the run was.
    if (opts.progress) {
      const line = await progressLine(app, started);
      if (line) opts.progress(line);
    }
    await finishRun(db, runId, 'done', { extracted: result.byEntity, calls: result.calls ?? null, attachments: result.attachments ?? null });
    return result;
  } catch (err) {
    if (!opts.isStopping?.()) await finishRun(db, runId, 'failed', { error: (err as Error).message }).catch(() => undefined);
    throw err;
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** Records produced so far, per entity, from `deskport_extract_records_total`. */
async function progressLine(app: App, started: number): Promise<string | null> {
  const metric = app.registry.getSingleMetric('deskport_extract_records_total');
  const values = metric ? (await metric.get()).values : [];
  const total = values.reduce((n, v) => n + v.value, 0);
  if (total === 0) return null;
  const seconds = (Date.now() - started) / 1000;
  const parts = values.filter((v) => v.value > 0).map((v) => `${v.labels.entity} ${v.value}`);
  return `extract: ${total} records (${(total / Math.max(seconds, 0.001)).toFixed(0)}/s)${parts.length > 0 ? ` — ${parts.join(', ')}` : ''}`;
}

/**
 * The command: extract until done (exit code 0), or until Ctrl-C (130): the run is marked
 * interrupted at once; checkpoints only ever moved after Kafka's acks, so the next start resumes
 * from them and re-reads at most the batch in flight. The caller exits the process on 130 (the
 * extractor has no stop signal of its own; what it had in flight is abandoned, never recorded).
 */
export async function extractCommand(app: App, say: (line: string) => void, out: (line: string) => void, progressEveryMs = 2000): Promise<number> {
  const { runId, resumed } = await openExtractRun(app);
  say(`extract run ${runId}${resumed ? ' (resumed from its checkpoints)' : ''}: Ctrl-C stops it; the next start resumes`);
  let stopping = false;
  const stopped = new Promise<number>((resolve) => {
    process.once('SIGINT', () => {
      stopping = true;
      say(`\nstopping: run ${runId} marked interrupted; \`deskport extract\` resumes it`);
      finishRun(app.db, runId, 'interrupted', {}).then(() => resolve(130), () => resolve(130));
    });
  });
  const work = runExtractStage(app, runId, { progress: (l) => { if (!stopping) say(l); }, progressEveryMs, isStopping: () => stopping }).then((result) => {
    out(JSON.stringify({ runId, ...result }));
    return 0;
  }, (err: unknown) => {
    if (stopping) return new Promise<number>(() => undefined);
    throw err;
  });
  return Promise.race([work, stopped]);
}
