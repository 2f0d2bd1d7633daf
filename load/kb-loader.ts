import { join } from 'node:path';
import { kbLabelsMode, type Config } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import { escapeHtml } from '../core/html.ts';
import type { Logger } from '../core/log.ts';
import {
  claimForLoad, kbArticleStates, kbRowCount, kbArticleUrls, kbAttachmentsOfArticles, kbSourceHosts, loadedKbArticles, loadingCount, markFailed,
  kbCategoryStates, loadedKbCategories, markLoaded, pendingKbIds, recordKbUpload, replaceKbLinks, setKbArticleTarget, setKbCategoryTarget, setKbLoadNote, targetIds, upsertAttachments,
  type ClaimedRow, type Db, type KbAttachmentRow, type KbLinkRow,
} from '../staging/index.ts';
import type { CanonicalEntity, CanonicalKbArticle, CanonicalKbCategory } from '../staging/canonical.ts';
import { OutcomeUnknownError, type TeamworkDeskClient } from './client.ts';
import { forEachLimit } from './concurrency.ts';
import { uploadFileV2 } from './v2-api.ts';
import { articleAttachmentIdOf, findSourceLinks, rewriteHrefs, rewriteUrlAttrs } from './kb-links.ts';
import { listAll } from './target-directory.ts';

/**
 * The knowledge base (R8) after tickets: Help Center categories and sections → Help Docs
 * categories (parents first), articles (their attachments and inline images uploaded through
 * the files flow), then a link-rewrite pass: links to source articles and tickets inside the
 * bodies become the new addresses, and articles whose body changed are patched (`contents` only).
 * Idempotent like the other entities: a row tried before is looked up (by `oldURL`, else name or
 * title) before it is created again.
 */
export interface KbLoadDeps {
  db: Db; client: TeamworkDeskClient; log: Logger; config: Config;
  /** The Loader's id: its heartbeat keeps these claims fresh too. */
  loaderId: string;
  runId: number;
  count(entity: CanonicalEntity, outcome: 'loaded' | 'skipped' | 'failed', n?: number): void;
  signal?: AbortSignal | undefined;
}

interface Site { id: number; name?: string; subdomain?: string; customDomain?: string }
interface CategoryWire { id: number; name?: string; parent_id?: number | null; oldURL?: string; slug?: string }
interface ArticleWire { id: number; title?: string; slug?: string; oldURL?: string; categories?: number[] }

const envelopeId = (body: unknown, key: string): number | null => {
  const id = (body as Record<string, { id?: unknown }> | null)?.[key]?.id;
  return typeof id === 'number' ? id : null;
};

export async function loadKnowledgeBase(deps: KbLoadDeps): Promise<void> {
  const { db, config } = deps;
  const source = config.source.name;
  if ((await kbRowCount(db, source)) === 0) return; // no knowledge base staged: no calls
  const kb = new KbLoader(deps);
  let site: Site | null;
  try {
    site = await kb.site();
  } catch (err) {
    // E.g. a key without admin rights (sites are admin-only): the tickets are in; say why the KB is not.
    await kb.failAllPending(`could not read the target's Help Docs sites: ${errorMessage(err)}`);
    return;
  }
  if (!site) {
    await kb.failAllPending(config.target.helpDocsSiteId
      ? `Help Docs site ${config.target.helpDocsSiteId} (target.helpDocsSiteId) does not exist in the target`
      : 'the target has no Help Docs site; create one in Teamwork Desk or set target.helpDocsSiteId');
    return;
  }
  await kb.drain('kb_categories', 500, (rows) => kb.loadCategories(rows));
  await kb.drain('kb_articles', 20, (rows) => forEachLimit(rows, config.load.concurrency, (row) => kb.loadArticle(row)));
  if (!deps.signal?.aborted) await kb.rewriteLinks();
}

class KbLoader {
  private readonly source: string;
  private siteCache: Site | null | undefined;

  constructor(private readonly deps: KbLoadDeps) {
    this.source = deps.config.source.name;
  }

  /** The configured Help Docs site, else the target's first; null when there is none. */
  async site(): Promise<Site | null> {
    if (this.siteCache !== undefined) return this.siteCache;
    const { client, config } = this.deps;
    const sites = await listAll<Site>(client, 'helpdocssites');
    const wanted = config.target.helpDocsSiteId;
    this.siteCache = (wanted ? sites.find((s) => s.id === wanted) : sites[0]) ?? null;
    return this.siteCache;
  }

