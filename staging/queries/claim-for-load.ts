import type { Knex } from 'knex';
import type { CanonicalByEntity, CanonicalEntity } from '../canonical.ts';

export interface ClaimedRow<E extends CanonicalEntity> {
  sourceId: string;
  data: CanonicalByEntity[E];
  attempts: number;
  /** An earlier attempt may have reached the target: look the record up before creating it. */
  inDoubt: boolean;
}

const ORDER: Record<CanonicalEntity, string> = {
  companies: 't.source_id',
  people: 't.source_id',
  tickets: 't.source_created_at, t.source_id',
  comments: 't.ticket_source_id, t.position',
  // Categories before sections (sections nest under them); kb-loader orders nested sections.
  kb_categories: 't.kind, t.source_id',
  kb_articles: 't.source_id',
};

/**
 * The comments a ticket must have staged: what its record announced (an export's embedded list),
 * or the count the API extractor confirmed (extract_ticket_state.expected, issue 21).
 */
const EXPECTED = `GREATEST(t.expected_comments, coalesce((SELECT s.expected FROM extract_ticket_state s
  WHERE s.source = t.source AND s.ticket_source_id = t.source_id), 0))`;
/**
 * The API extractor has not confirmed the ticket's comment count: extraction is not finished, or
 * the ticket was deleted in the source while it ran (its comments 404).
 */
const UNCONFIRMED = `EXISTS (SELECT 1 FROM extract_ticket_state s
  WHERE s.source = t.source AND s.ticket_source_id = t.source_id AND s.expected IS NULL)`;

/**
 * A ticket is ready when its comment count is known and every one of those comments is staged or
 * rejected: the import never updates a ticket afterwards, so loading it early would lose the late
 * comments, and loading it before its count is confirmed could stage it short.
 */
const TICKET_READY = `NOT ${UNCONFIRMED} AND ${EXPECTED} <= (
  (SELECT count(*) FROM comments c WHERE c.source = t.source AND c.ticket_source_id = t.source_id)
  + (SELECT count(DISTINCT (r.topic, r.partition, r.kafka_offset)) FROM rejects r
     WHERE r.source = t.source AND r.entity = 'comments' AND r.parent_source_id = t.source_id))`;

/**
 * Claims up to `limit` rows to load: pending ones, and rows whose claim lease expired (their
 * loader died mid-call). `FOR UPDATE SKIP LOCKED` lets several loaders claim side by side.
 */
export async function claimForLoad<E extends CanonicalEntity>(db: Knex, opts: {
  entity: E; source: string; loaderId: string; limit: number; leaseSeconds: number; sourceIds?: string[];
}): Promise<ClaimedRow<E>[]> {
  const t = opts.entity;
  const filters: string[] = [];
  const bindings: Knex.RawBinding[] = [opts.source, opts.leaseSeconds];
  if (t === 'tickets') filters.push(TICKET_READY);
  if (opts.sourceIds) {
    filters.push('t.source_id = ANY(?)');
    bindings.push(opts.sourceIds);
  }
  bindings.push(opts.limit, opts.loaderId);
  const { rows } = await db.raw(
    `WITH picked AS (
       SELECT t.source, t.source_id FROM ${t} t
       WHERE t.source = ?
         AND (t.load_state = 'pending' OR (t.load_state = 'loading' AND t.claimed_at < now() - make_interval(secs => ?)))
         ${filters.map((f) => `AND ${f}`).join(' ')}
       ORDER BY ${ORDER[t]}
       LIMIT ? FOR UPDATE SKIP LOCKED)
     UPDATE ${t} u SET load_state = 'loading', claimed_by = ?, claimed_at = now(), load_attempts = u.load_attempts + 1
     FROM picked WHERE u.source = picked.source AND u.source_id = picked.source_id
     RETURNING u.source_id, u.data, u.load_attempts`,
    bindings,
  );
  const claimed: ClaimedRow<E>[] = rows.map((r: any) => ({
    sourceId: r.source_id, data: r.data, attempts: r.load_attempts, inDoubt: r.load_attempts > 1,
  }));
  // RETURNING does not keep the CTE's order; tickets go to the target oldest first.
  if (t === 'tickets') claimed.sort((a, b) => ticketCreated(a.data).localeCompare(ticketCreated(b.data)));
  return claimed;
}

