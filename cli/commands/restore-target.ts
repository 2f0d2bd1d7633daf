import { connectTarget } from '../../load/connect-target.ts';
import { targetKey } from '../../load/prepare-inputs.ts';
import { pendingRestores, restoreTarget, type Restored } from '../../load/restore-target.ts';
import type { App } from '../app.ts';
import { probeTarget } from './probes.ts';

/**
 * `deskport restore-target [--dry-run]`: puts back what `prepare --apply` switched off for the
 * migration (the triggers it paused), as staging recorded it before each switch. Returns the exit
 * code: 0, or 2 when something could not be put back (run it again).
 */
export async function restoreTargetCommand(app: App, opts: { dryRun?: boolean }, out: (line: string) => void): Promise<number> {
  const { config } = app;
  const probe = await probeTarget(config);
  const target = targetKey(config);
  const pending = await pendingRestores(app.db, target);
  out(`deskport restore-target: ${probe.url}${opts.dryRun ? ' (dry run: nothing is changed)' : ''}`);
  if (pending.length === 0) {
    out('nothing to restore: deskport prepare has switched nothing off in this target that is not back already');
    return 0;
  }
  if (opts.dryRun) {
    out(`${pending.length} thing${pending.length === 1 ? '' : 's'} to put back:`);
    for (const c of pending) out(`  ~ trigger "${String(c.request.name ?? '')}" (${c.targetId ?? String(c.request.triggerId ?? '?')}): back to ${String((c.before as { state?: unknown } | null)?.state ?? 'active')}`);
    out('');
    out('dry run: nothing was changed. To put them back: npx deskport restore-target');
    return 0;
  }
  const client = connectTarget(app, config);
  let results: Restored[];
  try {
    results = await restoreTarget({ db: app.db, client, target }, {
      onRestored: (r) => out(`  ${r.outcome === 'failed' ? '✗' : r.outcome === 'restored' ? '✓' : '-'} ${r.detail}`),
    });
  } finally {
    await client.close();
  }
  const failed = results.filter((r) => r.outcome === 'failed').length;
  out(`${results.filter((r) => r.outcome === 'restored').length} put back, ${results.filter((r) => r.outcome === 'unchanged' || r.outcome === 'gone').length} already as they were or gone, ${failed} failed.`);
  if (failed > 0) out('Run npx deskport restore-target again, or switch those triggers back on by hand (Settings › Triggers, the Active toggle).');
  return failed > 0 ? 2 : 0;
}