  async failAllPending(reason: string): Promise<void> {
    const { db, runId } = this.deps;
    for (const entity of ['kb_categories', 'kb_articles'] as const) {
      const ids = await pendingKbIds(db, entity, this.source);
      await markFailed(db, { entity, source: this.source, runId, sourceIds: ids, reason, fromStates: ['pending'] });
      this.deps.count(entity, 'failed', ids.length);
    }
    this.deps.log.warn({ reason }, 'knowledge base not migrated');
  }

  /** Claims and handles rows until none is pending or in another loader's hands. */
  async drain<E extends 'kb_categories' | 'kb_articles'>(entity: E, limit: number, handle: (rows: ClaimedRow<E>[]) => Promise<void>): Promise<void> {
    const { db, config, loaderId, signal } = this.deps;
    while (!signal?.aborted) {
      const rows = await claimForLoad(db, { entity, source: this.source, loaderId, limit, leaseSeconds: config.load.leaseSeconds });
      if (rows.length === 0) {
        if ((await loadingCount(db, entity, this.source)) === 0) return;
        await new Promise((r) => setTimeout(r, Math.min(1000, (config.load.leaseSeconds * 1000) / 4)));
        continue;
      }
      await handle(rows);
    }
  }

  private async fail(entity: 'kb_categories' | 'kb_articles', sourceId: string, err: unknown): Promise<void> {
    const retry = err instanceof OutcomeUnknownError;
    const reason = errorMessage(err);
    await markFailed(this.deps.db, { entity, source: this.source, runId: this.deps.runId, sourceIds: [sourceId], reason, retry, maxAttempts: this.deps.config.load.maxAttempts });
    if (!retry) this.deps.count(entity, 'failed');
    this.deps.log.warn({ entity, sourceId, reason }, retry ? 'outcome unknown; will look up and retry' : 'record failed');
  }

  private async loaded(entity: 'kb_categories' | 'kb_articles', sourceId: string, targetId: number): Promise<void> {
    await markLoaded(this.deps.db, { entity, source: this.source, runId: this.deps.runId, items: [{ sourceId, targetId: String(targetId) }] });
    this.deps.count(entity, 'loaded');
  }

  // ---- categories and sections ---------------------------------------------------------------

  /** One claimed batch, parents before children (a section may nest under a section of the same batch). */
  async loadCategories(rows: ClaimedRow<'kb_categories'>[]): Promise<void> {
    const { db } = this.deps;
    const parents = rows.map((r) => r.data.parentSourceId).filter((x): x is string => !!x);
    const known = await targetIds(db, this.source, 'kb_categories', parents);
    const inBatch = new Map(rows.map((r) => [r.sourceId, r]));
    const done = new Map<string, number | Error>();
    const visit = async (row: ClaimedRow<'kb_categories'>, path: Set<string>): Promise<void> => {
      if (done.has(row.sourceId)) return;
      const parentId = row.data.parentSourceId;
      let parentTarget: number | null = null;
      if (parentId) {
        const sibling = inBatch.get(parentId);
        if (sibling && !done.has(parentId) && !path.has(parentId)) await visit(sibling, new Set([...path, row.sourceId]));
        const d = done.get(parentId);
        parentTarget = typeof d === 'number' ? d : known.has(parentId) ? Number(known.get(parentId)) : null;
        if (parentTarget === null) {
          const why = d instanceof Error ? `its parent ${parentId} failed: ${d.message}` : `its parent ${parentId} was not migrated`;
          done.set(row.sourceId, new Error(why));
          await this.fail('kb_categories', row.sourceId, new Error(why));
          return;
        }
      }
      try {
        const category = (row.inDoubt ? await this.findCategory(row.data, parentTarget) : null) ?? await this.createCategory(row.data, parentTarget);
        done.set(row.sourceId, category.id);
        await setKbCategoryTarget(db, this.source, row.sourceId, await this.categoryUrl(category));
        await this.loaded('kb_categories', row.sourceId, category.id);
      } catch (err) {
        done.set(row.sourceId, err instanceof Error ? err : new Error(String(err)));
        await this.fail('kb_categories', row.sourceId, err);
      }
    };
    for (const row of rows) await visit(row, new Set());
  }

