import type { Knex } from 'knex';
import type { CanonicalKbArticle } from '../canonical.ts';

/** An article attachment as the KB loader sees it: fetched bytes (or why not) and its upload. */
export interface KbAttachmentRow {
  sourceId: string;
  articleSourceId: string;
  sourceUrl: string;
  fileName: string;
  contentType: string | null;
  size: number | null;
  sha256: string | null;
  blobPath: string | null;
  inline: boolean;
  fetched: boolean;
  reason: string | null;
  targetFileId: string | null;
  targetUrl: string | null;
  uploadError: string | null;
}

/** Attachment rows (kind 'article') of the given articles, grouped by article. */
export async function kbAttachmentsOfArticles(db: Knex, source: string, articleIds: string[]): Promise<Map<string, KbAttachmentRow[]>> {
  const out = new Map<string, KbAttachmentRow[]>();
  if (articleIds.length === 0) return out;
  const rows = await db('attachments').where({ source, kind: 'article' }).whereIn('article_source_id', articleIds).orderBy('source_id');
  for (const r of rows) {
    const list = out.get(r.article_source_id) ?? [];
    list.push({
      sourceId: r.source_id, articleSourceId: r.article_source_id, sourceUrl: r.source_url, fileName: r.file_name ?? 'attachment',
      contentType: r.content_type, size: r.size == null ? null : Number(r.size), sha256: r.sha256, blobPath: r.blob_path, inline: r.inline,
      fetched: r.fetch_state === 'fetched', reason: r.reason, targetFileId: r.target_file_id, targetUrl: r.target_url, uploadError: r.upload_error,
    });
    out.set(r.article_source_id, list);
  }
  return out;
}

/** The outcome of one article attachment's upload: the target file and its address, or the error. */
export async function recordKbUpload(db: Knex, source: string, sourceId: string, outcome: { targetFileId: string; targetUrl: string } | { error: string }): Promise<void> {
  await db('attachments').where({ source, source_id: sourceId }).update('error' in outcome
    ? { upload_error: outcome.error, updated_at: db.fn.now() }
    : { target_file_id: outcome.targetFileId, target_url: outcome.targetUrl, upload_error: null, updated_at: db.fn.now() });
}

/** Where a created article lives in the target, and the body it was written with. */
export async function setKbArticleTarget(db: Knex, source: string, sourceId: string, target: { url?: string; contents: string }): Promise<void> {
  await db('kb_articles').where({ source, source_id: sourceId }).update({ ...(target.url ? { target_url: target.url } : {}), target_contents: target.contents });
}

/** A note on a row that loaded with a caveat (an attachment not migrated, a link left as is): shown in the report. */
export async function setKbLoadNote(db: Knex, table: 'kb_categories' | 'kb_articles', source: string, sourceId: string, note: string | null): Promise<void> {
  await db(table).where({ source, source_id: sourceId, load_state: 'loaded' }).update({ load_reason: note });
}

export interface LoadedKbArticle { sourceId: string; data: CanonicalKbArticle; targetId: string; targetUrl: string | null; targetContents: string | null }

/** Articles the target has, with where they are and the body last written (the link-rewrite pass's input). */
export async function loadedKbArticles(db: Knex, source: string): Promise<LoadedKbArticle[]> {
  const rows = await db('kb_articles as a')
    .join('id_map as m', (j) => j.on('m.source', 'a.source').andOn('m.source_id', 'a.source_id').andOnVal('m.entity', 'kb_articles'))
    .where('a.source', source).where('a.load_state', 'loaded').orderBy('a.source_id')
    .select('a.source_id', 'a.data', 'm.target_id', 'a.target_url', 'a.target_contents');
  return rows.map((r: any) => ({ sourceId: r.source_id, data: r.data, targetId: r.target_id, targetUrl: r.target_url, targetContents: r.target_contents }));
}

/** Source article id → its new address, for every article the target has. */
export async function kbArticleUrls(db: Knex, source: string): Promise<Map<string, string>> {
  const rows = await db('kb_articles').where({ source, load_state: 'loaded' }).whereNotNull('target_url').select('source_id', 'target_url');
  return new Map(rows.map((r: any) => [r.source_id, r.target_url]));
}

/** Load state (and reason) of the given articles, for saying why a link to one was not rewritten. */
export async function kbArticleStates(db: Knex, source: string, ids: string[]): Promise<Map<string, { state: string; reason: string | null }>> {
  if (ids.length === 0) return new Map();
  const rows = await db('kb_articles').where({ source }).whereIn('source_id', [...new Set(ids)]).select('source_id', 'load_state', 'load_reason');
  return new Map(rows.map((r: any) => [r.source_id, { state: r.load_state, reason: r.load_reason }]));
}

/** Hosts of the source's article addresses: links on other hosts are not the source's. */
export async function kbSourceHosts(db: Knex, source: string): Promise<Set<string>> {
  const rows = await db('kb_articles').where({ source }).whereNotNull('source_url').distinct(db.raw("substring(source_url from '^[a-z]+://([^/]+)') AS host"));
  return new Set(rows.map((r: any) => r.host).filter(Boolean).map((h: string) => h.toLowerCase()));
}

/** Source ids of rows still waiting to load (to fail them all with one reason). */
export async function pendingKbIds(db: Knex, table: 'kb_categories' | 'kb_articles', source: string): Promise<string[]> {
  return (await db(table).where({ source, load_state: 'pending' }).select('source_id')).map((r: any) => r.source_id);
}

/** KB rows staged for a source (0: the loader skips the knowledge base without a call). */
export async function kbRowCount(db: Knex, source: string): Promise<number> {
  const { rows } = await db.raw('SELECT (SELECT count(*) FROM kb_categories WHERE source = ?) + (SELECT count(*) FROM kb_articles WHERE source = ?) AS n', [source, source]);
  return Number(rows[0]?.n ?? 0);
}

/** Where a migrated category (or section) lives in the target: links to it are rewritten to this (015). */
export async function setKbCategoryTarget(db: Knex, source: string, sourceId: string, url: string): Promise<void> {
  await db('kb_categories').where({ source, source_id: sourceId }).update({ target_url: url });
}

/** Loaded categories and sections: their target id and new address (null: not recorded yet, e.g. loaded before 015). */
export async function loadedKbCategories(db: Knex, source: string): Promise<{ sourceId: string; targetId: string; targetUrl: string | null }[]> {
  const rows = await db('kb_categories as c')
    .join('id_map as m', (j) => j.on('m.source', 'c.source').andOn('m.source_id', 'c.source_id').andOnVal('m.entity', 'kb_categories'))
    .where({ 'c.source': source, 'c.load_state': 'loaded' }).orderBy('c.source_id').select('c.source_id', 'm.target_id', 'c.target_url');
  return rows.map((r: any) => ({ sourceId: r.source_id, targetId: r.target_id, targetUrl: r.target_url }));
}

/** Load state (and reason) of the given categories/sections (`category:<id>`, `section:<id>`). */
export async function kbCategoryStates(db: Knex, source: string, ids: string[]): Promise<Map<string, { state: string; reason: string | null }>> {
  if (ids.length === 0) return new Map();
  const rows = await db('kb_categories').where({ source }).whereIn('source_id', [...new Set(ids)]).select('source_id', 'load_state', 'load_reason');
  return new Map(rows.map((r: any) => [r.source_id, { state: r.load_state, reason: r.load_reason }]));
}
