import type { Knex } from 'knex';
import type { CanonicalComment, CanonicalTicket } from '../canonical.ts';

/**
 * Per ticket: the bytes its comment bodies take and its longest body, so the loader can tell a
 * ticket the v1 import would refuse for its size before spending a call on it.
 */
export async function commentSizes(db: Knex, source: string, ticketSourceIds: string[]): Promise<Map<string, { bytes: number; count: number; longest: number }>> {
  if (ticketSourceIds.length === 0) return new Map();
  const { rows } = await db.raw(
    `SELECT ticket_source_id, sum(octet_length(data->>'bodyHtml'))::bigint AS bytes, count(*)::int AS n, max(length(data->>'bodyHtml'))::int AS longest
       FROM comments WHERE source = ? AND ticket_source_id = ANY(?) GROUP BY ticket_source_id`,
    [source, ticketSourceIds],
  );
  return new Map(rows.map((r: any) => [r.ticket_source_id, { bytes: Number(r.bytes ?? 0), count: r.n, longest: r.longest ?? 0 }]));
}

export interface DeltaComment { ticketSourceId: string; ticketTargetId: string; data: CanonicalComment }

/**
 * Claims comments that arrived after their ticket was loaded (R19): pending rows whose ticket is
 * loaded and mapped. The import never updates a ticket, so these are appended through v2.
 */
export async function claimDeltaComments(db: Knex, opts: { source: string; loaderId: string; limit: number; leaseSeconds: number }): Promise<DeltaComment[]> {
  const { rows } = await db.raw(
    `WITH picked AS (
       SELECT c.source, c.source_id FROM comments c
        JOIN tickets t ON t.source = c.source AND t.source_id = c.ticket_source_id AND t.load_state = 'loaded'
        JOIN id_map m ON m.source = c.source AND m.entity = 'tickets' AND m.source_id = c.ticket_source_id
       WHERE c.source = ?
         AND (c.load_state = 'pending' OR (c.load_state = 'loading' AND c.claimed_at < now() - make_interval(secs => ?)))
       ORDER BY c.ticket_source_id, c.position
       LIMIT ? FOR UPDATE OF c SKIP LOCKED)
     UPDATE comments u SET load_state = 'loading', claimed_by = ?, claimed_at = now(), load_attempts = u.load_attempts + 1
       FROM picked WHERE u.source = picked.source AND u.source_id = picked.source_id
     RETURNING u.ticket_source_id, u.data, u.position`,
    [opts.source, opts.leaseSeconds, opts.limit, opts.loaderId],
  );
  const ids = [...new Set(rows.map((r: any) => r.ticket_source_id as string))];
  const targets = ids.length === 0 ? [] : await db('id_map').where({ source: opts.source, entity: 'tickets' }).whereIn('source_id', ids as string[]).select('source_id', 'target_id');
  const targetOf = new Map(targets.map((r: any) => [r.source_id, r.target_id as string]));
  return rows
    .sort((a: any, b: any) => a.ticket_source_id.localeCompare(b.ticket_source_id) || a.position - b.position)
    .map((r: any) => ({ ticketSourceId: r.ticket_source_id, ticketTargetId: targetOf.get(r.ticket_source_id)!, data: r.data }));
}

export interface ChangedTicket { sourceId: string; targetId: string; contentHash: string; data: CanonicalTicket }

/** Loaded tickets whose source record changed since (upsertBatch flags them), with their target ids. */
export async function changedLoadedTickets(db: Knex, source: string, limit: number, afterSourceId = ''): Promise<ChangedTicket[]> {
  const rows = await db('tickets as t').join('id_map as m', function on() {
    this.on('m.source', 't.source').andOn('m.source_id', 't.source_id').andOnVal('m.entity', 'tickets');
  }).where({ 't.source': source, 't.load_state': 'loaded', 't.changed_since_load': true }).where('t.source_id', '>', afterSourceId)
    .orderBy('t.source_id').limit(limit).select('t.source_id', 'm.target_id', 't.content_hash', 't.data');
  return rows.map((r: any) => ({ sourceId: r.source_id, targetId: r.target_id, contentHash: r.content_hash, data: r.data }));
}

/** The target now matches this version: clear the flag, unless the row changed again meanwhile. */
export async function clearChangedSinceLoad(db: Knex, source: string, items: { sourceId: string; contentHash: string }[]): Promise<void> {
  for (const i of items) {
    await db('tickets').where({ source, source_id: i.sourceId, content_hash: i.contentHash }).update({ changed_since_load: false });
  }
}