  private async findCategory(c: CanonicalKbCategory, parentId: number | null): Promise<CategoryWire | null> {
    const site = (await this.site())!;
    const filter = c.sourceUrl ? { 'sites.id': site.id, oldURL: c.sourceUrl } : { 'sites.id': site.id, name: c.name, parent_id: parentId };
    const found = await listAll<CategoryWire>(this.deps.client, 'helpdocscategories', { filter: JSON.stringify(filter) });
    return found[0] ?? null;
  }

  private async createCategory(c: CanonicalKbCategory, parentId: number | null): Promise<CategoryWire> {
    const { client } = this.deps;
    const site = (await this.site())!;
    const body = await client.request('POST', `${client.v2}/helpdocscategories.json`, {
      body: {
        helpdocscategory: {
          name: c.name, helpDocsSites_id: site.id, ...(parentId ? { parent_id: parentId } : {}),
          ...(c.position != null ? { displayOrder: c.position } : {}), ...(c.sourceUrl ? { oldURL: c.sourceUrl } : {}),
        },
      },
    });
    const id = envelopeId(body, 'helpdocscategory');
    if (id === null) throw new Error('category create answered without an id');
    return (body as Record<string, CategoryWire>).helpdocscategory!;
  }

  /** A category's new address (target.helpDocsCategoryUrl), for links to its Help Center section or category. */
  private async categoryUrl(category: CategoryWire): Promise<string> {
    return this.siteAddress(this.deps.config.target.helpDocsCategoryUrl, category.id, category.slug);
  }

  /**
   * Categories loaded before their address was recorded (an earlier deskport): read once each, so
   * links to them are rewritten too. A category the target no longer answers for stays unresolved.
   */
  private async categoryUrls(): Promise<Map<string, string>> {
    const { db, client, log } = this.deps;
    const out = new Map<string, string>();
    for (const c of await loadedKbCategories(db, this.source)) {
      if (c.targetUrl) {
        out.set(c.sourceId, c.targetUrl);
        continue;
      }
      try {
        const body = await client.request<{ helpdocscategory?: CategoryWire }>('GET', `${client.v2}/helpdocscategories/${c.targetId}.json`);
        if (!body?.helpdocscategory) continue;
        const url = await this.categoryUrl(body.helpdocscategory);
        await setKbCategoryTarget(db, this.source, c.sourceId, url);
        out.set(c.sourceId, url);
      } catch (err) {
        log.warn({ category: c.sourceId, reason: errorMessage(err) }, 'could not read a migrated category; links to it stay as they are');
      }
    }
    return out;
  }

  // ---- articles -------------------------------------------------------------------------------

  async loadArticle(row: ClaimedRow<'kb_articles'>): Promise<void> {
    const { db } = this.deps;
    const a = row.data;
    try {
      const categoryTarget = a.categorySourceId ? (await targetIds(db, this.source, 'kb_categories', [a.categorySourceId])).get(a.categorySourceId) : undefined;
      if (!categoryTarget) {
        // Desk requires at least one category per article.
        throw new Error(a.categorySourceId ? `its section ${a.categorySourceId} was not migrated` : 'it belongs to no section (Help Docs articles need a category)');
      }
      const files = await this.articleFiles(a);
      let contents = withLabels(withFiles(a.bodyHtml, files), a.tags, kbLabelsMode(this.deps.config));
      // Links whose target is already known are rewritten now; the pass after all articles does the rest.
      contents = rewriteHrefs(contents, await this.linkResolver([a]));
      const found = row.inDoubt ? await this.findArticle(a, Number(categoryTarget)) : null;
      const article = found ?? await this.createArticle(a, Number(categoryTarget), contents);
      await setKbArticleTarget(db, this.source, row.sourceId, { url: await this.articleUrl(article), contents });
      await this.loaded('kb_articles', row.sourceId, article.id);
      await setKbLoadNote(db, 'kb_articles', this.source, row.sourceId, fileNote(files));
    } catch (err) {
      await this.fail('kb_articles', row.sourceId, err);
    }
  }

