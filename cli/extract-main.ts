/**
 * The extract stage as a process of its own (R25): `tsx cli/extract-main.ts [--run-id N] [--kind run|delta]`.
 * Configuration comes from the environment (core/config.ts). Without --run-id it resumes the
 * source's unfinished extract run, if any, else starts a new one. Prints the result as JSON.
 */
import { parseArgs } from 'node:util';
import { openApp } from './app.ts';
import { loadConfig } from '../core/config.ts';
import { DeskportError } from '../core/errors.ts';
import { createRun, finishRun, type RunKind } from '../staging/index.ts';
import { runExtract } from '../extract/index.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'run-id': { type: 'string' }, kind: { type: 'string', default: 'extract' } } });
  const config = loadConfig();
  const app = await openApp(config);
  try {
    let runId = values['run-id'] ? Number(values['run-id']) : undefined;
    if (runId === undefined) {
      const open = await app.db('runs').where({ source: config.source.name, status: 'running' }).whereIn('kind', ['extract', 'delta']).orderBy('id', 'desc').first('id');
      runId = open ? Number(open.id) : await createRun(app.db, values.kind as RunKind, config.source.name, { sourceKind: config.source.kind });
    }
    const result = await runExtract(app, config, runId);
    await finishRun(app.db, runId, 'done', { extracted: result.byEntity, calls: result.calls ?? null, attachments: result.attachments ?? null });
    process.stdout.write(`${JSON.stringify({ runId, ...result })}\n`);
  } finally {
    await app.close();
  }
}

main().catch((err: unknown) => {
  if (err instanceof DeskportError) {
    console.error(`deskport extract: ${err.message}`);
    if (err.hint) console.error(`hint: ${err.hint}`);
  } else console.error(err);
  process.exit(1);
});
