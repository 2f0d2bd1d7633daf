// Happy paths and errors of the v2 resources: auth, customers, companies, users, inboxes,
// tags, statuses, tickets (create/PATCH/bulk/search/delete), messages, pagination, filters.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startSandbox } from './index.ts';
import type { Sandbox } from './index.ts';
import { basic, call, errSources } from './test-helpers.ts';

let sb: Sandbox;
before(async () => { sb = await startSandbox({ rateLimitPerMinute: 100_000, oauthTokens: ['oauth-token'] }); });
after(async () => { await sb.close(); });
beforeEach(() => sb.store.reset());

const newCustomer = (email: string, extra: Record<string, unknown> = {}) => call(sb, 'POST', '/customers.json', {
  customer: { firstName: 'Cara', lastName: 'Customer', ...extra },
  included: { contacts: [{ type: 'email', value: email, isMain: true }] },
});

describe('auth', () => {
  it('accepts the key as Basic username or Bearer, and OAuth bearer tokens', async () => {
    assert.equal((await call(sb, 'GET', '/tickets.json')).status, 200);
    assert.equal((await call(sb, 'GET', '/tickets.json', undefined, { auth: 'Bearer sandbox-key' })).status, 200);
    assert.equal((await call(sb, 'GET', '/tickets.json', undefined, { auth: 'Bearer oauth-token' })).status, 200);
  });
  it('401 with the error shape on missing or bad credentials', async () => {
    for (const auth of [null, basic('wrong'), 'Bearer nope', 'Digest abc']) {
      const r = await call(sb, 'GET', '/tickets.json', undefined, { auth });
      assert.equal(r.status, 401);
      assert.equal(r.json.errors[0].code, 'unauthorized');
      assert.equal(r.headers['x-rate-limit-limit'], undefined);
    }
  });
  it('v1 import takes Basic only', async () => {
    const r = await call(sb, 'POST', '/desk/v1/import/tickets.json', { source: 's', fallbackInboxId: 1, tickets: [] }, { auth: 'Bearer sandbox-key' });
    assert.equal(r.status, 401);
  });
  it('unknown paths are 404 with the error shape; wrong method 405', async () => {
    assert.equal((await call(sb, 'GET', '/nope.json')).status, 404);
    assert.equal((await call(sb, 'PUT', '/tickets.json', {})).status, 405);
    assert.equal((await call(sb, 'GET', '/helpdocarticles.json')).status, 404); // un-scoped path
  });
});

describe('customers', () => {
  it('creates with contacts, finds by contacts.value and externalId, updates, deletes', async () => {
    const c = await newCustomer('Cara@Example.com', { externalId: 'zd-1' });
    assert.equal(c.status, 201);
    assert.equal(c.json.customer.email, 'Cara@Example.com');
    assert.equal(c.json.included.contacts[0].type, 'email');
    for (const k of ['id', 'type', 'createdAt', 'updatedAt', 'createdBy', 'updatedBy', 'state']) assert.ok(k in c.json.customer, k);
    const byEmail = await call(sb, 'GET', `/customers.json?filter=${encodeURIComponent(JSON.stringify({ 'contacts.value': { $in: ['cara@example.com'] } }))}`);
    assert.deepEqual(byEmail.json.customers.map((x: { id: number }) => x.id), [c.json.customer.id]);
    const byExt = await call(sb, 'GET', `/customers.json?filter=${encodeURIComponent('{"externalId":{"$eq":"zd-1"}}')}`);
    assert.equal(byExt.json.customers.length, 1);
    const upd = await call(sb, 'PATCH', `/customers/${c.json.customer.id}.json`, { customer: { jobTitle: 'CTO' } });
    assert.equal(upd.status, 200);
    assert.equal(upd.json.customer.jobTitle, 'CTO');
    assert.equal((await call(sb, 'DELETE', `/customers/${c.json.customer.id}.json`)).status, 204);
    assert.equal((await call(sb, 'GET', `/customers/${c.json.customer.id}.json`)).status, 404);
  });
  it('rejects a customer without email contact, bad emails, duplicates, and customer.email', async () => {
    const none = await call(sb, 'POST', '/customers.json', { customer: { firstName: 'X' } });
    assert.equal(none.status, 400);
    assert.ok(errSources(none).includes('included.contacts'));
    const bad = await newCustomer('not-an-email');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.errors[0].code, 'invalid_email');
    await newCustomer('dup@example.com');
    const dup = await newCustomer('DUP@example.com');
    assert.equal(dup.status, 400);
    assert.equal(dup.json.errors[0].code, 'duplicate');
    const flatEmail = await call(sb, 'POST', '/customers.json', { customer: { email: 'a@b.co' } });
    assert.equal(flatEmail.status, 400);
  });
  it('rejects unknown filter keys and operators', async () => {
    assert.equal((await call(sb, 'GET', `/customers.json?filter=${encodeURIComponent('{"nope":1}')}`)).status, 400);
    assert.equal((await call(sb, 'GET', `/customers.json?filter=${encodeURIComponent('{"email":{"$regex":"x"}}')}`)).status, 400);
    assert.equal((await call(sb, 'GET', '/customers.json?filter=notjson')).status, 400);
  });
});