function ticketCreated(data: unknown): string {
  return (data as CanonicalByEntity['tickets']).createdAt;
}

/**
 * Tickets still waiting for comments: after transform caught up, these will never become ready.
 * `confirmed` false: the source's comment count was never confirmed (extraction did not finish).
 */
export async function ticketsNotReady(db: Knex, source: string): Promise<{ sourceId: string; expected: number; staged: number; confirmed: boolean }[]> {
  const { rows } = await db.raw(
    `SELECT t.source_id, ${EXPECTED}::int AS expected, NOT ${UNCONFIRMED} AS confirmed,
            (SELECT count(*) FROM comments c WHERE c.source = t.source AND c.ticket_source_id = t.source_id)::int AS staged
     FROM tickets t WHERE t.source = ? AND t.load_state = 'pending' AND NOT (${TICKET_READY})`,
    [source],
  );
  return rows.map((r: any) => ({ sourceId: r.source_id, expected: r.expected, staged: r.staged, confirmed: r.confirmed }));
}

/** Staged comments of the given tickets, in source order. */
export async function commentsOfTickets(db: Knex, source: string, ticketSourceIds: string[]): Promise<Map<string, CanonicalByEntity['comments'][]>> {
  const rows = await db('comments').where({ source }).whereIn('ticket_source_id', ticketSourceIds)
    .orderBy([{ column: 'ticket_source_id' }, { column: 'position' }]).select('ticket_source_id', 'data');
  const out = new Map<string, CanonicalByEntity['comments'][]>();
  for (const r of rows) {
    const list = out.get(r.ticket_source_id) ?? [];
    list.push(r.data);
    out.set(r.ticket_source_id, list);
  }
  return out;
}

/** Canonical rows by source id (for resolving references: requesters, assignees, companies). */
export async function stagedBySourceIds<E extends CanonicalEntity>(db: Knex, entity: E, source: string, sourceIds: string[]): Promise<Map<string, CanonicalByEntity[E]>> {
  if (sourceIds.length === 0) return new Map();
  const rows = await db(entity).where({ source }).whereIn('source_id', [...new Set(sourceIds)]).select('source_id', 'data');
  return new Map(rows.map((r: any) => [r.source_id, r.data]));
}

/** A live loader keeps its claims fresh; claims of a loader that died go stale and are taken over. */
export async function renewClaims(db: Knex, loaderId: string): Promise<void> {
  for (const table of ['companies', 'people', 'tickets', 'comments', 'kb_categories', 'kb_articles']) {
    await db(table).where({ claimed_by: loaderId, load_state: 'loading' }).update({ claimed_at: db.fn.now() });
  }
}

/** Rows still waiting per entity: the progress display's denominator. */
export async function pendingCounts(db: Knex, source: string): Promise<Record<CanonicalEntity, number>> {
  const out = { companies: 0, people: 0, tickets: 0, comments: 0, kb_categories: 0, kb_articles: 0 } as Record<CanonicalEntity, number>;
  for (const table of Object.keys(out) as CanonicalEntity[]) {
    const [row] = await db(table).where({ source }).whereIn('load_state', ['pending', 'loading']).count<{ n: string }[]>('* as n');
    out[table] = Number(row?.n ?? 0);
  }
  return out;
}

/** Rows of an entity some loader holds right now (optionally among `sourceIds`). */
export async function loadingCount(db: Knex, entity: CanonicalEntity, source: string, sourceIds?: string[]): Promise<number> {
  const q = db(entity).where({ source, load_state: 'loading' });
  if (sourceIds) q.whereIn('source_id', sourceIds);
  const [row] = await q.count<{ n: string }[]>('* as n');
  return Number(row?.n ?? 0);
}
