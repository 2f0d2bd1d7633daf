// Inboxes: {"inbox": {name, localPart, email, users: [{id}]}}. Admin-only writes; PUT update.

import { forbidden } from '../errors.ts';
import type { Ctx, Router } from '../http.ts';
import type { Inbox } from '../model.ts';
import { Errors, V2, actorRef, baseView, bool, isEmail, list, mustGet, readRef, readRefs, single, str, unwrap } from './common.ts';
import type { Deps } from './common.ts';

function save(deps: Deps, ctx: Ctx, existing: Inbox | null): Inbox {
  const { store } = deps;
  if (ctx.user.role !== 'admin') throw forbidden('inbox', 'only administrators can manage inboxes');
  const body = unwrap(ctx.body, 'inbox');
  const errs = new Errors();
  const name = str(errs, body, 'name', 'inbox.name', !existing);
  const email = str(errs, body, 'email', 'inbox.email', !existing);
  if (email && !isEmail(email)) errs.add('inbox.email', 'is not a valid email address', 'invalid_email');
  if (email && store.list('inboxes').some((i) => i.email.toLowerCase() === email.toLowerCase() && i.id !== existing?.id)) {
    errs.add('inbox.email', 'another inbox uses this address', 'duplicate');
  }
  const localPart = str(errs, body, 'localPart', 'inbox.localPart');
  const users = readRefs(store, errs, body.users, 'users', 'inbox.users');
  const status = readRef(store, errs, body.ticketstatus, 'ticketstatuses', 'inbox.ticketstatus');
  const autoReply = bool(errs, body, 'autoReplyEnabled', 'inbox.autoReplyEnabled');
  const happiness = bool(errs, body, 'happinessRatingEnabled', 'inbox.happinessRatingEnabled');
  errs.throwIfAny();
  const patch: Partial<Inbox> = {};
  if (name) patch.name = name;
  if (email) patch.email = email;
  if (localPart) patch.localPart = localPart;
  if (users) patch.users = users.filter((u) => !u.del).map((u) => ({ id: u.id, type: 'users', meta: { access: 'write' } }));
  if (status !== undefined) patch.ticketstatus = { id: status, type: 'ticketstatuses' };
  if (autoReply !== undefined) patch.autoReplyEnabled = autoReply;
  if (happiness !== undefined) patch.happinessRatingEnabled = happiness;
  const actor = actorRef(ctx);
  if (existing) return store.update('inboxes', existing.id, patch, actor);
  const inbox = store.insert('inboxes', {
    name: name!, email: email!, localPart: localPart ?? email!.split('@')[0]!, users: [], autoReplyEnabled: false,
    happinessRatingEnabled: false, ticketstatus: null, ...patch,
  }, actor);
  // Types flagged "enabledForFutureInboxes" are linked to the new inbox (as in Desk's UI).
  for (const t of store.list('tickettypes')) {
    if (t.enabledForFutureInboxes) store.update('tickettypes', t.id, { inboxes: [...t.inboxes, { id: inbox.id, type: 'inboxes' }] }, actor);
  }
  return inbox;
}

export function registerInboxes(r: Router, deps: Deps): void {
  const { store } = deps;
  const o = { family: 'inboxes' };
  r.add('GET', `${V2}/inboxes.json`, 'v2', o, (ctx) => list(deps, ctx, {
    kind: 'inboxes', key: 'inboxes', filterKeys: ['id', 'name', 'email', 'createdAt', 'updatedAt'], orderKeys: ['id', 'name'],
    view: (i) => ({ ...baseView(i), name: i.name, email: i.email }),
  }));
  r.add('GET', `${V2}/inboxes/:id.json`, 'v2', o, (ctx) => single(store, 'inbox', 'inboxes', mustGet(store, 'inboxes', ctx.params.id), ctx));
  r.add('POST', `${V2}/inboxes.json`, 'v2', o, (ctx) => single(store, 'inbox', 'inboxes', save(deps, ctx, null), null, 201, true));
  r.add('PUT', `${V2}/inboxes/:id.json`, 'v2', o, (ctx) =>
    single(store, 'inbox', 'inboxes', save(deps, ctx, mustGet(store, 'inboxes', ctx.params.id)), null, 200, true));
}
