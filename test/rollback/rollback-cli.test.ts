import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { agentSeed, fieldSeed } from '../../cli/demo.ts';
import { generateZendeskData } from '../fixtures/zendesk-data.ts';
import { freshDatabase, services, tempDir, uniqueName } from '../helpers.ts';
import { startSandbox } from '../sandbox/index.ts';
import { cli, createCustomer, KEY, liveContent, startCli, withoutIds } from './harness.ts';

/**
 * The operator's path, every step a `deskport` process: run → rollback (killed half-way, then
 * run again) → the target is as before → a full run loads every record exactly once.
 */
describe('deskport rollback --run <id>', () => {
  const data = generateZendeskData({ seed: 11, tickets: 8 });
  const existing = data.users.find((u) => u.role === 'end-user' && u.email && data.tickets.some((t) => t.requester_id === u.id))!;
  const dir = tempDir();
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let env: Record<string, string>;
  let before0: Awaited<ReturnType<typeof liveContent>>;
  let loaded: Awaited<ReturnType<typeof liveContent>>;
  let existingId: number;
  const configFile = join(dir.path, 'deskport.json');

  before(async () => {
    const exportPath = join(dir.path, 'export.json');
    writeFileSync(exportPath, JSON.stringify(data));
    // A two-second rate window, so a slowed-down rollback can be killed half-way.
    writeFileSync(configFile, JSON.stringify({ target: { rateLimitWindowSeconds: 2 } }));
    db = await freshDatabase();
    sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, seed: { agents: agentSeed(data.users), customfields: fieldSeed(data.ticket_fields) } });
    // A customer the site already had: the run reuses it, and the rollback must leave it.
    existingId = await createCustomer(sandbox.url, existing.email!, 'Already');
    env = {
      DATABASE_URL: db.url, KAFKA_BROKERS: (await services()).brokers.join(','), DESKPORT_WORK_DIR: dir.path,
      DESKPORT_SOURCE_PATH: exportPath, DESKPORT_TOPIC_PREFIX: uniqueName('rb'), DESKPORT_CONFIG: configFile,
      DESKPORT_TARGET_URL: sandbox.url, DESKPORT_TARGET_API_KEY: KEY, DESKPORT_LOG_LEVEL: 'error',
    };
    before0 = await liveContent(sandbox.url);
  });
  after(async () => {
    await sandbox?.close();
    await db?.drop();
    dir.remove();
  });

  test('a run loads the export, reusing the customer the site had', async () => {
    const run = await cli(['run'], env);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    loaded = await liveContent(sandbox.url);
    assert.equal(loaded.tickets.length, data.tickets.length);
    assert.ok(loaded.customers.includes(`${existingId}:${existing.email!.toLowerCase()}`));
    const origins = await db.db('id_map').select('entity', 'origin').count('* as n').groupBy('entity', 'origin').orderBy(['entity', 'origin']);
    const matchedPeople = await db.db('id_map').where({ entity: 'people', origin: 'matched' }).pluck('target_id');
    assert.ok(matchedPeople.includes(String(existingId)), `the reused customer is recorded as matched: ${JSON.stringify(origins)}`);
  });

  test('--dry-run lists what would be deleted and deletes nothing', async () => {
    const calls = sandbox.store.callCount();
    const dry = await cli(['rollback', '--run', '1', '--dry-run'], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would delete ${data.tickets.length} tickets`));
    assert.match(dry.stdout, /agent: matched, never created, so never deleted/);
    assert.match(dry.stdout, /existed in the target before this run/);
    assert.equal(sandbox.store.callCount(), calls, 'no call to the target');
    assert.deepEqual(await liveContent(sandbox.url), loaded);
    assert.equal((await db.db('runs').where({ id: 1 }).first()).status, 'done');
  });

  test('without --yes and without a terminal it refuses, and changes nothing', async () => {
    const res = await cli(['rollback', '--run', '1'], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /needs a confirmation/);
    assert.match(res.stderr, /hint: .*--yes/);
    assert.deepEqual(await liveContent(sandbox.url), loaded);
  });

  test('killed half-way and run again, it leaves the target as it was before the run', async () => {
    // Slow: 3 calls per 2-second window, so the kill lands among the deletes.
    sandbox.store.configure({ rateLimitPerMinute: 3, rateLimitWindowMs: 2000 });
    const first = startCli(['rollback', '--run', '1', '--yes'], env);
    const deadline = Date.now() + 60_000;
    const deletedTickets = () => sandbox.store.list('tickets', { includeDeleted: true }).filter((t) => t.state === 'deleted').length;
    while (deletedTickets() < 2 && Date.now() < deadline) await sleep(50);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    assert.equal(killed.code, null, `killed before it finished: ${killed.stdout}\n${killed.stderr}`);
    assert.ok(deletedTickets() < data.tickets.length, 'the kill landed half-way');
    assert.equal((await db.db('runs').where({ id: 1 }).first()).status, 'rolling_back');

    sandbox.store.configure({ rateLimitPerMinute: 100_000, rateLimitWindowMs: 60_000 });
    const again = await cli(['rollback', '--run', '1', '--yes'], env);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.match(again.stdout, /run 1 is rolled back/);

    // Agents, the pre-existing customer (same id), nothing of the run left ...
    const after = await liveContent(sandbox.url);
    assert.deepEqual({ ...after, leftovers: null }, { ...before0, leftovers: null });
    // ... but the tags and the ticket source the import made by name (documented, not deleted).
    assert.deepEqual(after.leftovers.tags, loaded.leftovers.tags, 'the tags as the run left them, no other');
    assert.deepEqual(before0.leftovers.tags, []);
    assert.deepEqual(after.leftovers.ticketSources.filter((n) => !before0.leftovers.ticketSources.includes(n)), ['Zendesk (deskport)']);
    const run = await db.db('runs').where({ id: 1 }).first();
    assert.equal(run.status, 'rolled_back');
    assert.equal(run.rollback.importGeneration, 2);
    assert.equal(Number((await db.db('id_map').where({ run_id: 1 }).count('* as n'))[0]!.n), 0);
    for (const table of ['tickets', 'comments', 'companies']) {
      const states = await db.db(table).distinct('load_state').pluck('load_state');
      assert.deepEqual(states, ['pending'], `${table} back to pending`);
    }
    assert.deepEqual(await db.db('people').whereNot('load_state', 'pending').whereNot('load_state', 'skipped').pluck('source_id'), []);

    const report = await cli(['report', '--run', '1'], env);
    assert.match(report.stdout, /rolled back/);
  });

  test('a full run after the rollback loads every record exactly once', async () => {
    const run = await cli(['run'], env);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const now = await liveContent(sandbox.url);
    const sources = now.tickets.map((t) => t.source);
    assert.equal(new Set(sources).size, sources.length, 'no ticket twice');
    assert.deepEqual(withoutIds(now), withoutIds(loaded), 'the same records as the first run, none lost');
    assert.deepEqual(now.importSources, ['Zendesk (deskport)#2']);
    assert.ok(now.customers.includes(`${existingId}:${existing.email!.toLowerCase()}`), 'the pre-existing customer is reused again');
    // The sandbox keeps deleted tickets in its dedupe index (README, assumption 10): the
    // generation bump is what made the re-import possible.
    assert.equal(sandbox.store.imports().filter((i) => i.source === 'Zendesk (deskport)').length, data.tickets.length);
  });

  // (No such run, a run still running, a load in doubt: rollback-resume.test.ts, in process.)
  test('a clear error when nothing is left to roll back', async () => {
    const again = await cli(['rollback', '--run', '1', '--yes'], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /run 1 has nothing to roll back: it was rolled back already/);
  });
});
