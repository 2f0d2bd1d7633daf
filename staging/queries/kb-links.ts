import type { Knex } from 'knex';

export interface KbLinkRow {
  articleSourceId: string;
  href: string;
  kind: 'article' | 'ticket' | 'section' | 'category';
  targetSourceId: string | null;
  state: 'rewritten' | 'unresolved';
  newUrl: string | null;
  reason: string | null;
}

/** Replaces what staging knows of the links of these articles (one pass's findings). */
export async function replaceKbLinks(db: Knex, source: string, runId: number, articleIds: string[], links: KbLinkRow[]): Promise<void> {
  if (articleIds.length === 0) return;
  await db.transaction(async (trx) => {
    await trx('kb_links').where({ source }).whereIn('article_source_id', articleIds).delete();
    const unique = new Map(links.map((l) => [`${l.articleSourceId}\n${l.href}`, l]));
    for (let i = 0; i < unique.size; i += 500) {
      const chunk = [...unique.values()].slice(i, i + 500);
      await trx('kb_links').insert(chunk.map((l) => ({
        source, article_source_id: l.articleSourceId, href: l.href, kind: l.kind, target_source_id: l.targetSourceId,
        state: l.state, new_url: l.newUrl, reason: l.reason, run_id: runId,
      })));
    }
  });
}

export interface UnrewrittenKbLink {
  source: string;
  articleSourceId: string;
  articleTitle: string | null;
  articleTargetUrl: string | null;
  href: string;
  kind: string;
  targetSourceId: string | null;
  reason: string | null;
}

/**
 * Links in migrated articles that still point at the source (their target is missing): what the
 * post-migration checklist asks the operator to fix by hand (R22). `runId` limits the list to
 * links the rewrite pass of that run looked at; omitted, every run's.
 */
export async function unrewrittenKbLinks(db: Knex, runId?: number): Promise<UnrewrittenKbLink[]> {
  const q = db('kb_links as l')
    .leftJoin('kb_articles as a', (j) => j.on('a.source', 'l.source').andOn('a.source_id', 'l.article_source_id'))
    .where('l.state', 'unresolved')
    .orderBy([{ column: 'l.source' }, { column: 'l.article_source_id' }, { column: 'l.href' }])
    .select('l.source', 'l.article_source_id', db.raw("a.data->>'title' AS title"), 'a.target_url', 'l.href', 'l.kind', 'l.target_source_id', 'l.reason');
  if (runId !== undefined) q.where('l.run_id', runId);
  const rows = await q;
  return rows.map((r: any) => ({
    source: r.source, articleSourceId: r.article_source_id, articleTitle: r.title, articleTargetUrl: r.target_url, href: r.href,
    kind: r.kind, targetSourceId: r.target_source_id, reason: r.reason,
  }));
}

/** Per state, how many links the rewrite pass found (the report's KB line). */
export async function kbLinkCounts(db: Knex, source: string): Promise<{ rewritten: number; unresolved: number }> {
  const rows = await db('kb_links').where({ source }).select('state').count('* as n').groupBy('state');
  const get = (s: string) => Number(rows.find((r: any) => r.state === s)?.n ?? 0);
  return { rewritten: get('rewritten'), unresolved: get('unresolved') };
}

export interface KbChecklistFacts {
  /** Links left pointing at the source (see `unrewrittenKbLinks`). */
  unrewrittenLinks: UnrewrittenKbLink[];
  /** Article attachments and inline images not in the target (named in the article body too). */
  attachmentsNotMigrated: { articleSourceId: string; fileName: string | null; reason: string }[];
  /**
   * Migrated articles whose original created/updated dates exist only in staging (Help Docs has
   * no writable date fields): `kb_articles.data->>'createdAt'` / `'updatedAt'`.
   */
  articlesWithSourceDatesOnly: number;
  /** Migrated articles with Help Center labels (`data->'tags'`): where they went follows kb.labels. */
  articlesWithLabels: number;
  /** Article attachments uploaded and linked from their article's body. */
  articleAttachmentsLinked: number;
}

/** What the post-migration checklist (R22) says about the knowledge base. */
export async function kbChecklistFacts(db: Knex, runId?: number): Promise<KbChecklistFacts> {
  const loaded = db('kb_articles').where({ load_state: 'loaded' });
  if (runId !== undefined) loaded.where({ load_run_id: runId });
  const [dates] = await loaded.clone().whereRaw("data->>'createdAt' IS NOT NULL").count<{ n: string }[]>('* as n');
  const [labels] = await loaded.clone().whereRaw("jsonb_array_length(data->'tags') > 0").count<{ n: string }[]>('* as n');
  const files = await db('attachments').where({ kind: 'article' }).whereNull('target_url')
    .whereIn(['source', 'article_source_id'], loaded.clone().select('source', 'source_id'))
    .orderBy(['article_source_id', 'source_id']).select('article_source_id', 'file_name', 'upload_error', 'reason');
  const [linked] = await db('attachments').where({ kind: 'article' }).whereNotNull('target_url')
    .whereIn(['source', 'article_source_id'], loaded.clone().select('source', 'source_id')).count<{ n: string }[]>('* as n');
  return {
    articleAttachmentsLinked: Number(linked?.n ?? 0),
    unrewrittenLinks: await unrewrittenKbLinks(db, runId),
    attachmentsNotMigrated: files.map((f: any) => ({ articleSourceId: f.article_source_id, fileName: f.file_name, reason: f.upload_error ?? f.reason ?? 'not fetched' })),
    articlesWithSourceDatesOnly: Number(dates?.n ?? 0),
    articlesWithLabels: Number(labels?.n ?? 0),
  };
}