  /**
   * The article's attachments (staged by the API extractor, or embedded in an export), each
   * uploaded once: an upload already recorded is reused. Failures are recorded, never dropped.
   */
  private async articleFiles(a: CanonicalKbArticle): Promise<KbAttachmentRow[]> {
    const { db, client, config, runId } = this.deps;
    let rows = (await kbAttachmentsOfArticles(db, this.source, [a.sourceId])).get(a.sourceId) ?? [];
    const have = new Set(rows.map((r) => r.sourceId));
    const missing = a.attachments.filter((x) => !have.has(x.sourceId));
    if (missing.length > 0) {
      // An export carries only the address: staging records that the bytes were never fetched.
      await upsertAttachments(db, missing.map((x) => ({
        source: this.source, sourceId: x.sourceId, kind: 'article' as const, ticketSourceId: null, commentSourceId: null, articleSourceId: a.sourceId,
        sourceUrl: x.url, fileName: x.fileName, contentType: x.contentType, size: x.size, sha256: null, blobPath: null, inline: x.inline,
        fetchState: 'failed' as const, reason: 'not fetched from the source (the export carries only its address)', attempts: 0, runId,
      })));
      rows = (await kbAttachmentsOfArticles(db, this.source, [a.sourceId])).get(a.sourceId) ?? [];
    }
    const blobDir = config.source.blobDir ?? join(config.workDir, 'blobs');
    for (const f of rows) {
      if (f.targetUrl || !f.fetched || !f.blobPath) continue;
      try {
        const up = await uploadFileV2(client, { path: join(blobDir, f.blobPath), fileName: f.fileName, contentType: f.contentType, inline: f.inline });
        await recordKbUpload(db, this.source, f.sourceId, { targetFileId: String(up.fileId), targetUrl: up.url });
        f.targetFileId = String(up.fileId);
        f.targetUrl = up.url;
        f.uploadError = null;
      } catch (err) {
        f.uploadError = errorMessage(err);
        await recordKbUpload(db, this.source, f.sourceId, { error: f.uploadError });
        this.deps.log.warn({ article: a.sourceId, attachment: f.sourceId, reason: f.uploadError }, 'article attachment upload failed; named in the body');
      }
    }
    return rows;
  }

  private async findArticle(a: CanonicalKbArticle, categoryId: number): Promise<ArticleWire | null> {
    const site = (await this.site())!;
    const filter = a.sourceUrl ? { 'sites.id': site.id, oldURL: a.sourceUrl } : { 'sites.id': site.id, title: articleTitle(a), categories: categoryId };
    // The list-all path is not under the resource's own name (listAll reads `body[resource]`).
    const { client } = this.deps;
    const body = await client.request<{ helpdocarticles?: ArticleWire[] }>('GET', `${client.v2}/helpdocssites/helpdocarticles.json`, {
      query: { filter: JSON.stringify(filter), pageSize: 100 },
    });
    return body?.helpdocarticles?.[0] ?? null;
  }

  private async createArticle(a: CanonicalKbArticle, categoryId: number, contents: string): Promise<ArticleWire> {
    const { client, config } = this.deps;
    const site = (await this.site())!;
    // R8: Help Docs articles have no tags; the labels go where kb.labels says (default: the description).
    const labels = kbLabelsMode(config) === 'description' && a.tags.length > 0 ? { description: labelsText(a.tags) } : {};
    const body = await client.request<Record<string, ArticleWire>>('POST', `${client.v2}/helpdocssites/${site.id}/helpdocarticles.json`, {
      body: {
        helpdocarticle: {
          title: articleTitle(a), contents, editMethod: 'html', status: a.draft ? 'Draft' : 'Published', categories: [categoryId],
          ...(a.sourceUrl ? { oldURL: a.sourceUrl } : {}), ...(a.position != null ? { displayOrder: a.position } : {}), ...labels,
        },
      },
    });
    const article = body?.helpdocarticle;
    if (!article || typeof article.id !== 'number') throw new Error('article create answered without an id');
    return article;
  }

  private async articleUrl(article: ArticleWire): Promise<string> {
    return this.siteAddress(this.deps.config.target.helpDocsArticleUrl, article.id, article.slug);
  }

  /** An address on the Help Docs site from a configured form ({siteUrl}, {id}, {slug}). */
  private async siteAddress(form: string, id: number, slug: string | undefined): Promise<string> {
    const site = (await this.site())!;
    const siteUrl = site.customDomain ? `https://${site.customDomain}` : `https://${site.subdomain ?? 'site'}.teamwork.com`;
    return form.replaceAll('{siteUrl}', siteUrl).replaceAll('{id}', String(id)).replaceAll('{slug}', slug || String(id));
  }

