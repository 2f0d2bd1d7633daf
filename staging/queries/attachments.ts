import type { Knex } from 'knex';

export interface AttachmentRow {
  source: string;
  sourceId: string;
  kind: 'comment' | 'article';
  ticketSourceId: string | null;
  commentSourceId: string | null;
  articleSourceId: string | null;
  sourceUrl: string;
  fileName: string | null;
  contentType: string | null;
  size: number | null;
  sha256: string | null;
  blobPath: string | null;
  inline: boolean;
  fetchState: 'fetched' | 'failed';
  reason: string | null;
  attempts: number;
  runId: number | null;
}

/** Keyed by (source, source_id): a re-extracted page rewrites the same rows. A fetched row is never downgraded to failed. */
export async function upsertAttachments(db: Knex, rows: AttachmentRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db('attachments').insert(rows.map((r) => ({
    source: r.source, source_id: r.sourceId, kind: r.kind, ticket_source_id: r.ticketSourceId, comment_source_id: r.commentSourceId,
    article_source_id: r.articleSourceId, source_url: r.sourceUrl, file_name: r.fileName, content_type: r.contentType, size: r.size,
    sha256: r.sha256, blob_path: r.blobPath, inline: r.inline, fetch_state: r.fetchState, reason: r.reason, attempts: r.attempts,
    run_id: r.runId, updated_at: db.fn.now(),
  }))).onConflict(['source', 'source_id']).merge()
    .where(db.raw("attachments.fetch_state = 'failed' OR excluded.fetch_state = 'fetched'"));
}

/** Attachment rows already fetched, by source id (a resumed page does not download them again). */
export async function fetchedAttachmentIds(db: Knex, source: string, sourceIds: string[]): Promise<Set<string>> {
  if (sourceIds.length === 0) return new Set();
  const rows = await db('attachments').where({ source, fetch_state: 'fetched' }).whereIn('source_id', sourceIds).select('source_id');
  return new Set(rows.map((r: { source_id: string }) => r.source_id));
}
