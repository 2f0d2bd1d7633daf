import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { agentSeed } from '../cli/demo.ts';
import { runPipeline } from '../cli/pipeline.ts';
import { Loader } from '../load/loader.ts';
import { TargetDirectory } from '../load/target-directory.ts';
import { connectTarget } from '../load/connect-target.ts';
import { startSandbox } from './sandbox/index.ts';
import { customerEmails, emailsSent, entities, type SandboxMessage, type SandboxTicket } from './sandbox-readback.ts';
import { pipelineDeps, tempDir, testConfig } from './helpers.ts';
import { generateZendeskData } from './fixtures/zendesk-data.ts';

const SAMPLE = 'data/sample/zendesk-export.json';
const KEY = 'pipeline-test-key';

interface Sample {
  users: { id: number; email: string | null; role: string; active: boolean; name: string }[];
  tickets: { id: number; subject: string; requester_id: number; comments: unknown[] }[];
  organizations: unknown[];
}

const sample = JSON.parse(readFileSync(SAMPLE, 'utf8')) as Sample;
const agents = agentSeed(sample.users);

describe('the walking skeleton: export → Kafka → staging → sandbox', () => {
  let deps: Awaited<ReturnType<typeof pipelineDeps>>;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  const dir = tempDir();

  before(async () => {
    deps = await pipelineDeps();
    sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, seed: { agents } });
  });
  after(async () => {
    await sandbox.close();
    await deps.drop();
    dir.remove();
  });

  const config = () => testConfig({ source: { path: SAMPLE }, target: { url: sandbox.url, apiKey: KEY } });

  test('moves the whole sample and the report counts equal the sample', async () => {
    const cfg = config();
    const report = await runPipeline(deps, cfg, { kind: 'run' });
    const row = (e: string) => report.counts.find((c) => c.entity === e)!;
    const commentCount = sample.tickets.reduce((n, t) => n + t.comments.length, 0);
    assert.equal(row('tickets').extracted, sample.tickets.length);
    assert.equal(row('tickets').loaded, sample.tickets.length);
    assert.equal(row('comments').extracted, commentCount);
    assert.equal(row('comments').loaded, commentCount);
    assert.equal(row('companies').loaded, sample.organizations.length);
    for (const c of report.counts) {
      assert.equal(c.missing, 0, `${c.entity} missing`);
      assert.equal(c.failed, 0, `${c.entity} failed`);
      assert.equal(c.extracted, c.loaded + c.skipped, `${c.entity}: every record migrated or skipped with a reason`);
    }

    // Read the sandbox back: every ticket's subject, customer email and message count.
    const tickets = await entities<SandboxTicket>(sandbox.url, 'tickets');
    const messages = await entities<SandboxMessage>(sandbox.url, 'messages');
    const emails = await customerEmails(sandbox.url);
    assert.equal(tickets.length, sample.tickets.length);
    const users = new Map(sample.users.map((u) => [u.id, u]));
    const byImportId = new Map(tickets.map((t) => [t._sandbox?.importId, t]));
    const messagesPerTicket = new Map<number, number>();
    for (const m of messages) messagesPerTicket.set(m.ticket.id, (messagesPerTicket.get(m.ticket.id) ?? 0) + 1);
    for (const src of sample.tickets) {
      const t = byImportId.get(src.id);
      assert.ok(t, `ticket ${src.id} is in the sandbox`);
      assert.equal(t.subject, src.subject || '(no subject)');
      const requester = users.get(src.requester_id)!;
      assert.equal(emails.get(t.customer.id), requester.email?.toLowerCase() ?? `zendesk-user-${requester.id}@customers.deskport.invalid`);
      assert.equal(messagesPerTicket.get(t.id) ?? 0, src.comments.length, `ticket ${src.id} message count`);
    }
    assert.equal(await emailsSent(sandbox.url), 0, 'the migration emailed nobody');
  });

  test('re-running the pipeline creates no duplicates', async () => {
    const before = {
      tickets: (await entities(sandbox.url, 'tickets')).length,
      messages: (await entities(sandbox.url, 'messages')).length,
      customers: (await entities(sandbox.url, 'customers')).length,
      companies: (await entities(sandbox.url, 'companies')).length,
    };
    const report = await runPipeline(deps, config(), { kind: 'run' });
    assert.equal(report.counts.find((c) => c.entity === 'tickets')!.loaded, sample.tickets.length, 'the second run reports the tickets as migrated');
    assert.deepEqual({
      tickets: (await entities(sandbox.url, 'tickets')).length,
      messages: (await entities(sandbox.url, 'messages')).length,
      customers: (await entities(sandbox.url, 'customers')).length,
      companies: (await entities(sandbox.url, 'companies')).length,
    }, before);
  });

  test('rows left in doubt by a crash are looked up, not created twice', async () => {
    const cfg = config();
    // As if the loader died after its calls reached the target but before it recorded them.
    await deps.db('tickets').whereIn('source_id', ['1', '2', '3']).update({ load_state: 'loading', claimed_at: deps.db.raw("now() - interval '1 hour'"), load_attempts: 1 });
    await deps.db('people').where({ role: 'customer' }).whereNotNull('email').limit(5)
      .update({ load_state: 'pending', load_attempts: 1 });
    await deps.db('companies').update({ load_state: 'pending', load_attempts: 1 });
    const counts = async () => [(await entities(sandbox.url, 'tickets')).length, (await entities(sandbox.url, 'customers')).length, (await entities(sandbox.url, 'companies')).length];
    const beforeCounts = await counts();
    const client = connectTarget(deps, cfg);
    try {
      const loader = new Loader({ ...deps, client, directory: await TargetDirectory.read(client) }, cfg);
      const summary = await loader.run({ runId: 1 });
      assert.equal(summary.tickets.loaded, 3);
      assert.equal(summary.companies.loaded, sample.organizations.length);
    } finally {
      await client.close();
    }
    assert.deepEqual(await counts(), beforeCounts);
    const states = await deps.db('tickets').select('load_state').count('* as n').groupBy('load_state');
    assert.deepEqual(states.map((s) => [s.load_state, Number(s.n)]), [['loaded', sample.tickets.length]]);
  });
});

