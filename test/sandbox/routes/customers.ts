// Customers (+ their contacts). Write body: {"customer": {...}, "included": {"contacts": [...],
// "companies": [{id}]}}. A customer needs an email contact; emails are unique per site.

import { isObj } from '../query.ts';
import type { Ctx, Router } from '../http.ts';
import type { Base, Customer, Ref } from '../model.ts';
import { ref } from '../store.ts';
import type { Store } from '../store.ts';
import {
  Errors, V2, actorRef, baseView, bool, copyStrings, isEmail, list, mustGet, readRefs, single, unwrap,
} from './common.ts';
import type { Deps } from './common.ts';

const TEXT_FIELDS = [
  'firstName', 'lastName', 'jobTitle', 'phone', 'mobile', 'address', 'avatarURL', 'organization',
  'extraData', 'notes', 'externalId', 'linkedinURL', 'facebookURL', 'twitterHandle',
] as const;

const CONTACT_TYPES = new Set(['email', 'twitter', 'facebook', 'linkedin', 'phone']);

interface ContactIn {
  value: string;
  contactType: string;
  isMain: boolean;
  del: boolean;
}

function readContacts(errs: Errors, included: Record<string, unknown>): ContactIn[] | undefined {
  const raw = included.contacts;
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    errs.add('included.contacts', 'must be an array');
    return undefined;
  }
  const out: ContactIn[] = [];
  raw.forEach((c, i) => {
    const src = `included.contacts[${i}]`;
    if (!isObj(c)) return errs.add(src, 'must be an object');
    const type = typeof c.type === 'string' ? c.type : 'email';
    if (!CONTACT_TYPES.has(type)) return errs.add(`${src}.type`, `unknown contact type "${String(c.type)}"`);
    if (typeof c.value !== 'string' || c.value === '') return errs.required(`${src}.value`);
    if (type === 'email' && !isEmail(c.value)) return errs.add(`${src}.value`, 'is not a valid email address', 'invalid_email');
    out.push({ value: c.value, contactType: type, isMain: c.isMain === true, del: c.delete === true });
  });
  return out;
}

export const customerEmails = (store: Store, c: Customer): string[] =>
  c.contacts.map((r) => store.get('contacts', r.id)).filter((x) => x && x.contactType === 'email').map((x) => x!.value);

export function findCustomerByEmail(store: Store, email: string): Customer | undefined {
  const lc = email.toLowerCase();
  const contact = store.list('contacts').find((c) => c.contactType === 'email' && c.value.toLowerCase() === lc);
  return contact ? store.get('customers', contact.customer.id) : undefined;
}

/** Creates a customer with one main email contact (ticket create by email, v1 import). */
export function createCustomerWithEmail(store: Store, email: string, names: { firstName?: string; lastName?: string }, actor: Ref | null): Customer {
  const c = store.insert('customers', {
    ...blankCustomer(), firstName: names.firstName ?? '', lastName: names.lastName ?? '', email,
  }, actor);
  const contact = store.insert('contacts', { contactType: 'email', value: email, isMain: true, customer: ref('customers', c.id) }, actor);
  return store.update('customers', c.id, { contacts: [ref('contacts', contact.id)] }, actor);
}

const blankCustomer = (): Omit<Customer, keyof Base> => ({
  firstName: '', lastName: '', email: '', jobTitle: '', phone: '', mobile: '', address: '', avatarURL: '',
  organization: '', extraData: '', notes: '', externalId: '', linkedinURL: '', facebookURL: '', twitterHandle: '',
  trusted: false, contacts: [], companies: [],
});

function checkEmailFree(store: Store, errs: Errors, contacts: ContactIn[], selfId: number | null): void {
  contacts.forEach((c, i) => {
    if (c.contactType !== 'email' || c.del) return;
    const owner = findCustomerByEmail(store, c.value);
    if (owner && owner.id !== selfId) errs.add(`included.contacts[${i}].value`, `email already belongs to customer ${owner.id}`, 'duplicate');
  });
}

