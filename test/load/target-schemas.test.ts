// Regression tests of issue 21.6: Teamwork Desk responses are validated — a schema for every
// response deskport reads, tolerant where Teamwork's own sources disagree, and a response in no
// accepted shape fails its row with the endpoint, the status and the first problem.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { fieldSeed } from '../../cli/demo.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { targetFieldsFrom } from '../../load/custom-fields.ts';
import { isDeletedUser } from '../../load/target-directory.ts';
import { responseSchema } from '../../load/target-schemas.ts';
import type { ZodType } from 'zod';
import { generateZendeskData } from '../fixtures/zendesk-data.ts';
import { teamworkArticleAnswers, teamworkCustomFieldsWithIdInboxes, teamworkCustomFieldsWithRefInboxes, teamworkUsers } from '../fixtures/recorded-shapes.ts';
import { startSandbox, wireShapes, type Sandbox } from '../sandbox/index.ts';
import { entities } from '../sandbox-readback.ts';
import { agentsOf, KEY, loadStaged, stagedDataset } from './fixture.ts';

const parse = (method: string, route: string, body: unknown) => (responseSchema(method, route) as ZodType).parse(body) as Record<string, any>;

describe('issue 21.6: a zod schema for every Teamwork Desk response deskport reads', () => {
  test('both article envelope keys and both custom-field inbox forms read as one form', () => {
    for (const answer of teamworkArticleAnswers) {
      assert.equal(parse('POST', '/desk/api/v2/helpdocssites/:id/helpdocarticles.json', answer).helpdocarticle.id, 99);
    }
    for (const list of [teamworkCustomFieldsWithIdInboxes, teamworkCustomFieldsWithRefInboxes]) {
      const body = parse('GET', '/desk/api/v2/customfields.json', list);
      const [field] = targetFieldsFrom(body.customfields, body.included.customfieldoptions);
      assert.deepEqual(field!.inboxIds, list === teamworkCustomFieldsWithIdInboxes ? [36018, 36029] : [36018]);
      assert.deepEqual(field!.options, [{ id: 14, name: 'Gold' }]);
    }
    // Users as desksdkgo models them: `state` is all there is (issue 21.7: no invitation state to read).
    const users = parse('GET', '/desk/api/v2/users.json', teamworkUsers).users as { id: number; email: string; state: string }[];
    assert.deepEqual(users.filter(isDeletedUser).map((u) => u.email), ['gone@acme.example']);
    // A Go client's empty list is null: read as empty, not as a broken answer.
    assert.deepEqual(parse('GET', '/desk/api/v2/users.json', { users: null, meta: { page: { hasMore: false } } }).users, []);
    assert.equal(parse('GET', '/desk/api/v2/files/:id.json', { file: { id: 3, filename: 'a.png', size: 4 } }).file.fileName, 'a.png');
  });

  const data = generateZendeskData({ seed: 5, tickets: 6, kb: true });
  for (const shapeSeed of [0, 7]) {
    const shapes = wireShapes(shapeSeed);
    test(`a migration into the sandbox answering ${shapes.articleKey}, inboxes as ${shapes.customFieldInboxes}, files' ${shapes.fileNameKey}: articles and custom-field values land`, async () => {
      const staged = await stagedDataset(data);
      const sb = await startSandbox({
        port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, shapeSeed,
        seed: { agents: agentsOf(data), customfields: fieldSeed(data.ticket_fields) },
      });
      try {
        // The sandbox really answers in that shape.
        const fields = await request(`${sb.apiUrl}/customfields.json`, { headers: { authorization: `Bearer ${KEY}` } });
        const first = ((await fields.body.json()) as { customfields: { inboxes: unknown[] }[] }).customfields[0]!.inboxes[0];
        assert.equal(typeof first, shapes.customFieldInboxes === 'ids' ? 'number' : 'object');

        const summary = await loadStaged(staged, sb.url);
        assert.equal(summary.kb_articles.failed, 0);
        assert.equal(summary.kb_articles.loaded, data.kb_articles!.length);
        assert.equal(summary.tickets.failed, 0);
        const loaded = await staged.deps.db('kb_articles').where({ load_state: 'loaded' }).count<{ n: string }[]>('* as n');
        assert.equal(Number(loaded[0]!.n), data.kb_articles!.length, 'every article recorded as loaded, its id read from the answer');
        assert.equal(sb.store.list('helpdocarticles').length, data.kb_articles!.length, 'each created once');
        // Custom-field values go on the ticket (one PATCH each), never "not enabled for the inbox" into the body.
        const withValues = sb.store.list('tickets').filter((t) => t.customfields.length > 0);
        assert.ok(withValues.length > 0, 'some tickets carry custom-field values');
        const messages = await entities<{ htmlBody: string }>(sb.url, 'messages');
        assert.ok(!messages.some((m) => m.htmlBody.includes('not enabled for the ticket')), 'no value was written into a body for want of reading the inboxes');
      } finally {
        await sb.close();
        await staged.close();
      }
    });
  }

  describe('an answer in no accepted shape', () => {
    let sb: Sandbox;
    let proxy: Server;
    let proxyUrl: string;
    before(async () => {
      sb = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, seed: { agents: agentsOf(data) } });
      // A target whose company create changed its envelope (`data` instead of `company`); the rest passes through.
      proxy = createServer(async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const { host: _host, ...headers } = req.headers;
        const upstream = await request(`${sb.url}${req.url}`, {
          method: req.method as 'GET', headers: headers as Record<string, string>, body: chunks.length ? Buffer.concat(chunks) : undefined,
        });
        let body = Buffer.from(await upstream.body.arrayBuffer());
        if (req.method === 'POST' && req.url === '/desk/api/v2/companies.json' && upstream.statusCode === 201) {
          body = Buffer.from(JSON.stringify({ data: JSON.parse(body.toString()).company }));
        }
        const { 'transfer-encoding': _te, ...answer } = upstream.headers;
        res.writeHead(upstream.statusCode, { ...answer, 'content-length': String(body.length) } as Record<string, string>);
        res.end(body);
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    });
    after(async () => {
      await new Promise((r) => proxy.close(r));
      await sb.close();
    });

    test('fails the row with the endpoint, the status and the first validation problem', async () => {
      const staged = await stagedDataset(data);
      try {
        const summary = await loadStaged(staged, proxyUrl);
        assert.equal(summary.companies.loaded, 0);
        const rows = await staged.deps.db('companies').select('load_state', 'load_reason');
        assert.ok(rows.length > 0);
        for (const r of rows) {
          assert.equal(r.load_state, 'failed');
          assert.match(r.load_reason, /^Teamwork Desk answered 201 to POST \/desk\/api\/v2\/companies\.json in a shape deskport does not read \(company: .*expected object, received undefined\)$/);
        }
        // Everything else still went: the failure is the row's, not the run's.
        assert.ok(summary.tickets.loaded > 0);
      } finally {
        await staged.close();
      }
    });

    test('a route with no schema is refused before anything is sent', async () => {
      const staged = await stagedDataset({ ...data, tickets: [] });
      const config = { ...staged.config, target: { ...staged.config.target, url: sb.url, apiKey: KEY } };
      const client = connectTarget(staged.deps, config);
      try {
        const before = sb.store.callCount();
        await assert.rejects(client.request('GET', `${client.v2}/timelogs.json`), /GET \/desk\/api\/v2\/timelogs\.json has no response schema/);
        assert.equal(sb.store.callCount(), before);
      } finally {
        await client.close();
        await staged.close();
      }
    });
  });
});
