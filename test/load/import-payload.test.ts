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
