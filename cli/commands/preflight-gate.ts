import { PreflightRefusedError } from '../../core/errors.ts';
import { recordRunForced } from '../../staging/index.ts';
import type { App } from '../app.ts';
import { assessTarget } from './check.ts';
import type { BeforeLoad } from '../pipeline.ts';

/**
 * Issue 16.8: `run`, `demo` and `delta` run check's preflight once staging holds the source and
 * before anything is written to the target. A blocking problem stops the command (exit 2, the
 * run recorded as refused) unless `--force`, which the run records with the problems it went
 * past, so its report says so.
 */

export function preflightGate(app: App, opts: { command: string; force: boolean; say?: (line: string) => void }): BeforeLoad {
  return async ({ runId, config, client, directory }) => {
    const { blocking } = await assessTarget({ db: app.db, config }, client, directory);
    if (blocking.length === 0) return;
    if (!opts.force) {
      throw new PreflightRefusedError(opts.command, blocking,
        `Fix them (npx deskport prepare creates the fields, options, statuses, priorities and types it can; npx deskport check lists them again), or pass --force to ${opts.command} anyway: the report then records it.`);
    }
    await recordRunForced(app.db, runId, blocking);
    opts.say?.(`--force: ${opts.command} goes on past ${blocking.length} blocking problem${blocking.length === 1 ? '' : 's'} (recorded in the run's report):\n${blocking.map((b) => `  ✗ ${b}`).join('\n')}`);
  };
}
