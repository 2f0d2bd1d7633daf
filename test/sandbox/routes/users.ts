// Users (agents). Creating one is an invite: the user stays "invited" (and cannot use an API
// key) until accepted via POST /_sandbox/users/{id}/accept. Admin-only writes.

import { forbidden } from '../errors.ts';
import type { Router } from '../http.ts';
import type { Ref, User } from '../model.ts';
import type { Store } from '../store.ts';
import { Errors, V2, actorRef, baseView, isEmail, list, mustGet, single, str, unwrap } from './common.ts';
import type { Deps } from './common.ts';

export const findUserByEmail = (store: Store, email: string): User | undefined =>
  store.list('users').find((u) => u.email.toLowerCase() === email.toLowerCase());

export function inviteAgent(store: Store, p: { email: string; firstName?: string; lastName?: string; role?: 'admin' | 'agent' }, actor: Ref | null): User {
  return store.insert('users', {
    firstName: p.firstName ?? '', lastName: p.lastName ?? '', email: p.email, role: p.role ?? 'agent', status: 'invited', avatarURL: '',
  }, actor);
}

export function registerUsers(r: Router, deps: Deps): void {
  const { store } = deps;
  const o = { family: 'users' };
  r.add('GET', `${V2}/users.json`, 'v2', o, (ctx) => list(deps, ctx, {
    kind: 'users', key: 'users', filterKeys: ['id', 'email', 'firstName', 'lastName', 'role', 'createdAt', 'updatedAt'],
    orderKeys: ['id', 'email', 'firstName', 'lastName', 'createdAt'],
    view: (u) => ({ ...baseView(u), email: u.email, firstName: u.firstName, lastName: u.lastName, role: u.role }),
  }));
  r.add('GET', `${V2}/users/:id.json`, 'v2', o, (ctx) => single(store, 'user', 'users', mustGet(store, 'users', ctx.params.id), ctx));
  r.add('GET', `${V2}/me.json`, 'v2', o, (ctx) => single(store, 'user', 'users', ctx.user, ctx));
  r.add('POST', `${V2}/users.json`, 'v2', o, (ctx) => {
    if (ctx.user.role !== 'admin') throw forbidden('user', 'only administrators can add agents');
    const body = unwrap(ctx.body, 'user');
    const errs = new Errors();
    const email = str(errs, body, 'email', 'user.email', true);
    if (email && !isEmail(email)) errs.add('user.email', 'is not a valid email address', 'invalid_email');
    if (email && findUserByEmail(store, email)) errs.add('user.email', 'a user with this email already exists', 'duplicate');
    const firstName = str(errs, body, 'firstName', 'user.firstName', true);
    const lastName = str(errs, body, 'lastName', 'user.lastName');
    const role = body.role ?? 'agent';
    if (role !== 'agent' && role !== 'admin') errs.add('user.role', 'must be "agent" or "admin"');
    errs.throwIfAny();
    const u = inviteAgent(store, { email: email!, firstName: firstName!, lastName: lastName ?? '', role: role as 'agent' | 'admin' }, actorRef(ctx));
    return single(store, 'user', 'users', u, null, 201, true);
  });
}
