// Help Docs: sites (read-only over the API), categories (PATCH update), and site-scoped
// articles. Article PATCH binds the body over the stored article and revalidates: a field
// sent as null/zero erases it (documented from the MCP tests), e.g. categories: null → 400.

import { badRequest } from '../errors.ts';
import type { Ctx, Router } from '../http.ts';
import type { HelpDocArticle, HelpDocsCategory } from '../model.ts';
import { isObj } from '../query.ts';
import { ref } from '../store.ts';
import { Errors, V2, actorRef, baseView, bool, list, mustGet, single, str, unwrap } from './common.ts';
import type { Deps } from './common.ts';

const slugify = (s: string): string => s.toLowerCase().normalize('NFKD').replace(/[^\w\s-]/g, '').trim().replace(/[\s_]+/g, '-').replace(/-+/g, '-');

const ARTICLE_FIELDS: Record<string, 'string' | 'bool' | 'number' | 'ids'> = {
  title: 'string', contents: 'string', description: 'string', status: 'string', isPrivate: 'bool', categories: 'ids',
  relatedArticles: 'ids', slug: 'string', oldURL: 'string', displayOrder: 'number', editMethod: 'string',
  disqusEnabled: 'bool', popularity: 'number',
};
const ZERO = { string: '', bool: false, number: 0, ids: [] as number[] };

function bindArticle(errs: Errors, body: Record<string, unknown>, base: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, kind] of Object.entries(ARTICLE_FIELDS)) {
    if (!(k in body)) continue;
    const v = body[k];
    if (v === null) { out[k] = Array.isArray(ZERO[kind]) ? [] : ZERO[kind]; continue; }
    const ok = kind === 'string' ? typeof v === 'string'
      : kind === 'bool' ? typeof v === 'boolean'
        : kind === 'number' ? typeof v === 'number'
          : Array.isArray(v) && v.every((x) => Number.isInteger(x));
    if (!ok) errs.add(k, kind === 'ids' ? 'must be an array of ids' : `must be a ${kind === 'bool' ? 'boolean' : kind}`);
    else out[k] = v;
  }
  return out;
}

function validateArticle(deps: Deps, errs: Errors, a: Record<string, unknown>, siteId: number, selfId: number | null): void {
  const { store } = deps;
  if (!a.title) errs.required('title');
  if (a.editMethod !== 'html') errs.required('contents'); // what Desk answers for markdown/htmlSource
  const cats = a.categories as number[];
  if (!cats.length) errs.required('categories');
  cats.forEach((id, i) => {
    const c = store.get('helpdocscategories', id);
    if (!c) errs.unknownId(`categories[${i}]`, id);
    else if (c.helpDocsSites_id !== siteId) errs.add(`categories[${i}]`, `category ${id} belongs to another site`);
  });
  (a.relatedArticles as number[]).forEach((id, i) => {
    if (id === selfId || !store.get('helpdocarticles', id)) errs.unknownId(`relatedArticles[${i}]`, id);
  });
  const status = String(a.status).toLowerCase();
  if (status !== 'draft' && status !== 'published') errs.add('status', 'must be "Draft" or "Published"', a.status ? 'invalid' : 'required');
  else a.status = status === 'draft' ? 'Draft' : 'Published';
}

