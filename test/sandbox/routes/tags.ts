// Tags: {"tag": {name, color}}; names unique (case-insensitive).

import type { Ctx, Router } from '../http.ts';
import type { Tag } from '../model.ts';
import { Errors, V2, actorRef, baseView, list, mustGet, single, str, unwrap } from './common.ts';
import type { Deps } from './common.ts';

function save(deps: Deps, ctx: Ctx, existing: Tag | null): Tag {
  const { store } = deps;
  const body = unwrap(ctx.body, 'tag');
  const errs = new Errors();
  const name = str(errs, body, 'name', 'tag.name', !existing);
  const color = str(errs, body, 'color', 'tag.color');
  if (name && name.length > 100) errs.add('tag.name', 'must be at most 100 characters', 'too_long');
  const clash = name && store.list('tags').find((t) => t.name.toLowerCase() === name.toLowerCase() && t.id !== existing?.id);
  if (clash) errs.add('tag.name', `tag "${name}" already exists (id ${clash.id})`, 'duplicate');
  errs.throwIfAny();
  const actor = actorRef(ctx);
  if (existing) return store.update('tags', existing.id, { ...(name ? { name } : {}), ...(color !== undefined ? { color } : {}) }, actor);
  return store.insert('tags', { name: name!, color: color ?? '' }, actor);
}

export function registerTags(r: Router, deps: Deps): void {
  const { store } = deps;
  const o = { family: 'tags' };
  r.add('GET', `${V2}/tags.json`, 'v2', o, (ctx) => list(deps, ctx, {
    kind: 'tags', key: 'tags', filterKeys: ['id', 'name', 'color', 'createdAt', 'updatedAt'], orderKeys: ['id', 'name'],
    view: (t) => ({ ...baseView(t), name: t.name, color: t.color }),
  }));
  r.add('GET', `${V2}/tags/:id.json`, 'v2', o, (ctx) => single(store, 'tag', 'tags', mustGet(store, 'tags', ctx.params.id), ctx));
  r.add('POST', `${V2}/tags.json`, 'v2', o, (ctx) => single(store, 'tag', 'tags', save(deps, ctx, null), null, 201));
  r.add('PUT', `${V2}/tags/:id.json`, 'v2', o, (ctx) => single(store, 'tag', 'tags', save(deps, ctx, mustGet(store, 'tags', ctx.params.id)), null));
  r.add('DELETE', `${V2}/tags/:id.json`, 'v2', o, (ctx) => {
    const t = mustGet(store, 'tags', ctx.params.id);
    store.softDelete('tags', t.id, actorRef(ctx));
    return { status: 204 };
  });
}