describe('companies, users, inboxes, tags, statuses', () => {
  it('companies: create with domains, filter by name, PUT, duplicate name, delete', async () => {
    const c = await call(sb, 'POST', '/companies.json', { company: { name: 'Acme' }, included: { domains: [{ name: 'acme.com' }] } });
    assert.equal(c.status, 201);
    assert.equal(c.json.included.domains[0].name, 'acme.com');
    assert.equal((await call(sb, 'POST', '/companies.json', { company: { name: 'acme' } })).status, 400);
    assert.equal((await call(sb, 'POST', '/companies.json', { company: {} })).json.errors[0].source, 'company.name');
    const f = await call(sb, 'GET', `/companies.json?filter=${encodeURIComponent('{"name":{"$contains":"acm"}}')}`);
    assert.equal(f.json.companies.length, 1);
    assert.equal((await call(sb, 'PUT', `/companies/${c.json.company.id}.json`, { company: { industry: 'Tools' } })).json.company.industry, 'Tools');
    const cust = await call(sb, 'POST', '/customers.json', { customer: {}, included: { contacts: [{ type: 'email', value: 'e@acme.com' }], companies: [{ id: c.json.company.id }] } });
    assert.deepEqual(cust.json.customer.companies, [{ id: c.json.company.id, type: 'companies' }]);
    assert.equal((await call(sb, 'POST', '/customers.json', { customer: {}, included: { contacts: [{ type: 'email', value: 'f@acme.com' }], companies: [{ id: 999 }] } })).status, 400);
    assert.equal((await call(sb, 'DELETE', `/companies/${c.json.company.id}.json`)).status, 204);
  });
  it('users: seeded agents listed, invite stays invited until accepted, filter by email', async () => {
    const list = await call(sb, 'GET', '/users.json');
    assert.equal(list.json.users.length, 3);
    const inv = await call(sb, 'POST', '/users.json', { user: { firstName: 'Ivy', lastName: 'New', email: 'ivy@sandbox.example' } });
    assert.equal(inv.status, 201);
    // Teamwork's user model (desksdkgo models/user.go) has `state` and no invitation field: neither does the wire.
    assert.equal(inv.json.user.state, 'active');
    assert.equal('status' in inv.json.user, false);
    assert.equal(sb.store.get('users', inv.json.user.id)!.status, 'invited', 'the sandbox still keeps the invite to itself');
    assert.equal((await call(sb, 'POST', '/users.json', { user: { firstName: 'I', email: 'ivy@sandbox.example' } })).json.errors[0].code, 'duplicate');
    const f = await call(sb, 'GET', `/users.json?filter=${encodeURIComponent('{"email":{"$eq":"IVY@sandbox.example"}}')}`);
    assert.equal(f.json.users[0].id, inv.json.user.id);
    const acc = await call(sb, 'POST', `/_sandbox/users/${inv.json.user.id}/accept`, undefined, { auth: null });
    assert.equal(acc.json.user.status, 'active');
  });
  it('users: non-admin keys cannot invite', async () => {
    const agent = sb.store.list('users').find((u) => u.role === 'agent')!;
    sb.store.addApiKey('agent-key', agent.id);
    const r = await call(sb, 'POST', '/users.json', { user: { firstName: 'X', email: 'x@y.co' } }, { auth: basic('agent-key') });
    assert.equal(r.status, 403);
  });
  it('inboxes, tags and the seeded statuses/priorities/types', async () => {
    const inboxes = await call(sb, 'GET', '/inboxes.json');
    assert.deepEqual(inboxes.json.inboxes.map((i: { name: string }) => i.name), ['Support', 'Billing']);
    const ib = await call(sb, 'POST', '/inboxes.json', { inbox: { name: 'Sales', email: 'sales@sandbox.example' } });
    assert.equal(ib.status, 201);
    assert.equal((await call(sb, 'POST', '/inboxes.json', { inbox: { name: 'S2', email: 'sales@sandbox.example' } })).status, 400);
    const st = await call(sb, 'GET', '/ticketstatuses.json');
    assert.deepEqual(st.json.ticketstatuses.map((s: { id: number; name: string }) => `${s.id}:${s.name}`),
      ['1:Active', '3:Waiting on customer', '4:On-hold', '5:Solved', '6:Closed', '7:Spam']);
    assert.deepEqual((await call(sb, 'GET', '/ticketpriorities.json')).json.ticketpriorities.map((p: { name: string }) => p.name), ['Low', 'Medium', 'High', 'Urgent']);
    assert.deepEqual((await call(sb, 'GET', '/tickettypes.json')).json.tickettypes.map((p: { name: string }) => p.name), ['Question', 'Problem', 'Incident', 'Task']);
    assert.ok(Array.isArray((await call(sb, 'GET', '/ticketsources.json')).json.ticketSources));
    const tag = await call(sb, 'POST', '/tags.json', { tag: { name: 'vip', color: '#f00' } });
    assert.equal(tag.status, 201);
    assert.equal((await call(sb, 'POST', '/tags.json', { tag: { name: 'VIP' } })).status, 400);
    assert.equal((await call(sb, 'GET', `/tags.json?filter=${encodeURIComponent('{"name":"vip"}')}`)).json.tags.length, 1);
    const created = await call(sb, 'POST', '/ticketstatuses.json', { ticketstatus: { name: 'Escalated' } });
    assert.equal(created.json.ticketstatus.isCustom, true);
  });
});