function saveCategory(deps: Deps, ctx: Ctx, existing: HelpDocsCategory | null): HelpDocsCategory {
  const { store } = deps;
  const body = unwrap(ctx.body, 'helpdocscategory');
  const errs = new Errors();
  const name = str(errs, body, 'name', 'helpdocscategory.name', !existing);
  const siteRaw = body.helpDocsSites_id;
  let siteId = existing?.helpDocsSites_id;
  if (siteRaw !== undefined || !existing) {
    if (typeof siteRaw !== 'number') errs.required('helpdocscategory.helpDocsSites_id');
    else if (!store.get('helpdocssites', siteRaw)) errs.unknownId('helpdocscategory.helpDocsSites_id', siteRaw);
    else siteId = siteRaw;
  }
  const patch: Partial<HelpDocsCategory> = {};
  if (name) patch.name = name;
  if (siteId !== undefined) patch.helpDocsSites_id = siteId;
  if (body.parent_id !== undefined) {
    const p = body.parent_id;
    if (p === null || p === 0) patch.parent_id = null;
    else if (typeof p !== 'number' || !store.get('helpdocscategories', p)) errs.unknownId('helpdocscategory.parent_id', p);
    else if (store.get('helpdocscategories', p)!.helpDocsSites_id !== siteId) errs.add('helpdocscategory.parent_id', 'parent belongs to another site');
    else if (p === existing?.id) errs.add('helpdocscategory.parent_id', 'a category cannot be its own parent');
    else patch.parent_id = p;
  }
  const slug = str(errs, body, 'slug', 'helpdocscategory.slug');
  if (slug !== undefined) patch.slug = slug;
  const oldURL = str(errs, body, 'oldURL', 'helpdocscategory.oldURL');
  if (oldURL !== undefined) patch.oldURL = oldURL;
  if (body.displayOrder !== undefined) {
    if (typeof body.displayOrder !== 'number') errs.add('helpdocscategory.displayOrder', 'must be a number');
    else patch.displayOrder = body.displayOrder;
  }
  const home = bool(errs, body, 'displayOnDocHomepage', 'helpdocscategory.displayOnDocHomepage');
  if (home !== undefined) patch.displayOnDocHomepage = home;
  errs.throwIfAny();
  const actor = actorRef(ctx);
  if (existing) return store.update('helpdocscategories', existing.id, patch, actor);
  return store.insert('helpdocscategories', {
    name: name!, slug: slugify(name!), parent_id: null, helpDocsSites_id: siteId!, displayOrder: 0, oldURL: '', displayOnDocHomepage: true, ...patch,
  }, actor);
}

function saveArticle(deps: Deps, ctx: Ctx, siteId: number, existing: HelpDocArticle | null): HelpDocArticle {
  const { store } = deps;
  // Only the lowercase wrapper counts; `helpDocArticle` is ignored → "title: must be set".
  const body = unwrap(ctx.body, 'helpdocarticle');
  const errs = new Errors();
  const base: Record<string, unknown> = existing ? { ...existing } : {
    title: '', contents: '', description: '', status: 'Draft', isPrivate: false, categories: [], relatedArticles: [],
    slug: '', oldURL: '', displayOrder: 0, editMethod: 'html', disqusEnabled: false, popularity: 0,
  };
  const next = bindArticle(errs, body, base);
  validateArticle(deps, errs, next, siteId, existing?.id ?? null);
  errs.throwIfAny();
  if (!next.slug) next.slug = slugify(String(next.title));
  const fields = Object.fromEntries(Object.keys(ARTICLE_FIELDS).map((k) => [k, next[k]])) as Partial<HelpDocArticle>;
  const actor = actorRef(ctx);
  if (existing) return store.update('helpdocarticles', existing.id, fields, actor);
  return store.insert('helpdocarticles', { ...(fields as Omit<HelpDocArticle, 'site'>), site: ref('helpdocssites', siteId) } as never, actor);
}

function siteArticle(deps: Deps, ctx: Ctx): HelpDocArticle {
  const site = mustGet(deps.store, 'helpdocssites', ctx.params.siteId, 'site');
  const a = mustGet(deps.store, 'helpdocarticles', ctx.params.id, 'helpdocarticle');
  if (a.site.id !== site.id) throw badRequest('helpdocarticle', `article ${a.id} is not on site ${site.id}`, 'not_found');
  return a;
}

