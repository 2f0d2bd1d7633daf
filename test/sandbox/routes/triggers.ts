// Triggers (teamwork-desk-api.md §11): `POST /triggers.json` and `PATCH /triggers/{id}.json` with
// `{"trigger": {name, description, state, type, …}, "included": {triggeractions, conditions},
// "applyToExistingTickets": bool}`, as Teamwork's samples; GET list/one by the v2 convention;
// DELETE. `state` is "active" or "inactive" (the sandbox's reading: Teamwork shows only
// "active"); anything else is refused. An empty or absent `included` list leaves the trigger's
// actions or conditions as they are (the update sample: "empty if there is no change").

import type { Ctx, Router } from '../http.ts';
import { isObj } from '../query.ts';
import type { Trigger } from '../model.ts';
import { Errors, V2, actorRef, baseView, bool, flat, list, mustGet, readRefs, single, str, unwrap } from './common.ts';
import type { Deps } from './common.ts';

const STATES = ['active', 'inactive'] as const;
const TYPES = ['Automatic', 'Manual'] as const;

function included(body: unknown, key: 'triggeractions' | 'conditions', errs: Errors): Record<string, unknown>[] | undefined {
  const inc = flat(body).included;
  if (inc === undefined || inc === null) return undefined;
  if (!isObj(inc)) {
    errs.add('included', 'must be an object');
    return undefined;
  }
  const v = inc[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => !isObj(x))) {
    errs.add(`included.${key}`, 'must be an array of objects');
    return undefined;
  }
  return v.length > 0 ? (v as Record<string, unknown>[]) : undefined;
}

function save(deps: Deps, ctx: Ctx, existing: Trigger | null): Trigger {
  const { store } = deps;
  const body = unwrap(ctx.body, 'trigger');
  const errs = new Errors();
  const name = str(errs, body, 'name', 'trigger.name', !existing);
  const description = str(errs, body, 'description', 'trigger.description');
  const state = body.state;
  if (state !== undefined && !(STATES as readonly unknown[]).includes(state)) errs.add('trigger.state', `must be one of ${STATES.join(', ')}`);
  if (state === undefined && !existing) errs.required('trigger.state');
  const type = body.type;
  if (type !== undefined && !(TYPES as readonly unknown[]).includes(type)) errs.add('trigger.type', `must be one of ${TYPES.join(', ')}`);
  if (type === undefined && !existing) errs.required('trigger.type');
  const inboxes = readRefs(store, errs, body.inboxes, 'inboxes', 'trigger.inboxes');
  const flags = Object.fromEntries((['agentHasAccess', 'isShared', 'addToNewInboxes'] as const).map((k) => [k, bool(errs, body, k, `trigger.${k}`)]));
  const actions = included(ctx.body, 'triggeractions', errs);
  const conditions = included(ctx.body, 'conditions', errs);
  const apply = flat(ctx.body).applyToExistingTickets;
  if (apply !== undefined && typeof apply !== 'boolean') errs.add('applyToExistingTickets', 'must be a boolean');
  errs.throwIfAny();
  const patch: Partial<Trigger> = {};
  if (name) patch.name = name;
  if (description !== undefined) patch.description = description;
  if (state !== undefined) patch.triggerState = state as Trigger['triggerState'];
  if (type !== undefined) patch.triggerType = type as Trigger['triggerType'];
  if (inboxes) patch.inboxes = inboxes.filter((i) => !i.del).map((i) => ({ id: i.id, type: 'inboxes' }));
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) (patch as Record<string, unknown>)[k] = v;
  if (actions) patch.triggeractions = actions;
  if (conditions) patch.conditions = conditions;
  const appliedToExisting = (existing?._sandbox.appliedToExisting ?? 0) + (apply === true ? 1 : 0);
  const actor = actorRef(ctx);
  if (existing) return store.update('triggers', existing.id, { ...patch, _sandbox: { appliedToExisting } }, actor);
  return store.insert('triggers', {
    name: name!, description: '', triggerState: 'active', triggerType: 'Automatic', inboxes: [], agentHasAccess: true, isShared: false,
    addToNewInboxes: false, triggeractions: [], conditions: [], ...patch, _sandbox: { appliedToExisting },
  }, actor);
}

export function registerTriggers(r: Router, deps: Deps): void {
  const { store } = deps;
  const o = { family: 'triggers' };
  r.add('GET', `${V2}/triggers.json`, 'v2', o, (ctx) => list(deps, ctx, {
    kind: 'triggers', key: 'triggers', filterKeys: ['id', 'name', 'state', 'type', 'inboxes.id', 'createdAt', 'updatedAt'], orderKeys: ['id', 'name'],
    view: (t) => ({ ...baseView(t), name: t.name, state: t.triggerState, type: t.triggerType, 'inboxes.id': t.inboxes.map((i) => i.id) }),
  }));
  r.add('GET', `${V2}/triggers/:id.json`, 'v2', o, (ctx) => single(store, 'trigger', 'triggers', mustGet(store, 'triggers', ctx.params.id), ctx));
  r.add('POST', `${V2}/triggers.json`, 'v2', o, (ctx) => single(store, 'trigger', 'triggers', save(deps, ctx, null), null, 201));
  r.add('PATCH', `${V2}/triggers/:id.json`, 'v2', o, (ctx) => single(store, 'trigger', 'triggers', save(deps, ctx, mustGet(store, 'triggers', ctx.params.id)), null));
  r.add('DELETE', `${V2}/triggers/:id.json`, 'v2', o, (ctx) => {
    const t = mustGet(store, 'triggers', ctx.params.id);
    store.softDelete('triggers', t.id, actorRef(ctx));
    return { status: 204 };
  });
}
