// Shared pieces of the resource routes: dependencies, envelopes, body and ref parsing.

import { Errors, notFound } from '../errors.ts';
import { applyFields, buildIncluded, parseIncludes, present } from '../present.ts';
import type { Wire } from '../present.ts';
import { isObj, paginate, parseFilter, parsePaging, sortBy } from '../query.ts';
import type { FilterView } from '../query.ts';
import type { Ctx, Reply, Router } from '../http.ts';
import type { Kind, Ref, Tables } from '../model.ts';
import type { Store } from '../store.ts';
import type { RuntimeConfig } from '../config.ts';

export interface Deps {
  store: Store;
  config: RuntimeConfig;
  /** Base URL of this server (for presigned upload URLs). */
  publicUrl: () => string;
}

export type Register = (r: Router, deps: Deps) => void;

export const V2 = '/desk/api/v2';

export const actorRef = (ctx: Ctx): Ref => ({ id: ctx.user.id, type: 'users' });

/** Wrapped write bodies (`{"customer": {...}}`): a missing wrapper reads as an empty object,
 * so the client gets the same "must be set" errors Desk gives for a mis-keyed body. */
export function unwrap(body: unknown, key: string): Record<string, unknown> {
  if (!isObj(body)) return {};
  const inner = body[key];
  return isObj(inner) ? inner : {};
}

export const flat = (body: unknown): Record<string, unknown> => (isObj(body) ? body : {});

export function single<K extends Kind>(store: Store, key: string, kind: K, rec: Tables[K], ctx: Ctx | null, status = 200, includeAll = false): Reply {
  const wire = present(kind, rec, store.shapes());
  const wanted = includeAll ? 'all' : ctx ? parseIncludes(ctx.query) : new Set<string>();
  const body = { [key]: ctx ? applyFields(wire, ctx.query) : wire, included: buildIncluded(store, [wire], wanted) };
  return { status, json: body };
}

export interface ListSpec<K extends Kind> {
  kind: K;
  key: string;
  filterKeys: readonly string[];
  view: (rec: Tables[K]) => FilterView;
  orderKeys?: readonly string[];
  mode?: 'list' | 'search';
  /** Extra narrowing applied before filter (e.g. site scope). */
  where?: (rec: Tables[K]) => boolean;
}

export function list<K extends Kind>(deps: Deps, ctx: Ctx, spec: ListSpec<K>, source?: Tables[K][]): Reply {
  const paging = parsePaging(ctx.query, spec.mode ?? 'list');
  const pred = parseFilter(ctx.query, spec.filterKeys);
  let items = (source ?? deps.store.list(spec.kind)).filter((r) => (spec.where ? spec.where(r) : true) && pred(spec.view(r)));
  items = sortBy(items, ctx.query, spec.view, spec.orderKeys ?? ['id', 'createdAt', 'updatedAt']);
  const page = paginate(items, paging);
  const wires: Wire[] = page.items.map((r) => present(spec.kind, r, deps.store.shapes()));
  return {
    status: 200,
    json: {
      [spec.key]: wires.map((w) => applyFields(w, ctx.query)),
      included: buildIncluded(deps.store, wires, parseIncludes(ctx.query)),
      meta: page.meta,
      pagination: page.pagination,
    },
  };
}

export function mustGet<K extends Kind>(store: Store, kind: K, id: string | number | undefined, source = kind as string): Tables[K] {
  const rec = store.get(kind, Number(id));
  if (!rec) throw notFound(source, `no ${kind} with id ${String(id)}`);
  return rec;
}

export const baseView = (r: { id: number; createdAt: string; updatedAt: string }): FilterView => ({
  id: r.id,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

/** Reads `{id}` refs. Returns undefined when absent; records errors for malformed/unknown ids. */
export function readRef(store: Store, errs: Errors, v: unknown, kind: Kind, source: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const id = isObj(v) ? v.id : undefined;
  if (typeof id !== 'number' || !Number.isInteger(id)) {
    errs.add(source, 'must be an object with an integer id');
    return undefined;
  }
  if (!store.get(kind, id)) {
    errs.unknownId(source, id);
    return undefined;
  }
  return id;
}

export function readRefs(store: Store, errs: Errors, v: unknown, kind: Kind, source: string): Array<{ id: number; del: boolean }> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) {
    errs.add(source, 'must be an array of {id}');
    return undefined;
  }
  const out: Array<{ id: number; del: boolean }> = [];
  v.forEach((item, i) => {
    const id = readRef(store, errs, item, kind, `${source}[${i}]`);
    const del = isObj(item) && (item.delete === true || (isObj(item.meta) && item.meta.delete === true));
    if (id !== undefined) out.push({ id, del });
  });
  return out;
}

export const str = (errs: Errors, body: Record<string, unknown>, key: string, source: string, required = false): string | undefined => {
  const v = body[key];
  if (v === undefined || v === null || v === '') {
    if (required) errs.required(source);
    return undefined;
  }
  if (typeof v !== 'string') {
    errs.add(source, 'must be a string');
    return undefined;
  }
  return v;
};

export const bool = (errs: Errors, body: Record<string, unknown>, key: string, source: string): boolean | undefined => {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') {
    errs.add(source, 'must be a boolean');
    return undefined;
  }
  return v;
};

export const strings = (errs: Errors, body: Record<string, unknown>, key: string, source: string): string[] | undefined => {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    errs.add(source, 'must be an array of strings');
    return undefined;
  }
  return v as string[];
};

// Pragmatic address check: one @, no spaces, a dot in the domain.
export const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const isEmail = (s: unknown): s is string => typeof s === 'string' && EMAIL_RE.test(s);

/** Copies optional string fields into `out`, validating types. */
export function copyStrings(errs: Errors, body: Record<string, unknown>, keys: readonly string[], prefix: string, out: Record<string, unknown>): void {
  for (const k of keys) {
    if (!(k in body)) continue;
    const v = body[k];
    if (v === null) out[k] = '';
    else if (typeof v === 'string') out[k] = v;
    else errs.add(`${prefix}.${k}`, 'must be a string');
  }
}

export { Errors };