export function registerHelpDocs(r: Router, deps: Deps): void {
  const { store } = deps;
  const so = { family: 'helpdocs' };
  r.add('GET', `${V2}/helpdocssites.json`, 'v2', so, (ctx) => list(deps, ctx, {
    kind: 'helpdocssites', key: 'helpdocssites', filterKeys: ['id', 'name', 'subdomain'],
    view: (s) => ({ ...baseView(s), name: s.name, subdomain: s.subdomain }),
  }));
  r.add('GET', `${V2}/helpdocssites/:id.json`, 'v2', so, (ctx) => single(store, 'helpdocssite', 'helpdocssites', mustGet(store, 'helpdocssites', ctx.params.id), ctx));

  r.add('GET', `${V2}/helpdocscategories.json`, 'v2', so, (ctx) => list(deps, ctx, {
    kind: 'helpdocscategories', key: 'helpdocscategories', filterKeys: ['id', 'name', 'slug', 'sites.id', 'parent_id', 'oldURL'],
    orderKeys: ['id', 'name', 'displayOrder'],
    view: (c) => ({ ...baseView(c), name: c.name, slug: c.slug, 'sites.id': c.helpDocsSites_id, parent_id: c.parent_id, oldURL: c.oldURL, displayOrder: c.displayOrder }),
  }));
  r.add('GET', `${V2}/helpdocscategories/:id.json`, 'v2', so, (ctx) =>
    single(store, 'helpdocscategory', 'helpdocscategories', mustGet(store, 'helpdocscategories', ctx.params.id), ctx));
  r.add('POST', `${V2}/helpdocscategories.json`, 'v2', so, (ctx) =>
    single(store, 'helpdocscategory', 'helpdocscategories', saveCategory(deps, ctx, null), null, 201));
  r.add('PATCH', `${V2}/helpdocscategories/:id.json`, 'v2', so, (ctx) =>
    single(store, 'helpdocscategory', 'helpdocscategories', saveCategory(deps, ctx, mustGet(store, 'helpdocscategories', ctx.params.id)), null));
  r.add('DELETE', `${V2}/helpdocscategories/:id.json`, 'v2', so, (ctx) => {
    const c = mustGet(store, 'helpdocscategories', ctx.params.id);
    const errs = new Errors();
    if (store.list('helpdocarticles').some((a) => a.categories.includes(c.id))) errs.add('helpdocscategory', 'category still has articles; delete or move them first', 'in_use');
    if (store.list('helpdocscategories').some((x) => x.parent_id === c.id)) errs.add('helpdocscategory', 'category still has subcategories', 'in_use');
    errs.throwIfAny();
    store.softDelete('helpdocscategories', c.id, actorRef(ctx));
    return { status: 204 };
  });

  const A = `${V2}/helpdocssites/:siteId/helpdocarticles`;
  r.add('GET', `${V2}/helpdocssites/helpdocarticles.json`, 'v2', so, (ctx) => list(deps, ctx, {
    kind: 'helpdocarticles', key: 'helpdocarticles',
    filterKeys: ['id', 'title', 'status', 'slug', 'oldURL', 'categories', 'categories.id', 'sites.id', 'isPrivate'],
    orderKeys: ['id', 'title', 'displayOrder', 'createdAt', 'updatedAt'],
    view: (a) => ({ ...baseView(a), title: a.title, status: a.status, slug: a.slug, oldURL: a.oldURL, categories: a.categories,
      'categories.id': a.categories, 'sites.id': a.site.id, isPrivate: a.isPrivate, displayOrder: a.displayOrder }),
  }));
  r.add('POST', `${A}.json`, 'v2', so, (ctx) => {
    const site = mustGet(store, 'helpdocssites', ctx.params.siteId, 'site');
    return single(store, store.shapes().articleKey, 'helpdocarticles', saveArticle(deps, ctx, site.id, null), null, 201);
  });
  r.add('GET', `${A}/:id.json`, 'v2', so, (ctx) => single(store, store.shapes().articleKey, 'helpdocarticles', siteArticle(deps, ctx), ctx));
  r.add('PATCH', `${A}/:id.json`, 'v2', so, (ctx) => {
    const a = siteArticle(deps, ctx);
    if (!isObj(ctx.body)) throw badRequest('body', 'must be {"helpdocarticle": {...}}', 'required');
    return single(store, store.shapes().articleKey, 'helpdocarticles', saveArticle(deps, ctx, a.site.id, a), null);
  });
  r.add('DELETE', `${A}/:id.json`, 'v2', so, (ctx) => {
    const a = siteArticle(deps, ctx);
    store.softDelete('helpdocarticles', a.id, actorRef(ctx));
    return { status: 204 };
  });
}
