import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { agentSeed, fieldSeed } from '../../cli/demo.ts';
import { startZendeskServer, type ZendeskServer } from '../fixtures/zendesk-server/index.ts';
import { startSandbox } from '../sandbox/index.ts';
import { entities, type SandboxMessage } from '../sandbox-readback.ts';
import { freshDatabase, services, tempDir, uniqueName } from '../helpers.ts';
import { assertSameAsSource, type SourceTicket } from './compare.ts';
import { SourceChanges } from './source-changes.ts';

const EMAIL = 'admin@acme.example';
const TOKEN = 'fixture-api-token';
const KEY = 'delta-test-key';
interface Cli { code: number | null; out: string; err: string }

describe('deskport delta against the Zendesk fixture server, the sandbox, Postgres and Kafka', () => {
  const dir = tempDir();
  let server: ZendeskServer;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    const svc = await services();
    database = await freshDatabase();
    server = await startZendeskServer({ seed: 23, tickets: 12, maxAttachmentBytes: 20_000, bigTicketComments: 4, email: EMAIL, apiToken: TOKEN });
    sandbox = await startSandbox({
      port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000,
      seed: { agents: agentSeed(server.dataset.users), customfields: fieldSeed(server.dataset.ticketFields) },
    });
    const config = join(dir.path, 'config.json');
    writeFileSync(config, JSON.stringify({ source: { pageSize: 40, retryBaseMs: 20, helpCenter: false } }));
    env = {
      ...process.env, DATABASE_URL: database.url, KAFKA_BROKERS: svc.brokers.join(','), DESKPORT_TOPIC_PREFIX: uniqueName('t'),
      DESKPORT_LOG_LEVEL: 'warn', DESKPORT_WORK_DIR: join(dir.path, 'work'), DESKPORT_CONFIG: config,
      DESKPORT_SOURCE_KIND: 'zendesk-api', DESKPORT_SOURCE_URL: server.url, DESKPORT_SOURCE_EMAIL: EMAIL, DESKPORT_SOURCE_API_TOKEN: TOKEN,
      DESKPORT_TARGET_URL: sandbox.url, DESKPORT_TARGET_API_KEY: KEY,
    };
  });
  after(async () => {
    await sandbox?.close();
    await server?.close();
    await database?.drop();
    dir.remove();
  });

  function deskport(...args: string[]): Promise<Cli> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/cli.ts', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
  }

  /** Writes the sandbox received (everything but reads). */
  const writes = () => sandbox.store.calls().filter((c) => c.method !== 'GET').reduce((n, c) => n + c.count, 0);

  /** The live source tickets with their comments, as the fixture server serves them now. */
  const sourceNow = (): SourceTicket[] => server.dataset.tickets.filter((t) => t.status !== 'deleted')
    .map((t) => ({ id: t.id, subject: t.subject, status: t.status, comments: server.dataset.comments.get(t.id)! }));
  const assertSame = () => assertSameAsSource(database.db, sandbox.url, sourceNow());

  test('run, then new source records, then delta: the target matches the source; a second delta writes nothing', async (t) => {
    const first = await deskport('run');
    assert.equal(first.code, 0, `deskport run: ${first.err}\n${first.out}`);
    await assertSame();

    const ds = server.dataset;
    const changes = new SourceChanges(ds);
    const quirky = new Set([...ds.expected.fallbackTickets, ds.expected.bigTicket, ...ds.expected.deletedTickets].map(Number));
    const plain = ds.tickets.filter((t) => t.status !== 'deleted' && !quirky.has(t.id)).slice(4);
    const agent = ds.users.find((u) => u.role === 'agent' && u.active)!;
    const [commented, changed, both] = [plain[0]!, plain[1]!, plain[2]!];
    changes.addTicket(plain[3]!, 'Delta: a brand new ticket', ['<p>Printer on fire, again.</p>', '<p>Also the fax.</p>']);
    changes.addComment(commented.id, commented.requester_id, '<p>Any news on this? It happened again today.</p>');
    changes.change(changed.id, { status: changed.status === 'solved' ? 'open' : 'solved' }, agent.id);
    changes.addComment(both.id, agent.id, '<p>Internal: escalated to tier 2.</p>', false);
    changes.change(both.id, { status: both.status === 'hold' ? 'pending' : 'hold', subject: `${both.subject} (escalated)` }, agent.id);

    const before = writes();
    const delta = await deskport('delta');
    assert.equal(delta.code, 0, `deskport delta: ${delta.err}\n${delta.out}`);
    for (const line of delta.out.trim().split('\n')) t.diagnostic(line);
    assert.match(delta.out, /created\s+1 tickets/);
    assert.match(delta.out, /appended\s+2 comments to 2 tickets/);
    assert.ok(writes() > before);
    await assertSame();
    const run = await database.db('runs').orderBy('id', 'desc').first();
    assert.equal(run.kind, 'delta');
    assert.equal(run.status, 'done');
    assert.equal(run.summary.delta.created.tickets, 1);
    assert.equal(run.summary.delta.appended.comments, 2);
    assert.ok(run.summary.delta.updated.tickets >= 2, 'the changed tickets were updated');
    assert.ok(run.summary.delta.updated.fields >= 3, 'status, status and subject');
    // History through v2 is private notes: nobody was emailed, by the run or the delta.
    assert.equal(sandbox.store.emails().length, 0);
    const appended = (await entities<SandboxMessage>(sandbox.url, 'messages')).filter((m) => /Any news on this|escalated to tier 2/.test(m.htmlBody));
    assert.deepEqual(appended.map((m) => m.threadType), ['note', 'note']);
    assert.ok(appended.every((m) => /Originally written by .* on \d{4}-/.test(m.htmlBody)), 'author and date header');

    const quiet = writes();
    const again = await deskport('delta');
    assert.equal(again.code, 0, again.err);
    for (const line of again.out.trim().split('\n')) t.diagnostic(line);
    assert.equal(writes(), quiet, 'a delta with no source change writes nothing');
    assert.match(again.out, /created\s+0 tickets/);
    assert.match(again.out, /appended\s+0 comments/);
    assert.match(again.out, /updated\s+0 fields on 0 tickets/);
    await assertSame();
  });
});