  // ---- link rewrite (R8) -----------------------------------------------------------------------

  /** Maps a source link to its new address when the target has what it points at. */
  private async linkResolver(articles: CanonicalKbArticle[]): Promise<(href: string) => string | null> {
    const { db, config } = this.deps;
    const hosts = await this.sourceHosts();
    const links = articles.flatMap((a) => findSourceLinks(a.bodyHtml, hosts));
    const articleUrls = await kbArticleUrls(db, this.source);
    const tickets = await targetIds(db, this.source, 'tickets', links.filter((l) => l.kind === 'ticket').map((l) => l.id));
    // Sections and categories are staged as `section:<id>` / `category:<id>` (their id spaces are distinct).
    const categoryUrls = links.some((l) => l.kind === 'section' || l.kind === 'category') ? await (this.categoryUrlCache ??= this.categoryUrls()) : new Map<string, string>();
    const byHref = new Map(links.map((l) => [l.href, l]));
    const base = (config.target.url ?? '').replace(/\/+$/, '');
    return (href) => {
      const l = byHref.get(href);
      if (!l) return null;
      if (l.kind === 'article') return articleUrls.get(l.id) ?? null;
      if (l.kind === 'section' || l.kind === 'category') return categoryUrls.get(`${l.kind}:${l.id}`) ?? null;
      const t = tickets.get(l.id);
      return t ? `${base}/desk/tickets/${t}` : null;
    };
  }

  /** Read once per load (articles load concurrently: they share the one read). */
  private categoryUrlCache: Promise<Map<string, string>> | undefined;

