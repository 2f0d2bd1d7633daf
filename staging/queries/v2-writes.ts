import type { Knex } from 'knex';

export interface V2Write {
  key: string;
  state: 'intent' | 'done';
  targetId: string | null;
  fileIds: number[];
}

/** The v2 writes recorded for some tickets, by key. */
export async function v2WritesOfTickets(db: Knex, source: string, ticketSourceIds: string[]): Promise<Map<string, V2Write>> {
  if (ticketSourceIds.length === 0) return new Map();
  const rows = await db('v2_writes').where({ source }).whereIn('ticket_source_id', ticketSourceIds).select('key', 'state', 'target_id', 'file_ids');
  return new Map(rows.map((r: any) => [r.key, { key: r.key, state: r.state, targetId: r.target_id, fileIds: r.file_ids ?? [] }]));
}

/** Tickets among `ticketSourceIds` that v2 has started: they stay on v2, never go to the import. */
export async function ticketsStartedOnV2(db: Knex, source: string, ticketSourceIds: string[]): Promise<Set<string>> {
  if (ticketSourceIds.length === 0) return new Set();
  const rows = await db('v2_writes').where({ source }).whereIn('ticket_source_id', ticketSourceIds).where('key', 'like', 'ticket:%').select('ticket_source_id');
  return new Set(rows.map((r: any) => r.ticket_source_id));
}

/** Intent before the call (with the files it will attach): after a crash the row says "look it up first". */
export async function recordV2Intent(db: Knex, w: { source: string; key: string; ticketSourceId: string; commentSourceId: string | null; fileIds: number[]; runId: number }): Promise<void> {
  await db('v2_writes').insert({
    source: w.source, key: w.key, ticket_source_id: w.ticketSourceId, comment_source_id: w.commentSourceId,
    state: 'intent', file_ids: JSON.stringify(w.fileIds), run_id: w.runId, updated_at: db.fn.now(),
  }).onConflict(['source', 'key']).merge(['file_ids', 'run_id', 'updated_at']);
}

export async function recordV2Done(db: Knex, source: string, key: string, targetId: string): Promise<void> {
  await db('v2_writes').where({ source, key }).update({ state: 'done', target_id: targetId, updated_at: db.fn.now() });
}

/** Content types of fetched blobs (the v2 upload declares one), by blob path. */
export async function blobContentTypes(db: Knex, source: string, blobPaths: string[]): Promise<Map<string, string>> {
  if (blobPaths.length === 0) return new Map();
  const rows = await db('attachments').where({ source }).whereIn('blob_path', [...new Set(blobPaths)]).whereNotNull('content_type').select('blob_path', 'content_type');
  return new Map(rows.map((r: any) => [r.blob_path, r.content_type]));
}

/** Forgets a ticket's v2 writes (its target ticket is gone, e.g. rolled back): the next write starts over. */
export async function clearV2Writes(db: Knex, source: string, ticketSourceId: string): Promise<void> {
  await db('v2_writes').where({ source, ticket_source_id: ticketSourceId }).delete();
}
