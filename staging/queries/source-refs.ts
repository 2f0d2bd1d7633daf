import type { Knex } from 'knex';
import type { CanonicalRefByKind, CanonicalRefKind } from '../canonical.ts';
import { contentHash } from './upsert-batch.ts';

/** A reference record (group, custom field) as transform stages it. */
export interface RefRow<K extends CanonicalRefKind = CanonicalRefKind> {
  kind: K;
  source: string;
  data: CanonicalRefByKind[K];
  raw?: unknown;
}

/** Multi-row upsert into `source_refs`, keyed by (source, kind, source_id). */
export async function upsertRefs(trx: Knex, runId: number, rows: RefRow[]): Promise<void> {
  if (rows.length === 0) return;
  const unique = new Map(rows.map((r) => [`${r.kind}:${r.data.sourceId}`, r]));
  await trx('source_refs').insert([...unique.values()].map((r) => ({
    source: r.source, kind: r.kind, source_id: r.data.sourceId, run_id: runId, data: JSON.stringify(r.data),
    raw: r.raw === undefined ? null : JSON.stringify(r.raw), content_hash: contentHash(r.data),
  }))).onConflict(['source', 'kind', 'source_id']).merge(['data', 'raw', 'run_id', 'content_hash', 'staged_at']);
}

export async function refsOfKind<K extends CanonicalRefKind>(db: Knex, source: string, kind: K): Promise<CanonicalRefByKind[K][]> {
  const rows = await db('source_refs').where({ source, kind }).orderBy('source_id').select('data');
  return rows.map((r: any) => r.data);
}

const CHILD_PREFIX = 'parent ticket skipped: filter: ';

/**
 * Comments follow their ticket's filter verdict: comments of a filtered ticket are skipped with
 * the ticket's rule, and comments of a ticket no longer filtered go back to pending. Run after a
 * batch committed, for the tickets it touched: of two batches racing (a ticket and its comments),
 * the later call sees both committed.
 */
export async function settleFilteredComments(db: Knex, source: string, ticketSourceIds: string[]): Promise<number> {
  if (ticketSourceIds.length === 0) return 0;
  const ids = [...new Set(ticketSourceIds)];
  const skipped = await db.raw(
    `UPDATE comments c SET load_state = 'skipped', load_reason = 'parent ticket skipped: ' || t.load_reason, load_run_id = t.run_id
     FROM tickets t
     WHERE c.source = ? AND c.ticket_source_id = ANY(?) AND t.source = c.source AND t.source_id = c.ticket_source_id
       AND t.load_state = 'skipped' AND t.load_reason LIKE 'filter: %' AND c.load_state = 'pending'`,
    [source, ids]);
  const back = await db.raw(
    `UPDATE comments c SET load_state = 'pending', load_reason = NULL
     FROM tickets t
     WHERE c.source = ? AND c.ticket_source_id = ANY(?) AND t.source = c.source AND t.source_id = c.ticket_source_id
       AND t.load_state = 'pending' AND c.load_state = 'skipped' AND c.load_reason LIKE ?`,
    [source, ids, `${CHILD_PREFIX}%`]);
  return (skipped.rowCount ?? 0) + (back.rowCount ?? 0);
}
