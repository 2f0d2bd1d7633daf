import type { Knex } from 'knex';

export interface ExtractTicketState {
  /** Comments produced so far: the next comment position. */
  comments: number;
  deleted: boolean;
  /** The ticket's comments come from the per-ticket endpoint (its events lacked them). */
  fallback: boolean;
  /** The comment count the source confirmed; null: not confirmed yet, the ticket must not load. */
  expected: number | null;
  /** An event without a comment child or a `comment_present` flag: the events cannot prove the count. */
  unproven: boolean;
}

/** The state of a ticket nothing was produced for yet. */
export const NEW_TICKET_STATE: Readonly<ExtractTicketState> = { comments: 0, deleted: false, fallback: false, expected: null, unproven: false };

const COLUMNS = ['ticket_source_id', 'comments', 'deleted', 'fallback', 'expected', 'unproven'];
const toState = (r: any): ExtractTicketState => ({ comments: r.comments, deleted: r.deleted, fallback: r.fallback, expected: r.expected ?? null, unproven: r.unproven });

/** Per-ticket extraction state for the given tickets (absent: nothing produced yet). */
export async function getTicketStates(db: Knex, source: string, ticketIds: string[]): Promise<Map<string, ExtractTicketState>> {
  const out = new Map<string, ExtractTicketState>();
  for (let i = 0; i < ticketIds.length; i += 5000) {
    const rows = await db('extract_ticket_state').where({ source }).whereIn('ticket_source_id', ticketIds.slice(i, i + 5000)).select(COLUMNS);
    for (const r of rows) out.set(r.ticket_source_id, toState(r));
  }
  return out;
}

/** Written in the same transaction as the stream's checkpoint, so positions survive a crash exactly. */
export async function putTicketStates(db: Knex, source: string, states: Map<string, ExtractTicketState>): Promise<void> {
  const rows = [...states].map(([id, s]) => ({
    source, ticket_source_id: id, comments: s.comments, deleted: s.deleted, fallback: s.fallback, expected: s.expected, unproven: s.unproven,
  }));
  for (let i = 0; i < rows.length; i += 2000) {
    await db('extract_ticket_state').insert(rows.slice(i, i + 2000)).onConflict(['source', 'ticket_source_id']).merge();
  }
}

/** Live tickets whose comment count is not confirmed yet, after `afterId` in id order (keyset paging). */
export async function ticketsAwaitingCount(db: Knex, source: string, afterId: string, limit: number): Promise<{ ticketId: string; state: ExtractTicketState }[]> {
  const rows = await db('extract_ticket_state').where({ source, deleted: false }).whereNull('expected')
    .where('ticket_source_id', '>', afterId).orderBy('ticket_source_id').limit(limit).select(COLUMNS);
  return rows.map((r: any) => ({ ticketId: r.ticket_source_id, state: toState(r) }));
}