  private hostsCache: Set<string> | undefined;
  private async sourceHosts(): Promise<Set<string>> {
    if (!this.hostsCache) {
      this.hostsCache = await kbSourceHosts(this.deps.db, this.source);
      const url = this.deps.config.source.url;
      if (url && /^https?:\/\//.test(url)) this.hostsCache.add(new URL(url).host.toLowerCase());
    }
    return this.hostsCache;
  }

  /**
   * After every article exists: rewrite the links of each article's body, PATCH only those whose
   * body changed (only `contents`: Desk's PATCH erases fields sent empty), and record every link's
   * outcome in `kb_links` (the post-migration checklist lists the unresolved ones).
   */
  async rewriteLinks(): Promise<void> {
    const { db, client, config, runId, log } = this.deps;
    const articles = await loadedKbArticles(db, this.source);
    if (articles.length === 0) return;
    const hosts = await this.sourceHosts();
    const resolve = await this.linkResolver(articles.map((a) => a.data));
    const linksOf = new Map(articles.map((a) => [a.sourceId, findSourceLinks(a.data.bodyHtml, hosts)]));
    const all = [...linksOf.values()].flat();
    const states = await kbArticleStates(db, this.source, all.filter((l) => l.kind === 'article').map((l) => l.id));
    const categoryStates = await kbCategoryStates(db, this.source, all.filter((l) => l.kind === 'section' || l.kind === 'category').map((l) => `${l.kind}:${l.id}`));
    const files = await kbAttachmentsOfArticles(db, this.source, articles.map((a) => a.sourceId));
    const site = (await this.site())!;
    let patched = 0;
    await forEachLimit(articles, config.load.concurrency, async (a) => {
      const current = a.targetContents ?? '';
      const next = rewriteHrefs(current, resolve);
      let patchError: string | null = null;
      if (next !== current) {
        try {
          await client.request('PATCH', `${client.v2}/helpdocssites/${site.id}/helpdocarticles/${a.targetId}.json`, {
            idempotent: true, body: { helpdocarticle: { contents: next } },
          });
          await setKbArticleTarget(db, this.source, a.sourceId, { contents: next });
          patched++;
        } catch (err) {
          patchError = errorMessage(err);
          log.warn({ article: a.sourceId, reason: patchError }, 'article link rewrite failed');
        }
      }
      const links: KbLinkRow[] = (linksOf.get(a.sourceId) ?? []).map((l) => {
        const url = resolve(l.href);
        if (url && !patchError) return { articleSourceId: a.sourceId, href: l.href, kind: l.kind, targetSourceId: l.id, state: 'rewritten', newUrl: url, reason: null };
        return { articleSourceId: a.sourceId, href: l.href, kind: l.kind, targetSourceId: l.id, state: 'unresolved', newUrl: url, reason: patchError ? `the PATCH failed: ${patchError}` : missingReason(l.kind, l.id, l.kind === 'section' || l.kind === 'category' ? categoryStates : states) };
      });
      await replaceKbLinks(db, this.source, runId, [a.sourceId], links);
      const unresolved = links.filter((l) => l.state === 'unresolved').length;
      const notes = [fileNote(files.get(a.sourceId) ?? []), unresolved > 0 ? `${unresolved} link(s) left pointing at the source (kb_links)` : null].filter(Boolean);
      await setKbLoadNote(db, 'kb_articles', this.source, a.sourceId, notes.length > 0 ? notes.join('; ') : null);
    });
    log.info({ articles: articles.length, patched }, 'knowledge base links rewritten');
  }
}

function articleTitle(a: CanonicalKbArticle): string {
  return a.title.trim() || `(untitled article ${a.sourceId})`;
}

function missingReason(kind: KbLinkRow['kind'], id: string, states: Map<string, { state: string; reason: string | null }>): string {
  if (kind === 'ticket') return `ticket ${id} is not in the target`;
  const s = states.get(kind === 'article' ? id : `${kind}:${id}`);
  if (!s) return `${kind} ${id} is not in the source data`;
  if (s.state === 'loaded') return `${kind} ${id} is in the target, but its new address could not be read`;
  return `${kind} ${id} is ${s.state}${s.reason ? `: ${s.reason}` : ''}`;
}

const labelsText = (tags: string[]) => `Labels: ${tags.join(', ')}`;

/** kb.labels: footer — the labels as the body's last line. */
export function withLabels(html: string, tags: string[], mode: 'description' | 'footer' | 'none'): string {
  return mode === 'footer' && tags.length > 0 ? `${html}\n<p><em>${escapeHtml(labelsText(tags))}</em></p>` : html;
}

/**
 * The body with its attachments in place: inline images and links to attachments point at the
 * uploaded files, and every uploaded attachment (an inline image only when the body does not show
 * it) is listed under an "Attachments" heading with a link to the file's download address (as
 * Zendesk lists them below the article) — Help Docs documents no file relation for articles, so the
 * body is what ties a file to its article. Any attachment that could not be migrated is named with
 * the reason.
 */
export function withFiles(html: string, files: KbAttachmentRow[]): string {
  const byUrl = new Map<string, KbAttachmentRow>();
  const byId = new Map<string, KbAttachmentRow>();
  for (const f of files) {
    byUrl.set(f.sourceUrl, f);
    const id = articleAttachmentIdOf(f.sourceUrl);
    if (id) byId.set(id, f);
  }
  const shown = new Set<string>();
  const body = rewriteUrlAttrs(html, (url) => {
    const aid = articleAttachmentIdOf(url);
    const f = byUrl.get(url) ?? (aid ? byId.get(aid) : undefined);
    if (!f) return null;
    shown.add(f.sourceId);
    return f.targetUrl ?? null;
  });
  const listed = files.filter((f) => f.targetUrl && !(f.inline && shown.has(f.sourceId)));
  const failed = files.filter((f) => !f.targetUrl);
  let out = body;
  if (listed.length > 0) {
    out += `\n<p><strong>Attachments</strong></p><ul>${listed.map((f) => `<li><a href="${escapeHtml(f.targetUrl!)}">${escapeHtml(f.fileName)}</a></li>`).join('')}</ul>`;
  }
  if (failed.length > 0) {
    out += `\n<p><em>Not migrated: ${failed.map((f) => `${escapeHtml(f.fileName)} (${escapeHtml(f.uploadError ?? f.reason ?? 'not fetched')})`).join('; ')}</em></p>`;
  }
  return out;
}

function fileNote(files: KbAttachmentRow[]): string | null {
  const failed = files.filter((f) => !f.targetUrl);
  return failed.length > 0 ? `attachment(s) not migrated: ${failed.map((f) => `${f.fileName} (${f.uploadError ?? f.reason ?? 'not fetched'})`).join('; ')}` : null;
}
