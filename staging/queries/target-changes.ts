import type { Knex } from 'knex';

/** One change `deskport prepare` made (or set out to make) in a target (migration 022). */
export interface TargetChange {
  target: string;
  key: string;
  kind: string;
  state: 'intent' | 'done' | 'failed' | 'restored';
  request: Record<string, unknown>;
  before: Record<string, unknown> | null;
  targetId: string | null;
  error: string | null;
  attempts: number;
  updatedAt: Date;
  restoredAt: Date | null;
}

function row(r: any): TargetChange {
  return {
    target: r.target, key: r.key, kind: r.kind, state: r.state, request: r.request ?? {}, before: r.before ?? null,
    targetId: r.target_id ?? null, error: r.error ?? null, attempts: Number(r.attempts ?? 0), updatedAt: r.updated_at, restoredAt: r.restored_at ?? null,
  };
}

/** Every change recorded for a target, oldest first. */
export async function targetChanges(db: Knex, target: string): Promise<TargetChange[]> {
  const rows = await db('target_changes').where({ target }).orderBy([{ column: 'created_at' }, { column: 'key' }]);
  return rows.map(row);
}

export async function targetChange(db: Knex, target: string, key: string): Promise<TargetChange | undefined> {
  const r = await db('target_changes').where({ target, key }).first();
  return r ? row(r) : undefined;
}

/**
 * Intent before the call: after a crash or a lost answer the row says "look it up first". A row
 * already in intent keeps its `before` (what a pause switched off is what it was before the
 * first try); a row done, failed or restored starts a new attempt with what is given now.
 */
export async function recordChangeIntent(db: Knex, c: { target: string; key: string; kind: string; request: Record<string, unknown>; before?: Record<string, unknown> | null }): Promise<void> {
  await db.raw(
    `INSERT INTO target_changes (target, key, kind, state, request, before, attempts, updated_at)
     VALUES (?, ?, ?, 'intent', ?::jsonb, ?::jsonb, 1, now())
     ON CONFLICT (target, key) DO UPDATE SET
       kind = excluded.kind, request = excluded.request, state = 'intent', error = NULL, restored_at = NULL,
       before = CASE WHEN target_changes.state = 'intent' THEN target_changes.before ELSE excluded.before END,
       attempts = target_changes.attempts + 1, updated_at = now()`,
    [c.target, c.key, c.kind, JSON.stringify(c.request), c.before === undefined || c.before === null ? null : JSON.stringify(c.before)],
  );
}

export async function recordChangeDone(db: Knex, target: string, key: string, targetId: string | null): Promise<void> {
  await db('target_changes').where({ target, key }).update({ state: 'done', target_id: targetId, error: null, updated_at: db.fn.now() });
}

export async function recordChangeFailed(db: Knex, target: string, key: string, error: string): Promise<void> {
  await db('target_changes').where({ target, key }).update({ state: 'failed', error, updated_at: db.fn.now() });
}

/** A pause put back (or found never to have happened): nothing left to restore for it. */
export async function recordChangeRestored(db: Knex, target: string, key: string): Promise<void> {
  await db('target_changes').where({ target, key }).update({ state: 'restored', error: null, restored_at: db.fn.now(), updated_at: db.fn.now() });
}

/** Pauses still to put back: done, or in intent (a crash may have left the switch off). */
export async function changesToRestore(db: Knex, target: string): Promise<TargetChange[]> {
  const rows = await db('target_changes').where({ target }).where('kind', 'like', 'pause-%').whereIn('state', ['intent', 'done', 'failed'])
    .whereNotNull('before').orderBy('key');
  return rows.map(row);
}

/** Remembers why a restore did not work this time (the row stays to restore). */
export async function recordRestoreError(db: Knex, target: string, key: string, error: string): Promise<void> {
  await db('target_changes').where({ target, key }).update({ error, updated_at: db.fn.now() });
}
