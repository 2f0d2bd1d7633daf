// List conventions of Desk v2: page/pageSize (lists clamp to 100; search allows 200 and
// resets out-of-range values to 50), orderBy/orderMode, and a Mongo-style JSON `filter`.

import { badRequest } from './errors.ts';

export interface Paging {
  page: number;
  pageSize: number;
}

export function parsePaging(q: URLSearchParams, mode: 'list' | 'search'): Paging {
  const rawPage = q.get('page');
  let page = 1;
  if (rawPage !== null) {
    page = Number(rawPage);
    if (!Number.isInteger(page) || page < 1) throw badRequest('page', 'must be an integer >= 1');
  }
  const rawSize = q.get('pageSize');
  const size = rawSize === null ? NaN : Number(rawSize);
  let pageSize: number;
  if (mode === 'search') {
    pageSize = Number.isInteger(size) && size >= 1 && size <= 200 ? size : 50;
  } else {
    pageSize = !Number.isInteger(size) || size < 1 ? 50 : Math.min(size, 100);
  }
  return { page, pageSize };
}

export function paginate<T>(items: T[], p: Paging): {
  items: T[];
  meta: { page: { count: number; pageSize: number; pageOffset: number; pages: number; hasMore: boolean } };
  pagination: { records: number; pageSize: number; pages: number; page: number; hasMorePages: boolean };
} {
  const count = items.length;
  const pages = Math.max(1, Math.ceil(count / p.pageSize));
  const offset = (p.page - 1) * p.pageSize;
  const hasMore = offset + p.pageSize < count;
  return {
    items: items.slice(offset, offset + p.pageSize),
    meta: { page: { count, pageSize: p.pageSize, pageOffset: offset, pages, hasMore } },
    pagination: { records: count, pageSize: p.pageSize, pages, page: p.page, hasMorePages: hasMore },
  };
}

/** Values an entity exposes to `filter`; arrays match when any element matches. */
export type FilterView = Record<string, unknown>;

type Pred = (v: FilterView) => boolean;

const OPS = new Set(['$eq', '$ne', '$lt', '$lte', '$gt', '$gte', '$in', '$nin', '$contains']);

export function parseFilter(q: URLSearchParams, allowed: readonly string[]): Pred {
  const raw = q.get('filter');
  if (raw === null || raw === '') return () => true;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw badRequest('filter', 'must be valid JSON');
  }
  return compile(parsed, allowed);
}

export function compile(node: unknown, allowed: readonly string[]): Pred {
  if (!isObj(node)) throw badRequest('filter', 'must be a JSON object');
  const preds: Pred[] = [];
  for (const [key, val] of Object.entries(node)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(val)) throw badRequest('filter', `${key} takes an array`);
      const subs = val.map((n) => compile(n, allowed));
      preds.push(key === '$and' ? (v) => subs.every((s) => s(v)) : (v) => subs.some((s) => s(v)));
      continue;
    }
    if (key.startsWith('$')) throw badRequest('filter', `unknown operator ${key}`);
    if (!allowed.includes(key)) throw badRequest('filter', `cannot filter on "${key}" (allowed: ${allowed.join(', ')})`);
    const conds: Array<[string, unknown]> = isObj(val) ? Object.entries(val) : [['$eq', val]];
    for (const [op, arg] of conds) {
      if (!OPS.has(op)) throw badRequest('filter', `unknown operator ${op}`);
      if ((op === '$in' || op === '$nin') && !Array.isArray(arg)) throw badRequest('filter', `${op} takes an array`);
      preds.push((v) => test(v[key], op, arg));
    }
  }
  return (v) => preds.every((p) => p(v));
}

function test(value: unknown, op: string, arg: unknown): boolean {
  const values = Array.isArray(value) ? value : [value];
  switch (op) {
    case '$eq': return values.some((x) => eq(x, arg));
    case '$ne': return !values.some((x) => eq(x, arg));
    case '$in': return values.some((x) => (arg as unknown[]).some((a) => eq(x, a)));
    case '$nin': return !values.some((x) => (arg as unknown[]).some((a) => eq(x, a)));
    case '$contains': return values.some((x) => typeof x === 'string' && x.toLowerCase().includes(String(arg).toLowerCase()));
    default: return values.some((x) => cmp(x, arg, op));
  }
}

// Strings (emails, names) compare case-insensitively; everything else strictly.
const eq = (a: unknown, b: unknown): boolean =>
  typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : a === b;

function cmp(a: unknown, b: unknown, op: string): boolean {
  if (a === null || a === undefined) return false;
  const x = typeof a === 'number' ? a : String(a);
  const y = typeof a === 'number' ? Number(b) : String(b);
  switch (op) {
    case '$lt': return x < y;
    case '$lte': return x <= y;
    case '$gt': return x > y;
    case '$gte': return x >= y;
    default: return false;
  }
}

export function sortBy<T>(items: T[], q: URLSearchParams, view: (t: T) => FilterView, allowed: readonly string[]): T[] {
  const by = q.get('orderBy') ?? 'id';
  const mode = (q.get('orderMode') ?? 'asc').toLowerCase();
  if (!allowed.includes(by) && by !== 'id') throw badRequest('orderBy', `cannot order by "${by}"`);
  if (mode !== 'asc' && mode !== 'desc') throw badRequest('orderMode', 'must be asc or desc');
  const sign = mode === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => {
    const x = view(a)[by] as string | number;
    const y = view(b)[by] as string | number;
    return (x < y ? -1 : x > y ? 1 : 0) * sign;
  });
}

export const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
