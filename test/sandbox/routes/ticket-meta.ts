// Ticket statuses, priorities, types and sources: list/get/create/update (PUT).
// Envelope keys per the SDK: ticketstatus(es), ticketpriority/ticketpriorities,
// tickettype(s), ticketSource/ticketSources (camelCase).

import type { Router } from '../http.ts';
import type { Kind, Tables } from '../model.ts';
import { Errors, V2, actorRef, baseView, bool, list, mustGet, readRefs, single, str, unwrap } from './common.ts';
import type { Deps } from './common.ts';

type MetaKind = 'ticketstatuses' | 'ticketpriorities' | 'tickettypes' | 'ticketsources';

const KEYS: Record<MetaKind, [string, string]> = {
  ticketstatuses: ['ticketstatus', 'ticketstatuses'],
  ticketpriorities: ['ticketpriority', 'ticketpriorities'],
  tickettypes: ['tickettype', 'tickettypes'],
  ticketsources: ['ticketSource', 'ticketSources'],
};

export function findByName<K extends Kind>(deps: Deps, kind: K, name: string): Tables[K] | undefined {
  const lc = name.toLowerCase();
  return deps.store.list(kind).find((r) => String((r as { name?: string }).name ?? '').toLowerCase() === lc);
}

function register<K extends MetaKind>(r: Router, deps: Deps, kind: K): void {
  const { store } = deps;
  const [one, many] = KEYS[kind];
  const o = { family: kind };
  r.add('GET', `${V2}/${kind}.json`, 'v2', o, (ctx) => list(deps, ctx, {
    kind, key: many, filterKeys: ['id', 'name', 'code', 'createdAt', 'updatedAt', 'inboxes.id'], orderKeys: ['id', 'name'],
    view: (x) => ({ ...baseView(x), name: (x as { name: string }).name, code: (x as { code?: string }).code,
      'inboxes.id': ((x as { inboxes?: Array<{ id: number }> }).inboxes ?? []).map((i) => i.id) }),
  }));
  r.add('GET', `${V2}/${kind}/:id.json`, 'v2', o, (ctx) => single(store, one, kind, mustGet(store, kind, ctx.params.id), ctx));
  const save = (ctxBody: unknown, existing: Tables[K] | null, actorCtx: Parameters<typeof actorRef>[0]) => {
    const body = unwrap(ctxBody, one);
    const errs = new Errors();
    const name = str(errs, body, 'name', `${one}.name`, !existing);
    if (name) {
      const clash = findByName(deps, kind, name);
      if (clash && clash.id !== existing?.id) errs.add(`${one}.name`, `"${name}" already exists (id ${clash.id})`, 'duplicate');
    }
    const patch: Record<string, unknown> = name ? { name } : {};
    const color = str(errs, body, 'color', `${one}.color`);
    if (color !== undefined) patch.color = color;
    if (kind === 'ticketstatuses') {
      const code = str(errs, body, 'code', `${one}.code`);
      if (code !== undefined) patch.code = code;
    }
    if (kind === 'tickettypes') {
      const inboxes = readRefs(store, errs, body.inboxes, 'inboxes', `${one}.inboxes`);
      if (inboxes) patch.inboxes = inboxes.filter((x) => !x.del).map((x) => ({ id: x.id, type: 'inboxes' }));
      const future = bool(errs, body, 'enabledForFutureInboxes', `${one}.enabledForFutureInboxes`);
      if (future !== undefined) patch.enabledForFutureInboxes = future;
    }
    errs.throwIfAny();
    const actor = actorRef(actorCtx);
    if (existing) return store.update(kind, existing.id, patch as Partial<Tables[K]>, actor);
    const defaults: Record<MetaKind, Record<string, unknown>> = {
      ticketstatuses: { code: name!.toLowerCase().replace(/\s+/g, '-'), color: '#9e9e9e', isCustom: true },
      ticketpriorities: { color: '#9e9e9e' },
      tickettypes: { inboxes: [], enabledForFutureInboxes: false },
      ticketsources: { isCustom: true },
    };
    return store.insert(kind, { ...defaults[kind], ...patch } as never, actor);
  };
  r.add('POST', `${V2}/${kind}.json`, 'v2', o, (ctx) => single(store, one, kind, save(ctx.body, null, ctx), null, 201, true));
  r.add('PUT', `${V2}/${kind}/:id.json`, 'v2', o, (ctx) => single(store, one, kind, save(ctx.body, mustGet(store, kind, ctx.params.id), ctx), null, 200, true));
}

export function registerTicketMeta(r: Router, deps: Deps): void {
  register(r, deps, 'ticketstatuses');
  register(r, deps, 'ticketpriorities');
  register(r, deps, 'tickettypes');
  register(r, deps, 'ticketsources');
}
