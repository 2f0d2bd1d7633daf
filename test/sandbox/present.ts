// Turns stored records into wire JSON: strips sandbox bookkeeping, maps renamed fields back,
// and builds the side-loaded `included` map for `includes=`.

import { isKind } from './model.ts';
import type { Kind, Ref, Tables } from './model.ts';
import type { Store } from './store.ts';
import type { WireShapes } from './shapes.ts';

export type Wire = Record<string, unknown>;

export function present<K extends Kind>(kind: K, rec: Tables[K], shapes: WireShapes): Wire {
  const { _sandbox: _ignored, ...rest } = rec as Tables[K] & { _sandbox?: unknown };
  const out: Wire = { ...rest };
  if (kind === 'tickets') {
    out.type = out.ticketType;
    delete out.ticketType;
  } else if (kind === 'contacts') {
    out.type = out.contactType;
    delete out.contactType;
  } else if (kind === 'users') {
    // Teamwork's user model has `state` (active|deleted) and no invitation field: the sandbox's
    // own invited/active bookkeeping stays off the wire.
    delete out.status;
  } else if (kind === 'customfields' && shapes.customFieldInboxes === 'ids') {
    out.inboxes = (out.inboxes as Ref[]).map((r) => r.id);
  } else if (kind === 'files' && shapes.fileNameKey === 'filename') {
    out.filename = out.fileName;
    delete out.fileName;
  } else if (kind === 'triggers') {
    out.type = out.triggerType;
    out.state = out.triggerState;
    delete out.triggerType;
    delete out.triggerState;
  }
  return out;
}

const isRef = (v: unknown): v is Ref =>
  typeof v === 'object' && v !== null && typeof (v as Ref).id === 'number' && typeof (v as Ref).type === 'string';

/** `includes=all` or a comma list of plural resource names. */
export function parseIncludes(q: URLSearchParams): Set<string> | 'all' {
  const raw = q.get('includes') ?? q.get('include');
  if (!raw) return new Set();
  const parts = raw.split(',').map((s) => s.trim()).filter(Boolean);
  return parts.includes('all') ? 'all' : new Set(parts);
}

export function buildIncluded(store: Store, records: Wire[], wanted: Set<string> | 'all'): Record<string, Wire[]> {
  const out: Record<string, Map<number, Wire>> = {};
  if (wanted !== 'all' && wanted.size === 0) return {};
  for (const rec of records) {
    for (const [field, value] of Object.entries(rec)) {
      if (field === 'createdBy' || field === 'updatedBy') continue;
      const refs = Array.isArray(value) ? value.filter(isRef) : isRef(value) ? [value] : [];
      for (const r of refs) {
        if (!isKind(r.type) || (wanted !== 'all' && !wanted.has(r.type))) continue;
        const target = store.get(r.type, r.id);
        if (!target) continue;
        (out[r.type] ??= new Map()).set(r.id, present(r.type, target, store.shapes()));
      }
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, m]) => [k, [...m.values()]]));
}

/** Sparse fieldsets: `fields=a,b` keeps those plus id and type. */
export function applyFields(rec: Wire, q: URLSearchParams): Wire {
  const raw = q.get('fields');
  if (!raw) return rec;
  const keep = new Set(['id', 'type', ...raw.split(',').map((s) => s.trim())]);
  return Object.fromEntries(Object.entries(rec).filter(([k]) => keep.has(k)));
}
