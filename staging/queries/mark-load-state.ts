import type { Knex } from 'knex';
import type { CanonicalEntity } from '../canonical.ts';
import { addLoadWarnings, type LoadWarning } from './load-warnings.ts';

/**
 * Whether deskport wrote the target record ('created': a rollback deletes it) or found it there
 * ('matched': agents, a customer that already existed; never deleted). Unset: tickets and Help
 * Docs records are 'created' (only deskport makes them), anything else unknown, which rollback
 * never deletes.
 */
export type IdOrigin = 'created' | 'matched';
const CREATED_BY_DEFAULT = new Set<string>(['tickets', 'kb_categories', 'kb_articles']);

/**
 * Records the target ids of loaded rows and marks them loaded (tickets carry their comments
 * along), with what the target did not take of each (`warnings`: "migrated with warnings";
 * `commentWarnings` for the comments a ticket carried). A row loaded again starts without its
 * old warnings. Returns how many comments came along with tickets.
 */
export async function markLoaded(db: Knex, opts: {
  entity: CanonicalEntity; source: string; runId: number;
  items: { sourceId: string; targetId: string | null; origin?: IdOrigin; warnings?: LoadWarning[] }[];
  commentWarnings?: { sourceId: string; warnings: LoadWarning[] }[];
}): Promise<{ comments: number }> {
  if (opts.items.length === 0) return { comments: 0 };
  const ids = opts.items.map((i) => i.sourceId);
  return db.transaction(async (trx) => {
    const mapped = opts.items.filter((i) => i.targetId !== null);
    if (mapped.length > 0) {
      await trx('id_map').insert(mapped.map((i) => ({
        source: opts.source, entity: opts.entity, source_id: i.sourceId, target_id: i.targetId, run_id: opts.runId,
        origin: i.origin ?? (CREATED_BY_DEFAULT.has(opts.entity) ? 'created' : null),
      }))).onConflict(['source', 'entity', 'source_id']).merge({
        // The same target record marked again (a later run touching it) stays owned by the run
        // that created it, with the origin first recorded: that is what a rollback goes by.
        target_id: trx.raw('excluded.target_id'),
        run_id: trx.raw('CASE WHEN id_map.target_id = excluded.target_id AND id_map.run_id IS NOT NULL THEN id_map.run_id ELSE excluded.run_id END'),
        origin: trx.raw('CASE WHEN id_map.target_id = excluded.target_id AND id_map.origin IS NOT NULL THEN id_map.origin ELSE excluded.origin END'),
      });
    }
    await setState(trx, opts.entity, opts.source, ids, opts.runId, 'loaded', null);
    const comments = opts.entity === 'tickets' ? await setChildState(trx, opts.source, ids, opts.runId, 'loaded', null) : 0;
    await addLoadWarnings(trx, { table: opts.entity, source: opts.source, items: opts.items.map((i) => ({ sourceId: i.sourceId, warnings: i.warnings ?? [] })) });
    if (opts.commentWarnings) await addLoadWarnings(trx, { table: 'comments', source: opts.source, items: opts.commentWarnings });
    return { comments };
  });
}

/**
 * Marks rows failed with the reason. With `retry`, rows under `maxAttempts` go back to pending
 * (and stay in doubt: the next attempt looks them up first). Children of a failed ticket fail too.
 */
export async function markFailed(db: Knex, opts: {
  entity: CanonicalEntity; source: string; runId: number; sourceIds: string[]; reason: string; retry?: boolean; maxAttempts?: number;
  /** Rows in these states are failed (default: the ones this loader claimed). */
  fromStates?: string[];
}): Promise<void> {
  if (opts.sourceIds.length === 0) return;
  await db.transaction(async (trx) => {
    if (opts.retry) {
      await trx(opts.entity).where({ source: opts.source }).whereIn('source_id', opts.sourceIds)
        .where('load_attempts', '<', opts.maxAttempts ?? 1)
        .update({ load_state: 'pending', load_reason: opts.reason, claimed_by: null, load_warnings: null });
    }
    const failed = await trx(opts.entity).where({ source: opts.source }).whereIn('load_state', opts.fromStates ?? ['loading'])
      .whereIn('source_id', opts.sourceIds)
      .update({ load_state: 'failed', load_reason: opts.reason, load_run_id: opts.runId, claimed_by: null, load_warnings: null }).returning('source_id');
    if (opts.entity === 'tickets' && failed.length > 0) {
      await setChildState(trx, opts.source, failed.map((r: any) => r.source_id), opts.runId, 'failed', `parent ticket failed: ${opts.reason}`);
    }
  });
}

export async function markSkipped(db: Knex, opts: {
  entity: CanonicalEntity; source: string; runId: number; sourceIds: string[]; reason: string;
}): Promise<void> {
  if (opts.sourceIds.length === 0) return;
  await db.transaction(async (trx) => {
    await setState(trx, opts.entity, opts.source, opts.sourceIds, opts.runId, 'skipped', opts.reason);
    if (opts.entity === 'tickets') await setChildState(trx, opts.source, opts.sourceIds, opts.runId, 'skipped', `parent ticket skipped: ${opts.reason}`);
  });
}

/** `load --retry-failed`: failed rows go back to pending, with a fresh attempt budget. */
export async function resetFailed(db: Knex, source: string, entity: CanonicalEntity): Promise<number> {
  return db(entity).where({ source, load_state: 'failed' }).update({ load_state: 'pending', load_attempts: 0, claimed_by: null });
}

async function setState(trx: Knex, entity: CanonicalEntity, source: string, ids: string[], runId: number, state: string, reason: string | null): Promise<void> {
  // Warnings belong to one load: a row (re)loaded, failed or skipped starts without them.
  await trx(entity).where({ source }).whereIn('source_id', ids).update({
    load_state: state, load_reason: reason, load_run_id: runId, claimed_by: null, load_warnings: null,
    ...(state === 'loaded' ? { loaded_at: trx.fn.now(), changed_since_load: false } : {}),
  });
}

async function setChildState(trx: Knex, source: string, ticketIds: string[], runId: number, state: string, reason: string | null): Promise<number> {
  return trx('comments').where({ source }).whereIn('ticket_source_id', ticketIds).update({
    load_state: state, load_reason: reason, load_run_id: runId, load_attempts: trx.raw('load_attempts + 1'), load_warnings: null,
    ...(state === 'loaded' ? { loaded_at: trx.fn.now(), changed_since_load: false } : {}),
  });
}

export async function targetIds(db: Knex, source: string, entity: CanonicalEntity, sourceIds: string[]): Promise<Map<string, string>> {
  if (sourceIds.length === 0) return new Map();
  const rows = await db('id_map').where({ source, entity }).whereIn('source_id', [...new Set(sourceIds)]).select('source_id', 'target_id');
  return new Map(rows.map((r: any) => [r.source_id, r.target_id]));
}
