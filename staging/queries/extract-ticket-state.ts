import type { Knex } from 'knex';

export interface ExtractTicketState { comments: number; deleted: boolean; fallback: boolean }

/** Per-ticket extraction state for the given tickets (absent: nothing produced yet). */
export async function getTicketStates(db: Knex, source: string, ticketIds: string[]): Promise<Map<string, ExtractTicketState>> {
  const out = new Map<string, ExtractTicketState>();
  for (let i = 0; i < ticketIds.length; i += 5000) {
    const rows = await db('extract_ticket_state').where({ source }).whereIn('ticket_source_id', ticketIds.slice(i, i + 5000))
      .select('ticket_source_id', 'comments', 'deleted', 'fallback');
    for (const r of rows) out.set(r.ticket_source_id, { comments: r.comments, deleted: r.deleted, fallback: r.fallback });
  }
  return out;
}

/** Written in the same transaction as the stream's checkpoint, so positions survive a crash exactly. */
export async function putTicketStates(db: Knex, source: string, states: Map<string, ExtractTicketState>): Promise<void> {
  const rows = [...states].map(([id, s]) => ({ source, ticket_source_id: id, comments: s.comments, deleted: s.deleted, fallback: s.fallback }));
  for (let i = 0; i < rows.length; i += 2000) {
    await db('extract_ticket_state').insert(rows.slice(i, i + 2000)).onConflict(['source', 'ticket_source_id']).merge();
  }
}
