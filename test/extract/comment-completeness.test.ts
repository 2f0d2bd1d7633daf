// Regression test of issue 21.3: the comment fallback of the ticket-events extraction never fired
// on recorded event bodies (no `comment_present`). Now every ticket's comment count is confirmed
// after extraction — from the events where they prove it, else comments/count — and a ticket whose
// comments are incomplete is re-read, never staged short.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runExtract } from '../../extract/index.ts';
import { claimForLoad, createRun, ticketsNotReady } from '../../staging/index.ts';
import { startZendeskServer, type EventShape, type ZendeskServer } from '../fixtures/zendesk-server/index.ts';
import { pipelineDeps, tempDir, testConfig } from '../helpers.ts';
import { ids, sorted, stageAll } from './helpers.ts';

const EMAIL = 'admin@acme.example';
const TOKEN = 'fixture-api-token';

const calls = (byEndpoint: Record<string, number>, pattern: RegExp) =>
  Object.entries(byEndpoint).filter(([k]) => pattern.test(k)).reduce((n, [, v]) => n + v, 0);
const COUNT = /^\/api\/v2\/tickets\/:id\/comments\/count\.json$/;
const LIST = /^\/api\/v2\/tickets\/:id\/comments\.json$/;

describe('issue 21.3: ticket-events comment completeness without comment_present', () => {
  const dir = tempDir();
  after(() => dir.remove());

  for (const shape of ['unflagged', 'recorded'] as EventShape[]) {
    describe(`events as ${shape === 'recorded' ? "Airbyte's recorded ticket_events.json (no flags, children with id and body only)" : 'documented, without comment_present/comment_public'}`, () => {
      let server: ZendeskServer;
      let deps: Awaited<ReturnType<typeof pipelineDeps>>;
      let result: Awaited<ReturnType<typeof runExtract>>;
      before(async () => {
        server = await startZendeskServer({
          seed: 11, tickets: 24, bigTicketComments: 120, maxAttachmentBytes: 20_000, email: EMAIL, apiToken: TOKEN,
          eventShape: shape, recordedComments: true, rateLimitPerMinute: 2_000,
        });
        deps = await pipelineDeps();
        const cfg = testConfig({ source: { kind: 'zendesk-api', url: server.url, email: EMAIL, apiToken: TOKEN, pageSize: 40, blobDir: join(dir.path, shape), retryBaseMs: 20 } });
        const runId = await createRun(deps.db, 'extract', cfg.source.name);
        result = await runExtract(deps, cfg, runId);
        await stageAll(deps, cfg);
      });
      after(async () => {
        await deps.drop();
        await server.close();
      });

      test('every comment is staged, in order, and every ticket\'s count is confirmed', async () => {
        const x = server.dataset.expected;
        assert.deepEqual(await ids(deps.db, 'tickets'), sorted(x.tickets));
        assert.deepEqual(await ids(deps.db, 'comments'), sorted(x.comments));
        const rows = await deps.db('comments').select('ticket_source_id', 'source_id').orderBy(['ticket_source_id', 'position']);
        const byTicket = new Map<string, string[]>();
        for (const r of rows) byTicket.set(r.ticket_source_id, [...(byTicket.get(r.ticket_source_id) ?? []), r.source_id]);
        for (const [ticket, order] of x.commentOrder) assert.deepEqual(byTicket.get(ticket), order, `comments of ticket ${ticket}`);
        const states = await deps.db('extract_ticket_state').whereIn('ticket_source_id', x.tickets).select('ticket_source_id', 'expected');
        assert.equal(states.length, x.tickets.length);
        for (const s of states) assert.equal(s.expected, x.commentOrder.get(s.ticket_source_id)!.length, `confirmed count of ticket ${s.ticket_source_id}`);
        assert.deepEqual(await ticketsNotReady(deps.db, 'zendesk'), [], 'no ticket waits: none is staged short');
      });

      test('calls only where the events cannot prove the count, and re-reads only what is incomplete', () => {
        const x = server.dataset.expected;
        if (shape === 'unflagged') {
          // Complete children: a count per ticket the flags no longer prove, a re-read only where it differs.
          assert.ok(calls(result.callsByEndpoint!, COUNT) > 0 && calls(result.callsByEndpoint!, COUNT) <= x.tickets.length);
          assert.equal(calls(result.callsByEndpoint!, LIST), x.fallbackTickets.length, 'only the tickets whose comments the events dropped are re-read');
        } else {
          // Children without author, date or visibility cannot be staged as they are: each ticket is read whole, once.
          const listed = calls(result.callsByEndpoint!, LIST);
          assert.ok(listed >= x.tickets.length, `${listed} list reads for ${x.tickets.length} tickets`);
          assert.equal(calls(result.callsByEndpoint!, COUNT), x.fallbackTickets.length, 'a count only where no comment came at all');
        }
        assert.equal(server.stats.tooMany, 0, 'within the rate budget: never a 429');
      });

      test('the recorded comment shapes stage right: system author, empty html_body, attachment named by name', async () => {
        const r = server.dataset.expected.recorded!;
        const sys = await deps.db('comments').where({ source_id: r.systemComment }).first('data');
        assert.equal(sys.data.authorLabel, 'Zendesk system');
        assert.equal(sys.data.authorSourceId, null);
        const empty = await deps.db('comments').where({ source_id: r.emptyHtmlComment }).first('data');
        assert.ok(empty.data.bodyHtml.trim().length > 0, 'the body came from `body`, not the empty html_body');
        const att = await deps.db('attachments').where({ source_id: r.namedAttachment }).first('file_name');
        assert.equal(att.file_name, r.namedAttachmentName);
      });
    });
  }

  test('a ticket whose count is not confirmed is never claimed, and the final pass says why', async () => {
    const deps = await pipelineDeps();
    try {
      const now = new Date().toISOString();
      const ticket = {
        sourceId: '5', subject: 's', sourceStatus: 'open', status: 'Active', priority: null, type: null, tags: [], requesterSourceId: '1',
        assigneeSourceId: null, companySourceId: null, groupSourceId: null, ccSourceIds: [], customFields: [], createdAt: now, updatedAt: now, commentCount: 0,
      };
      await deps.db('tickets').insert({ source: 'zendesk', source_id: '5', run_id: 1, content_hash: 'h', load_state: 'pending', expected_comments: 0, source_created_at: now, data: ticket });
      await deps.db('extract_ticket_state').insert({ source: 'zendesk', ticket_source_id: '5', comments: 1, expected: null });
      assert.deepEqual(await claimForLoad(deps.db, { entity: 'tickets', source: 'zendesk', loaderId: 'l', limit: 10, leaseSeconds: 30 }), []);
      assert.deepEqual(await ticketsNotReady(deps.db, 'zendesk'), [{ sourceId: '5', expected: 0, staged: 0, confirmed: false }]);
      await deps.db('extract_ticket_state').update({ expected: 0 });
      assert.equal((await claimForLoad(deps.db, { entity: 'tickets', source: 'zendesk', loaderId: 'l', limit: 10, leaseSeconds: 30 })).length, 1);
    } finally {
      await deps.drop();
    }
  });
});