describe('bad input', () => {
  test('a malformed record goes to rejects with its reason and the rest still migrates', async () => {
    const deps = await pipelineDeps();
    const dir = tempDir();
    const data = generateZendeskData({ seed: 7, tickets: 12 });
    const bad = data.tickets[4]!;
    (bad as unknown as Record<string, unknown>).created_at = 'last tuesday';
    const badComment = data.tickets[6]!.comments[0]! as unknown as Record<string, unknown>;
    badComment.public = 'yes';
    const path = join(dir.path, 'export.json');
    writeFileSync(path, JSON.stringify(data));
    const sandbox = await startSandbox({
      port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000,
      seed: { agents: agentSeed(data.users) },
    });
    try {
      const report = await runPipeline(deps, testConfig({ source: { path }, target: { url: sandbox.url, apiKey: KEY } }), { kind: 'run' });
      const rejects = await deps.db('rejects').select('entity', 'source_id', 'reason', 'path').orderBy('entity');
      assert.equal(rejects.length, 2);
      assert.deepEqual(rejects.map((r) => [r.entity, r.source_id, r.path]), [
        ['comments', String(badComment.id), 'public'],
        ['tickets', String(bad.id), 'created_at'],
      ]);
      assert.match(rejects[1].reason, /created_at/);
      const tickets = report.counts.find((c) => c.entity === 'tickets')!;
      assert.equal(tickets.rejected, 1);
      // The ticket whose comment was rejected still migrates, with the comments it has (and the report shows the reject).
      assert.equal(tickets.loaded, data.tickets.length - 1);
      assert.equal((await entities(sandbox.url, 'tickets')).length, data.tickets.length - 1);
      assert.equal(report.counts.every((c) => c.missing === 0), true);
    } finally {
      await sandbox.close();
      await deps.drop();
      dir.remove();
    }
  });

  test('a truncated export stops with the byte offset and what was read', async () => {
    const deps = await pipelineDeps();
    const dir = tempDir();
    const path = join(dir.path, 'truncated.json');
    const text = readFileSync(SAMPLE, 'utf8');
    writeFileSync(path, text.slice(0, Math.floor(text.length / 2)));
    try {
      await assert.rejects(
        runPipeline(deps, testConfig({ source: { path }, target: { url: 'http://127.0.0.1:9', apiKey: KEY } }), { kind: 'run' }),
        (err: Error) => /near byte \d+ after \d+ complete records/.test(err.message),
      );
      const run = await deps.db('runs').first();
      assert.equal(run.status, 'failed');
    } finally {
      await deps.drop();
      dir.remove();
    }
  });
});
