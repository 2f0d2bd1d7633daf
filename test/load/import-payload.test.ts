import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildImportTicket, type ImportContext } from '../../load/import-payload.ts';
import { TargetDirectory } from '../../load/target-directory.ts';
import { loadConfig } from '../../core/config.ts';
import { CanonicalComment, CanonicalTicket, type CanonicalPerson } from '../../staging/canonical.ts';

const person = (sourceId: string, role: 'agent' | 'customer', name: string, email: string | null): CanonicalPerson => ({
  sourceId, role, name, email, firstName: name.split(' ')[0]!, lastName: name.split(' ')[1] ?? '', companySourceId: null, phone: null,
  active: true, suspended: false, createdAt: null,
} as CanonicalPerson);

const people = new Map([
  ['1', person('1', 'customer', 'Zoë Dupré', 'zoe@client.example')],
  ['2', person('2', 'agent', 'Ana Agent', 'ana@acme.example')],
  ['3', person('3', 'agent', 'Gone Agent', 'gone@acme.example')],
  ['4', person('4', 'customer', 'Cc Person', 'cc@client.example')],
]);
const ctx: ImportContext = {
  source: 'zendesk', people, mapping: loadConfig({ env: {} }).mapping,
  directory: TargetDirectory.of([{ id: 10, email: 'ana@acme.example', firstName: 'Ana', lastName: 'Agent' }, { id: 11, email: 'admin@acme.example', firstName: 'Ad', lastName: 'Min' }], [{ id: 1, name: 'Support' }], []),
  fallbackAgent: { email: 'admin@acme.example', firstName: 'Ad', lastName: 'Min', type: 'user' },
};
const ticket = (extra: Record<string, unknown> = {}) => CanonicalTicket.parse({
  sourceId: '77', subject: 'Réclamation', sourceStatus: 'open', status: 'Active', priority: null, type: null, tags: ['migrated'],
  requesterSourceId: '1', assigneeSourceId: '3', companySourceId: null, groupSourceId: null, ccSourceIds: ['4'], customFields: [],
  createdAt: '2025-01-02T03:04:05Z', updatedAt: '2025-01-03T00:00:00Z', commentCount: 3, ...extra,
});
const comment = (id: string, position: number, author: string, pub: boolean, extra: Record<string, unknown> = {}) => CanonicalComment.parse({
  sourceId: id, ticketSourceId: '77', position, authorSourceId: author, bodyHtml: `<p>body ${id}</p>`, public: pub,
  createdAt: `2025-01-02T0${position + 3}:00:00Z`, attachments: [], ...extra,
});

describe('the v1 import record of a ticket', () => {
  const comments = [comment('c3', 2, '3', true), comment('c1', 0, '1', true), comment('c2', 1, '1', false)];

  test('keeps order, authors, dates and public vs private; signs what it cannot attribute, with a header', () => {
    const t = buildImportTicket(ctx, ticket(), comments);
    assert.equal(t.id, 77);
    assert.equal(t.customer.email, 'zoe@client.example');
    assert.equal(t.assignedTo, undefined, 'an agent missing from the target is never invented');
    assert.deepEqual(t.threads.map((th) => [th.type, th.createdBy.email, th.createdAt]), [
      ['message', 'zoe@client.example', '2025-01-02T03:00:00Z'],
      ['note', 'admin@acme.example', '2025-01-02T04:00:00Z'], // a customer's private note: signed by the fallback agent
      ['message', 'admin@acme.example', '2025-01-02T05:00:00Z'], // an agent gone from the target
    ]);
    assert.doesNotMatch(t.threads[0]!.body, /Originally written/);
    assert.match(t.threads[1]!.body, /^<p><em>Originally written by Zoë Dupré &lt;zoe@client.example&gt; on 2025-01-02T04:00:00Z/);
    assert.match(t.threads[2]!.body, /Originally written by Gone Agent/);
    assert.equal(t.threads[0]!.cc, 'cc@client.example');
    assert.equal(t.threads[1]!.cc, null);
  });

  test('issue 21.8: cc/bcc go as Teamwork\'s import example sends them — one comma-separated string, null when none', () => {
    const t = buildImportTicket({ ...ctx, people: new Map([...people, ['5', person('5', 'customer', 'Second Cc', 'cc2@client.example')]]) }, ticket({ ccSourceIds: ['4', '5'] }), comments);
    assert.deepEqual(t.threads.map((th) => [th.cc, th.bcc]), [['cc@client.example,cc2@client.example', null], [null, null], [null, null]]);
  });

  test('options: the author header everywhere (R2 always) and the CCs listed in the first body (R6)', () => {
    const t = buildImportTicket(ctx, ticket({ ccHeader: true, assigneeSourceId: '2' }), comments.map((c) => ({ ...c, authorHeader: true })));
    assert.equal(t.assignedTo?.email, 'ana@acme.example');
    assert.match(t.threads[0]!.body, /Originally written by Zoë Dupré/);
    assert.match(t.threads[0]!.body, /CC: cc@client\.example/);
    assert.doesNotMatch(t.threads[1]!.body, /CC:/);
  });
});

