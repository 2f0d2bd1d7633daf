import type { Knex } from 'knex';

/** What the loader needs to know of a comment's attachments (fetched into the blob store or not). */
export interface LoadAttachment {
  sourceId: string;
  commentSourceId: string;
  sourceUrl: string;
  fileName: string;
  size: number | null;
  sha256: string | null;
  blobPath: string | null;
  inline: boolean;
  fetched: boolean;
  reason: string | null;
}

/** Attachment rows of the given comments, grouped by comment. */
export async function attachmentsOfComments(db: Knex, source: string, commentIds: string[]): Promise<Map<string, LoadAttachment[]>> {
  const out = new Map<string, LoadAttachment[]>();
  if (commentIds.length === 0) return out;
  const rows = await db('attachments').where({ source, kind: 'comment' }).whereIn('comment_source_id', commentIds)
    .orderBy('source_id').select('source_id', 'comment_source_id', 'source_url', 'file_name', 'size', 'sha256', 'blob_path', 'inline', 'fetch_state', 'reason');
  for (const r of rows) {
    const list = out.get(r.comment_source_id) ?? [];
    list.push({
      sourceId: r.source_id, commentSourceId: r.comment_source_id, sourceUrl: r.source_url, fileName: r.file_name ?? 'attachment',
      size: r.size == null ? null : Number(r.size), sha256: r.sha256, blobPath: r.blob_path, inline: r.inline,
      fetched: r.fetch_state === 'fetched', reason: r.reason,
    });
    out.set(r.comment_source_id, list);
  }
  return out;
}
