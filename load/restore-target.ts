import { errorMessage } from '../core/errors.ts';
import { changesToRestore, recordChangeRestored, recordRestoreError, type Db, type TargetChange } from '../staging/index.ts';
import type { TeamworkDeskClient } from './client.ts';
import { getTrigger, setTriggerState } from './triggers.ts';

/**
 * `deskport restore-target`: puts back what `prepare` switched off for the migration, from what
 * staging recorded before each switch — so it works after a crash too, and twice is harmless
 * (a trigger already as it was is only marked restored). What prepare created (fields, types…)
 * stays: the migrated tickets use it.
 */

export interface Restored { change: TargetChange; outcome: 'restored' | 'unchanged' | 'gone' | 'failed'; detail: string }

/** What restore-target would put back (the dry run), without a call. */
export async function pendingRestores(db: Db, target: string): Promise<TargetChange[]> {
  return changesToRestore(db, target);
}

export async function restoreTarget(deps: { db: Db; client: TeamworkDeskClient; target: string }, opts: { onRestored?: (r: Restored) => void } = {}): Promise<Restored[]> {
  const { db, client, target } = deps;
  const out: Restored[] = [];
  for (const c of await changesToRestore(db, target)) {
    let r: Restored;
    try {
      r = await restoreOne(client, c);
      if (r.outcome !== 'failed') await recordChangeRestored(db, target, c.key);
    } catch (err) {
      r = { change: c, outcome: 'failed', detail: errorMessage(err) };
    }
    if (r.outcome === 'failed') await recordRestoreError(db, target, c.key, r.detail);
    out.push(r);
    opts.onRestored?.(r);
  }
  return out;
}

async function restoreOne(client: TeamworkDeskClient, c: TargetChange): Promise<Restored> {
  if (c.kind !== 'pause-trigger') return { change: c, outcome: 'failed', detail: `deskport does not know how to restore a ${c.kind}` };
  const id = Number(c.targetId ?? (c.request as { triggerId?: number }).triggerId);
  const before = String((c.before as { state?: unknown } | null)?.state ?? 'active');
  const now = await getTrigger(client, id);
  const name = now?.name ?? String((c.request as { name?: unknown }).name ?? `#${id}`);
  if (!now) return { change: c, outcome: 'gone', detail: `trigger "${name}" (${id}) is no longer in the target` };
  if (now.state.toLowerCase() === before.toLowerCase()) return { change: c, outcome: 'unchanged', detail: `trigger "${name}" (${id}) is ${now.state} already` };
  await setTriggerState(client, now, before);
  return { change: c, outcome: 'restored', detail: `trigger "${name}" (${id}): ${now.state} → ${before}` };
}