describe('inline images in the import record', () => {
  test('an <img> is replaced by its marker however its src is quoted (the extractor finds all three forms)', () => {
    const url = 'https://acme.zendesk.com/attachments/token/t1/?name=a.png&size=2';
    const withImages = comment('c9', 0, '1', true, {
      bodyHtml: `<p>"<img src="${url.replace(/&/g, '&amp;')}">" '<img alt='x' src='${url}'>' <img src=${url.replace(/&/g, '&amp;')}> <img src="https://elsewhere.example/b.png"></p>`,
    });
    const attachments = new Map([['c9', [{
      sourceId: 'inline:t1', commentSourceId: 'c9', sourceUrl: url, fileName: 'a.png', size: 10, sha256: 'x'.repeat(64),
      blobPath: 'aa/bb/' + 'x'.repeat(64), inline: true, fetched: true, reason: null,
    }]]]);
    const t = buildImportTicket({ ...ctx, attachments, signUrl: (path, name) => `http://blobs.example/${path}?name=${name}` }, ticket({ commentCount: 1 }), [withImages]);
    const body = t.threads[0]!.body;
    assert.equal(body.match(/\[inline image: a\.png — attached\]/g)?.length, 3);
    assert.match(body, /<img src="https:\/\/elsewhere\.example\/b\.png">/, 'an image of another host stays as it is');
    assert.deepEqual(t.threads[0]!.attachments.map((a) => a.filename), ['a.png']);
  });
});

describe('issue 16.2: a ticket whose assignee has no agent in the target keeps who it was assigned to', () => {
  const comments = [comment('c1', 0, '1', true), comment('c2', 1, '2', true)];
  const withMode = (unmatchedAssignee: string): ImportContext => ({ ...ctx, mapping: { ...ctx.mapping, unmatchedAssignee } });
  const line = 'Originally assigned to Gone Agent &lt;gone@acme.example&gt;';

  test('default (both): a <source>-assignee tag and a line in the first message only', () => {
    const t = buildImportTicket(ctx, ticket(), comments);
    assert.equal(t.assignedTo, undefined, 'never invented');
    assert.deepEqual(t.tags, ['migrated', 'zendesk-assignee:gone@acme.example']);
    assert.ok(t.threads[0]!.body.includes(line), t.threads[0]!.body);
    assert.ok(!t.threads[1]!.body.includes('Originally assigned'));
  });

  test('tag, header, none, or a named fallback agent who is then assigned', () => {
    const tag = buildImportTicket(withMode('tag'), ticket(), comments);
    assert.deepEqual([tag.tags.includes('zendesk-assignee:gone@acme.example'), tag.threads[0]!.body.includes(line)], [true, false]);
    const header = buildImportTicket(withMode('header'), ticket(), comments);
    assert.deepEqual([header.tags, header.threads[0]!.body.includes(line)], [['migrated'], true]);
    const none = buildImportTicket(withMode('none'), ticket(), comments);
    assert.deepEqual([none.tags, none.threads[0]!.body.includes('Originally assigned')], [['migrated'], false]);
    const fallback = buildImportTicket(withMode('ana@acme.example'), ticket(), comments);
    assert.equal(fallback.assignedTo?.email, 'ana@acme.example');
    assert.ok(fallback.tags.includes('zendesk-assignee:gone@acme.example') && fallback.threads[0]!.body.includes(line));
    assert.throws(() => buildImportTicket(withMode('nobody@acme.example'), ticket(), comments), /agents\.unmatchedAssignee: nobody@acme\.example is not an agent of the target/);
  });

  test('an assignee the target has, or none at all, changes nothing', () => {
    const matched = buildImportTicket(ctx, ticket({ assigneeSourceId: '2' }), comments);
    assert.deepEqual([matched.assignedTo?.email, matched.tags], ['ana@acme.example', ['migrated']]);
    const unassigned = buildImportTicket(ctx, ticket({ assigneeSourceId: null }), comments);
    assert.deepEqual([unassigned.assignedTo, unassigned.tags, unassigned.threads[0]!.body.includes('Originally assigned')], [undefined, ['migrated'], false]);
  });
});

describe('issue 16.4: a person without an email keeps their name and phone on what they wrote', () => {
  const caller = { ...person('5', 'customer', 'Caller +49 30 123 4567', null), phone: '+49301234567' };
  const withCaller: ImportContext = { ...ctx, people: new Map([...people, ['5', caller]]) };

  test('their public comment, signed by a placeholder customer, carries a header with name and phone', () => {
    const t = buildImportTicket(withCaller, ticket({ requesterSourceId: '5' }), [comment('c1', 0, '5', true), comment('c2', 1, '5', false)]);
    assert.match(t.customer.email, /^zendesk-user-5@/, 'the ticket still migrates, under a placeholder address');
    assert.equal(t.threads[0]!.createdBy.email, t.customer.email);
    for (const th of t.threads) assert.ok(th.body.startsWith('<p><em>Originally written by Caller +49 30 123 4567 (phone +49301234567) on '), th.body);
  });

  test('a customer with an email is still signed as them, with no header', () => {
    const t = buildImportTicket(withCaller, ticket(), [comment('c1', 0, '1', true)]);
    assert.doesNotMatch(t.threads[0]!.body, /Originally written/);
  });
});
