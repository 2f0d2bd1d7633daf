/**
 * kill -9 during `prepare --apply`, then the same command again: the target ends as a clean
 * prepare leaves it — nothing twice, nothing missing — although the change in flight when the
 * process died was committed by the target after its client was gone.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { freshDatabase, services, tempDir } from '../helpers.ts';
import { cliEnv, runCli } from '../cli/helpers.ts';
import { startCli } from '../rollback/harness.ts';
import { FIRING_TRIGGERS, imperfectSeed, MISSING_FIELDS, MISSING_STATUS, MISSING_TYPE } from './imperfect-target.ts';
import { targetShape } from './target-shape.ts';

const KEY = 'prepare-kill-key';
const DELAY_MS = 700;
let killed: Sandbox;
let reference: Sandbox;
let database: Awaited<ReturnType<typeof freshDatabase>>;
const work = tempDir();
let envFor: (url: string) => Record<string, string>;

before(async () => {
  const svc = await services();
  const seed = await imperfectSeed();
  // Every write takes a while, so the kill lands with one in flight.
  killed = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 6000, seed, faults: { seed: 1, byMethod: { POST: { delay: 1, delayMs: DELAY_MS }, PATCH: { delay: 1, delayMs: DELAY_MS } } } });
  reference = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 6000, seed });
  database = await freshDatabase();
  envFor = (url) => cliEnv({ databaseUrl: database.url, brokers: svc.brokers, workDir: work.path, extra: { DESKPORT_TARGET_URL: url, DESKPORT_TARGET_API_KEY: KEY } });
});

after(async () => {
  await killed?.close();
  await reference?.close();
  await database?.drop();
  work.remove();
});

test('kill -9 during prepare --apply, then prepare --apply again, gives the target a clean prepare gives', async () => {
  const env = envFor(killed.url);
  const first = startCli(['prepare', '--apply', '--yes'], env);
  // Kill once the status and the type are made: the first custom field is then being created.
  const deadline = Date.now() + 90_000;
  while (!killed.store.list('tickettypes').some((t) => t.name === MISSING_TYPE)) {
    assert.ok(Date.now() < deadline, 'prepare never got to the ticket type');
    await sleep(20);
  }
  await sleep(DELAY_MS / 2);
  first.child.kill('SIGKILL');
  const dead = await first.done;
  assert.equal(dead.code, null, 'killed, not finished');
  const inFlight = await database.db('target_changes').where({ state: 'intent' });
  assert.ok(inFlight.length >= 1, 'a change was in flight (intent recorded, no outcome)');
  await sleep(DELAY_MS + 300); // the target finishes the write its client no longer hears about
  assert.ok(killed.store.list('triggers').filter((t) => t.triggerState === 'inactive').length < 3, 'not every pause was made before the kill');

  killed.store.configure({ faults: null });
  const again = await runCli(['prepare', '--apply', '--yes'], env);
  assert.equal(again.code, 0, again.stdout + again.stderr);

  // The reference: the same seed, prepared once without a kill (same staging, another target).
  const clean = await runCli(['prepare', '--apply', '--yes'], envFor(reference.url));
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /6 of 6 changes: 6 made, 0 failed/);

  assert.deepEqual(await targetShape(killed.url), await targetShape(reference.url));
  for (const label of MISSING_FIELDS) assert.equal(killed.store.list('customfields').filter((f) => f.agentLabel === label).length, 1, `one "${label}"`);
  assert.equal(killed.store.list('ticketstatuses').filter((s) => s.name === MISSING_STATUS).length, 1);
  for (const name of FIRING_TRIGGERS) assert.equal(killed.store.list('triggers').find((t) => t.name === name)!.triggerState, 'inactive');
  const rows = await database.db('target_changes').where({ target: new URL(killed.url).origin });
  assert.equal(rows.length, 6);
  assert.ok(rows.every((r: { state: string }) => r.state === 'done'));
  assert.ok(rows.filter((r: { kind: string }) => r.kind === 'pause-trigger').every((r: { before: { state: string } }) => r.before.state === 'active'), 'a pause remembers the state before it');
});
