// v1 bulk import: contract, dedupe by (source, id), attachments downloaded by the sandbox,
// failed downloads, caps, authors matched/created, status Closed, original dates, no emails.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startSandbox } from './index.ts';
import type { Sandbox } from './index.ts';
import { call } from './test-helpers.ts';

const PNG = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31) % 256));
let files: Server;
let filesUrl = '';
let sb: Sandbox;

before(async () => {
  files = createServer((req, res) => {
    if (req.url === '/logo.png') { res.writeHead(200, { 'content-type': 'image/png' }); res.end(PNG); return; }
    if (req.url === '/moved') { res.writeHead(302, { location: '/logo.png' }); res.end(); return; }
    res.writeHead(404); res.end('gone');
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  sb = await startSandbox({ rateLimitPerMinute: 100_000 });
});
after(async () => {
  await sb.close();
  await new Promise<void>((r) => files.close(() => r()));
});
beforeEach(() => sb.store.reset());

const ticket = (id: number, extra: Record<string, unknown> = {}) => ({
  id, subject: `Imported ${id}`, priority: 'High', type: 'Problem', tags: ['legacy', 'Legacy', 'zendesk'],
  customer: { email: `cust${id}@example.com`, firstName: 'Cu', lastName: 'St', type: 'customer' },
  assignedTo: { email: 'sam@sandbox.example', type: 'user' },
  createdAt: '2019-03-04T05:06:07Z', updatedAt: '2019-03-05T00:00:00Z',
  threads: [
    { type: 'message', body: '<p>question</p>', createdBy: { email: `cust${id}@example.com`, type: 'customer' }, createdAt: '2019-03-04T05:06:07Z', cc: 'cc@example.com' },
    { type: 'note', body: 'internal', createdBy: { email: 'newagent@sandbox.example', firstName: 'New', lastName: 'Agent', type: 'user' }, createdAt: '2019-03-04T06:00:00Z' },
    { type: 'message', body: '<p>answer</p>', createdBy: { email: 'sam@sandbox.example', type: 'user' }, createdAt: '2019-03-04T07:00:00Z',
      attachments: [{ filename: 'logo.png', downloadurl: `${filesUrl}/logo.png` }, { filename: 'again.png', downloadurl: `${filesUrl}/moved` }] },
  ],
  ...extra,
});
const imp = (body: unknown) => call(sb, 'POST', '/desk/v1/import/tickets.json', body);

describe('v1 import', () => {
  it('imports tickets with threads, authors, attachments; dates kept; Closed; nobody emailed', async () => {
    const r = await imp({ source: 'Zendesk', fallbackInboxId: 2, tickets: [ticket(101), ticket(102, { emailSource: 'support@sandbox.example' })] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.tickets.map((t: { id: number; status: string }) => [t.id, t.status]), [[101, 'imported'], [102, 'imported']]);
    const t = sb.store.get('tickets', r.json.tickets[0].ticketId)!;
    assert.equal(t.status.id, 6);
    assert.equal(t.inbox.id, 2, 'fallback inbox');
    assert.equal(sb.store.get('tickets', r.json.tickets[1].ticketId)!.inbox.id, 1, 'routed by emailSource');
    assert.equal(t.createdAt, '2019-03-04T05:06:07Z');
    assert.equal(t.updatedAt, '2019-03-05T00:00:00Z');
    assert.equal(t.tags.length, 2, 'tags created once, case-insensitively');
    assert.equal(sb.store.get('ticketsources', t.source!.id)!.name, 'Zendesk');
    const msgs = t.messages.map((m) => sb.store.get('messages', m.id)!);
    assert.deepEqual(msgs.map((m) => [m.threadType, m.createdBy!.type, m.createdAt]), [
      ['message', 'customers', '2019-03-04T05:06:07Z'], ['note', 'users', '2019-03-04T06:00:00Z'], ['message', 'users', '2019-03-04T07:00:00Z']]);
    const invited = sb.store.list('users').find((u) => u.email === 'newagent@sandbox.example')!;
    assert.equal(invited.status, 'invited');
    assert.equal(sb.store.list('users').filter((u) => u.email === 'newagent@sandbox.example').length, 1);
    assert.equal(sb.store.emails().length, 0);
    // Attachments: downloaded, hashed, and served byte-for-byte by the ticket download path.
    const fileIds = msgs[2]!.files.map((f) => f.id);
    assert.equal(fileIds.length, 2);
    for (const id of fileIds) {
      const f = sb.store.get('files', id)!;
      assert.equal(f._sandbox.sha256, createHash('sha256').update(PNG).digest('hex'));
      assert.equal(f.size, PNG.length);
      const dl = await call(sb, 'GET', `/desk/api/v2/tickets/${t.id}/files/${id}/download`);
      assert.ok(dl.bytes.equals(PNG));
    }
    // The ticket is visible through v2 and findable by source.
    const bySource = await call(sb, 'GET', `/tickets.json?filter=${encodeURIComponent('{"source":"Zendesk"}')}`);
    assert.equal(bySource.json.tickets.length, 2);
  });

  it('dedupes by (source, id): re-import skips, another source imports', async () => {
    const first = await imp({ source: 'Zendesk', fallbackInboxId: 1, tickets: [ticket(1)] });
    const again = await imp({ source: 'Zendesk', fallbackInboxId: 1, tickets: [ticket(1, { subject: 'changed' }), ticket(2)] });
    assert.deepEqual(again.json.tickets.map((t: { status: string }) => t.status), ['skipped', 'imported']);
    assert.equal(again.json.tickets[0].ticketId, first.json.tickets[0].ticketId);
    assert.equal(sb.store.get('tickets', first.json.tickets[0].ticketId)!.subject, 'Imported 1', 'not updated');
    const other = await imp({ source: 'Freshdesk', fallbackInboxId: 1, tickets: [ticket(1)] });
    assert.equal(other.json.tickets[0].status, 'imported');
    const dupInOne = await imp({ source: 'X', fallbackInboxId: 1, tickets: [ticket(9), ticket(9)] });
    assert.deepEqual(dupInOne.json.tickets.map((t: { status: string }) => t.status), ['imported', 'skipped']);
    assert.equal(sb.store.imports().length, 4);
  });

  it('a failed download fails only that ticket, with a reason, and writes nothing for it', async () => {
    const bad = ticket(5, { threads: [{ type: 'message', body: 'x', createdBy: { email: 'c@example.com', type: 'customer' }, attachments: [{ filename: 'a', downloadurl: `${filesUrl}/missing` }] }] });
    const r = await imp({ source: 'Z', fallbackInboxId: 1, tickets: [bad, ticket(6)] });
    assert.equal(r.json.tickets[0].status, 'failed');
    assert.equal(r.json.tickets[0].errors[0].code, 'download_failed');
    assert.match(r.json.tickets[0].errors[0].detail, /HTTP 404/);
    assert.equal(r.json.tickets[1].status, 'imported');
    assert.equal(sb.store.list('tickets').length, 1);
    const retry = await imp({ source: 'Z', fallbackInboxId: 1, tickets: [ticket(5)] });
    assert.equal(retry.json.tickets[0].status, 'imported', 'failed tickets are not deduped');
  });

  it('validates per ticket (failed with errors) and per request (400)', async () => {
    const r = await imp({ source: 'Z', fallbackInboxId: 1, tickets: [
      { id: 1, subject: 'x', customer: { email: 'nope' }, threads: [] },
      ticket(2, { priority: 'Galactic' }),
      ticket(3, { threads: [{ type: 'note', body: 'x', createdBy: { email: 'c@example.com', type: 'customer' } }] }),
    ] });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.tickets.map((t: { status: string }) => t.status), ['failed', 'failed', 'failed']);
    assert.deepEqual(r.json.tickets[0].errors.map((e: { source: string }) => e.source).sort(), ['tickets[0].customer.email', 'tickets[0].threads']);
    assert.equal(r.json.tickets[2].errors[0].source, 'tickets[2].threads[0].createdBy.type');
    const top = await imp({ fallbackInboxId: 99, tickets: 'x' });
    assert.equal(top.status, 400);
    assert.deepEqual(top.json.errors.map((e: { source: string }) => e.source).sort(), ['fallbackInboxId', 'source', 'tickets']);
  });

  it('issue 21.8: cc/bcc as Teamwork\'s import example sends them — a comma-separated string or null; an array is refused', async () => {
    const th = (extra: Record<string, unknown>) => [{ type: 'message', body: 'x', createdBy: { email: 'c@example.com', type: 'customer' }, ...extra }];
    const r = await imp({ source: 'Z', fallbackInboxId: 1, tickets: [
      ticket(1, { threads: th({ cc: 'a@example.com,b@example.com', bcc: null }) }),
      ticket(2, { threads: th({ cc: ['a@example.com'] }) }),
    ] });
    assert.deepEqual(r.json.tickets.map((t: { status: string }) => t.status), ['imported', 'failed']);
    assert.equal(r.json.tickets[1].errors[0].source, 'tickets[1].threads[0].cc');
    const msg = sb.store.get('messages', sb.store.get('tickets', r.json.tickets[0].ticketId)!.messages[0]!.id)!;
    assert.deepEqual([msg.cc, msg.bcc], [['a@example.com', 'b@example.com'], []]);
  });

  it('caps tickets per request (400) and body size (413), both configurable', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => ticket(i + 1));
    const r = await imp({ source: 'Z', fallbackInboxId: 1, tickets: eleven });
    assert.equal(r.status, 400);
    assert.equal(r.json.errors[0].code, 'too_many');
    sb.store.configure({ importMaxTickets: 11, importMaxBodyBytes: 2000 });
    const big = await imp({ source: 'Z', fallbackInboxId: 1, tickets: eleven });
    assert.equal(big.status, 413);
    sb.store.configure({ importMaxBodyBytes: 10 * 1024 * 1024 });
    assert.equal((await imp({ source: 'Z', fallbackInboxId: 1, tickets: eleven })).json.tickets.length, 11);
  });
});