describe('tickets and messages', () => {
  const base = { subject: 'Printer on fire', message: '<p>help</p>', inbox: { id: 1 }, customer: { email: 'pat@example.com' }, notifyCustomer: false };

  it('creates a ticket with every ref, reads it back with includes', async () => {
    const tag = (await call(sb, 'POST', '/tags.json', { tag: { name: 'fire' } })).json.tag;
    const r = await call(sb, 'POST', '/tickets.json', {
      ...base, status: { id: 3 }, priority: { id: 2 }, type: { id: 1 }, tags: [{ id: tag.id }], agent: { id: 2 },
    });
    assert.equal(r.status, 201, r.text);
    const t = r.json.ticket;
    assert.deepEqual([t.status.id, t.priority.id, t.type.id, t.agent.id, t.tags[0].id], [3, 2, 1, 2, tag.id]);
    assert.equal(t.type.type, 'tickettypes');
    assert.equal(t.messageCount, 1);
    const got = await call(sb, 'GET', `/tickets/${t.id}.json?includes=all`);
    assert.equal(got.json.included.customers[0].email, 'pat@example.com');
    assert.equal(got.json.included.messages[0].htmlBody, '<p>help</p>');
    assert.equal(got.json.included.messages[0].createdBy.id, sb.store.admin().id, 'author = key user');
    assert.deepEqual((await call(sb, 'GET', `/tickets/${t.id}.json`)).json.included, {});
    assert.equal(sb.store.emails().length, 0, 'notifyCustomer:false emails nobody');
  });
  it('reports every problem at once: missing, unknown ids, bad types', async () => {
    const r = await call(sb, 'POST', '/tickets.json', { message: 'x', inbox: { id: 99 }, status: { id: 2 }, tags: [{ id: 5 }], customer: { id: 1, email: 'a@b.co' } });
    assert.equal(r.status, 400);
    assert.deepEqual(errSources(r).sort(), ['customer', 'inbox', 'status', 'subject', 'tags[0]'].sort());
    const noCustomer = await call(sb, 'POST', '/tickets.json', { ...base, customer: undefined });
    assert.equal(noCustomer.json.errors[0].detail, 'must be set');
    assert.equal(noCustomer.json.errors[0].source, 'customer');
  });
  it('ticket type must be enabled for the inbox', async () => {
    const t = await call(sb, 'POST', '/tickettypes.json', { tickettype: { name: 'Billing only', inboxes: [{ id: 2 }] } });
    const r = await call(sb, 'POST', '/tickets.json', { ...base, type: { id: t.json.tickettype.id } });
    assert.equal(r.status, 400);
    assert.equal(r.json.errors[0].source, 'type');
  });
  it('createdAt is read-only via v2 (ignored)', async () => {
    const r = await call(sb, 'POST', '/tickets.json', { ...base, createdAt: '2001-01-01T00:00:00Z' });
    assert.notEqual(r.json.ticket.createdAt, '2001-01-01T00:00:00Z');
  });
  it('logs emails: create with notifyCustomer omitted, cc, and public replies but not notes', async () => {
    const t = (await call(sb, 'POST', '/tickets.json', { ...base, notifyCustomer: undefined })).json.ticket;
    assert.equal(sb.store.emails().length, 1);
    assert.deepEqual(sb.store.emails()[0]!.to, ['pat@example.com']);
    await call(sb, 'POST', '/tickets.json', { ...base, cc: ['boss@example.com'] });
    assert.deepEqual(sb.store.emails()[1]!.cc, ['boss@example.com']);
    const note = await call(sb, 'POST', `/tickets/${t.id}/messages.json`, { message: 'internal', threadType: 'note' });
    assert.equal(note.status, 201);
    assert.equal(sb.store.emails().length, 2);
    const reply = await call(sb, 'POST', `/tickets/${t.id}/messages.json`, { message: 'hi', threadType: 'message', status: { id: 5 } });
    assert.equal(reply.status, 201);
    assert.equal(sb.store.emails().length, 3);
    assert.equal(sb.store.emails()[2]!.reason, 'reply');
    const after = (await call(sb, 'GET', `/tickets/${t.id}.json`)).json.ticket;
    assert.equal(after.status.id, 5);
    assert.equal(after.messageCount, 3);
    const msgs = await call(sb, 'GET', `/tickets/${t.id}/messages.json`);
    assert.deepEqual(msgs.json.messages.map((m: { threadType: string }) => m.threadType), ['message', 'note', 'message']);
  });
  it('message validation: threadType required, length limit, unknown ticket', async () => {
    const t = (await call(sb, 'POST', '/tickets.json', base)).json.ticket;
    assert.equal((await call(sb, 'POST', `/tickets/${t.id}/messages.json`, { message: 'x' })).json.errors[0].source, 'threadType');
    const long = await call(sb, 'POST', `/tickets/${t.id}/messages.json`, { message: 'a'.repeat(1_038_337), threadType: 'note' });
    assert.equal(long.status, 400);
    assert.equal(long.json.errors[0].code, 'too_long');
    assert.equal((await call(sb, 'POST', `/tickets/${t.id}/messages.json`, { message: 'a'.repeat(1_038_336), threadType: 'note' })).status, 201);
    assert.equal((await call(sb, 'POST', '/tickets/999/messages.json', { message: 'x', threadType: 'note' })).status, 404);
  });
  it('PATCH needs the wrapper; updates status, tags (add/delete), custom fields', async () => {
    sb.store.seed({ customfields: [{ agentLabel: 'Plan', kind: 'dropdown', options: ['Free', 'Pro'] }, { agentLabel: 'Ref', kind: 'text' }] });
    const [plan, refField] = sb.store.list('customfields');
    const t = (await call(sb, 'POST', '/tickets.json', base)).json.ticket;
    const tagA = (await call(sb, 'POST', '/tags.json', { tag: { name: 'a' } })).json.tag.id;
    const tagB = (await call(sb, 'POST', '/tags.json', { tag: { name: 'b' } })).json.tag.id;
    assert.equal((await call(sb, 'PATCH', `/tickets/${t.id}.json`, { status: { id: 5 } })).status, 400);
    let r = await call(sb, 'PATCH', `/tickets/${t.id}.json`, { ticket: { status: { id: 5 }, tags: [{ id: tagA }, { id: tagB }],
      customfields: [{ id: plan!.id, meta: { value: plan!.options[1]!.id } }, { id: refField!.id, meta: { value: 'ABC' } }] } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.ticket.customfields.length, 2);
    r = await call(sb, 'PATCH', `/tickets/${t.id}.json`, { ticket: { tags: [{ id: tagA, meta: { delete: true } }] } });
    assert.deepEqual(r.json.ticket.tags.map((x: { id: number }) => x.id), [tagB]);
    const bad = await call(sb, 'PATCH', `/tickets/${t.id}.json`, { ticket: { customfields: [{ id: plan!.id, meta: { value: 12345 } }], priority: { id: 77 } } });
    assert.deepEqual(errSources(bad).sort(), ['ticket.customfields[0].meta.value', 'ticket.priority']);
  });
  it('bulk PATCH /tickets/update.json, list filters, search, delete', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push((await call(sb, 'POST', '/tickets.json', { ...base, subject: `Case ${i}` })).json.ticket.id);
    const dry = await call(sb, 'PATCH', '/tickets/update.json', { filter_args: { filter: { id: { $in: ids.slice(0, 2) } }, bulkDryExecute: true }, status: { id: 6 } });
    assert.equal(dry.json.meta.count, 2);
    assert.equal(sb.store.get('tickets', ids[0]!)!.status.id, 1);
    const bulk = await call(sb, 'PATCH', '/tickets/update.json', { filter_args: { filter: { id: { $in: ids.slice(0, 2) } }, bulkDryExecute: false }, status: { id: 6 } });
    assert.equal(bulk.status, 200);
    const closed = await call(sb, 'GET', `/tickets.json?filter=${encodeURIComponent('{"status.id":{"$eq":6}}')}`);
    assert.deepEqual(closed.json.tickets.map((t: { id: number }) => t.id), ids.slice(0, 2));
    const or = await call(sb, 'GET', `/tickets.json?filter=${encodeURIComponent(JSON.stringify({ $or: [{ id: ids[0] }, { id: { $gte: ids[2] } }] }))}`);
    assert.equal(or.json.tickets.length, 2);
    const s = await call(sb, 'GET', '/search/tickets.json?search=case%201&statuses=6');
    assert.deepEqual(s.json.tickets.map((t: { id: number }) => t.id), [ids[1]]);
    assert.equal((await call(sb, 'DELETE', `/tickets/${ids[2]}.json`)).status, 204);
    assert.equal((await call(sb, 'GET', `/tickets/${ids[2]}.json`)).status, 404);
    assert.equal((await call(sb, 'PATCH', '/tickets/update.json', { status: { id: 6 } })).status, 400);
  });
  it('paginates with page/pageSize clamped to 100 (search: >200 resets to 50)', async () => {
    for (let i = 0; i < 105; i++) sb.store.raw.insert('tags', { name: `t${i}`, color: '' }, null);
    const p = await call(sb, 'GET', '/tags.json?pageSize=500&page=2');
    assert.equal(p.json.tags.length, 5);
    assert.deepEqual(p.json.pagination, { records: 105, pageSize: 100, pages: 2, page: 2, hasMorePages: false });
    assert.deepEqual(p.json.meta.page, { count: 105, pageSize: 100, pageOffset: 100, pages: 2, hasMore: false });
    const s = await call(sb, 'GET', '/search/tickets.json?pageSize=500');
    assert.equal(s.json.pagination.pageSize, 50);
    const s2 = await call(sb, 'GET', '/search/tickets.json?pageSize=150');
    assert.equal(s2.json.pagination.pageSize, 150);
    assert.equal((await call(sb, 'GET', '/tags.json?page=0')).status, 400);
  });
  it('413 on oversized bodies, 400 on invalid JSON', async () => {
    sb.store.configure({ maxBodyBytes: 1000 });
    const r = await call(sb, 'POST', '/tags.json', { tag: { name: 'x'.repeat(2000) } });
    assert.equal(r.status, 413);
    assert.equal(r.json.errors[0].code, 'too_large');
    sb.store.configure({ maxBodyBytes: 10 * 1024 * 1024 });
    const bad = await call(sb, 'POST', '/tags.json', undefined, { raw: '{nope', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.status, 400);
  });
});