function save(deps: Deps, ctx: Ctx, existing: Customer | null): Customer {
  const { store } = deps;
  const body = unwrap(ctx.body, 'customer');
  const included = isObj(ctx.body) && isObj(ctx.body.included) ? ctx.body.included : {};
  const errs = new Errors();
  const fields: Record<string, unknown> = {};
  copyStrings(errs, body, TEXT_FIELDS, 'customer', fields);
  if (typeof body.externalId === 'number') fields.externalId = String(body.externalId);
  const trusted = bool(errs, body, 'trusted', 'customer.trusted');
  if (trusted !== undefined) fields.trusted = trusted;
  if (body.email !== undefined) errs.add('customer.email', 'set emails through included.contacts');
  const contacts = readContacts(errs, included);
  const companies = readRefs(store, errs, included.companies, 'companies', 'included.companies');
  if (contacts) checkEmailFree(store, errs, contacts, existing?.id ?? null);

  // Resulting email set: a customer without an email contact is rejected.
  const kept = existing
    ? existing.contacts.map((r) => store.get('contacts', r.id)!).filter((c) => c && !(contacts ?? []).some((x) => x.del && x.value.toLowerCase() === c.value.toLowerCase()))
    : [];
  const added = (contacts ?? []).filter((c) => !c.del && !kept.some((k) => k.value.toLowerCase() === c.value.toLowerCase()));
  const emails = [...kept.filter((k) => k.contactType === 'email').map((k) => k.value), ...added.filter((c) => c.contactType === 'email').map((c) => c.value)];
  if (emails.length === 0) errs.add('included.contacts', 'a customer needs at least one email contact', 'required');
  errs.throwIfAny();

  const actor = actorRef(ctx);
  const c = existing ?? store.insert('customers', { ...blankCustomer(), ...(fields as Partial<Customer>) }, actor);
  for (const k of (contacts ?? []).filter((x) => x.del)) {
    const stored = existing?.contacts.map((r) => store.get('contacts', r.id)).find((x) => x && x.value.toLowerCase() === k.value.toLowerCase());
    if (stored) store.softDelete('contacts', stored.id, actor);
  }
  const contactRefs = kept.map((k) => ref('contacts', k.id));
  const hasMain = kept.some((k) => k.isMain && k.contactType === 'email');
  added.forEach((a, i) => {
    const isMain = a.contactType === 'email' && (a.isMain || (!hasMain && i === added.findIndex((x) => x.contactType === 'email')));
    const rec = store.insert('contacts', { contactType: a.contactType, value: a.value, isMain, customer: ref('customers', c.id) }, actor);
    contactRefs.push(ref('contacts', rec.id));
  });
  let companyRefs = c.companies;
  if (companies) {
    const drop = new Set(companies.filter((x) => x.del).map((x) => x.id));
    companyRefs = [...companyRefs.filter((r) => !drop.has(r.id))];
    for (const x of companies) if (!x.del && !companyRefs.some((r) => r.id === x.id)) companyRefs.push(ref('companies', x.id));
  }
  const main = contactRefs.map((r) => store.get('contacts', r.id)!).find((x) => x.contactType === 'email' && x.isMain)
    ?? contactRefs.map((r) => store.get('contacts', r.id)!).find((x) => x.contactType === 'email')!;
  return store.update('customers', c.id, { ...(existing ? fields : {}), contacts: contactRefs, companies: companyRefs, email: main.value } as Partial<Customer>, actor);
}

export function registerCustomers(r: Router, deps: Deps): void {
  const { store } = deps;
  const o = { family: 'customers' };
  r.add('GET', `${V2}/customers.json`, 'v2', o, (ctx) => list(deps, ctx, {
    kind: 'customers', key: 'customers',
    filterKeys: ['id', 'externalId', 'contacts.value', 'email', 'firstName', 'lastName', 'companies.id', 'trusted', 'createdAt', 'updatedAt'],
    orderKeys: ['id', 'createdAt', 'updatedAt', 'firstName', 'lastName', 'email'],
    view: (c) => ({ ...baseView(c), externalId: c.externalId, 'contacts.value': customerEmails(store, c), email: c.email,
      firstName: c.firstName, lastName: c.lastName, 'companies.id': c.companies.map((x) => x.id), trusted: c.trusted }),
  }));
  r.add('GET', `${V2}/customers/:id.json`, 'v2', o, (ctx) => single(store, 'customer', 'customers', mustGet(store, 'customers', ctx.params.id), ctx));
  r.add('POST', `${V2}/customers.json`, 'v2', o, (ctx) => single(store, 'customer', 'customers', save(deps, ctx, null), null, 201, true));
  const update = (ctx: Ctx) => single(store, 'customer', 'customers', save(deps, ctx, mustGet(store, 'customers', ctx.params.id)), null, 200, true);
  r.add('PATCH', `${V2}/customers/:id.json`, 'v2', o, update);
  r.add('PUT', `${V2}/customers/:id.json`, 'v2', o, update);
  r.add('DELETE', `${V2}/customers/:id.json`, 'v2', o, (ctx) => {
    const c = mustGet(store, 'customers', ctx.params.id);
    const actor = actorRef(ctx);
    for (const cr of c.contacts) if (store.get('contacts', cr.id)) store.softDelete('contacts', cr.id, actor);
    store.softDelete('customers', c.id, actor);
    return { status: 204 };
  });
}
