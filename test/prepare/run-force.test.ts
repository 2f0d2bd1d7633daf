/**
 * Issue 16.8: `run`, `demo` and `delta` run check's preflight before writing anything and refuse
 * a blocking problem with exit 2, naming it; `run --force` goes on, and report.json and the
 * terminal report say it was forced past that problem — and the value the target could not take
 * is visible on the ticket, not dropped.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { agentSeed, fieldSeed } from '../../cli/demo.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { entities, type SandboxMessage } from '../sandbox-readback.ts';
import { freshDatabase, services, tempDir } from '../helpers.ts';
import { cliEnv, hasStack, runCli, sampleRecords } from '../cli/helpers.ts';

const KEY = 'run-force-key';
let sandbox: Sandbox;
let database: Awaited<ReturnType<typeof freshDatabase>>;
const work = tempDir();
let env: Record<string, string>;
const writes = () => sandbox.store.calls().filter((c) => c.method !== 'GET').reduce((n, c) => n + c.count, 0);

before(async () => {
  const svc = await services();
  const { users, fields } = await sampleRecords();
  // Everything there but one custom field.
  sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 6000, seed: { agents: agentSeed(users), customfields: fieldSeed(fields).filter((f) => f.agentLabel !== 'VIP customer') } });
  database = await freshDatabase();
  env = cliEnv({ databaseUrl: database.url, brokers: svc.brokers, workDir: work.path, extra: { DESKPORT_TARGET_URL: sandbox.url, DESKPORT_TARGET_API_KEY: KEY } });
});

after(async () => {
  await sandbox?.close();
  await database?.drop();
  work.remove();
});

const PROBLEM = /custom field "VIP customer" \(source \d+\): the target has no field "VIP customer"/;

test('demo refuses a blocking problem with exit 2 and writes nothing', async () => {
  const demo = await runCli(['demo', '--ids', '5,17'], env);
  assert.equal(demo.code, 2, demo.stdout + demo.stderr);
  assert.match(demo.stderr, /deskport: demo refused: 1 blocking problem \(the same as npx deskport check lists\); nothing was written to the target:/);
  assert.match(demo.stderr, PROBLEM);
  assert.ok(!hasStack(demo.stderr));
  assert.equal(writes(), 0);
  assert.equal((await database.db('runs').where({ kind: 'demo' }).first()).status, 'refused');
});

test('run --force migrates and every report of the run says it was forced past the problem', async () => {
  const run = await runCli(['run', '--force'], env);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stderr, /--force: run goes on past 1 blocking problem \(recorded in the run's report\):/);
  assert.match(run.stdout, /^deskport run (\d+)\n!! FORCED: this run was started with --force past 1 blocking problem that check found:\n {2}✗ custom field "VIP customer"/);
  const runId = Number(/^deskport run (\d+)/.exec(run.stdout)![1]);
  const report = JSON.parse(readFileSync(`${work.path}/reports/run-${runId}/report.json`, 'utf8')) as { status: string; forcedPast: string[] };
  assert.equal(report.status, 'done');
  assert.equal(report.forcedPast.length, 1);
  assert.match(report.forcedPast[0]!, PROBLEM);
  const again = await runCli(['report', '--run', String(runId)], env);
  assert.match(again.stdout, /!! FORCED: this run was started with --force past 1 blocking problem/);
  // What the target could not hold is on the ticket for everyone to see.
  const messages = await entities<SandboxMessage>(sandbox.url, 'messages');
  assert.ok(messages.some((m) => /Custom fields not set in Teamwork Desk: VIP customer: true \(the target has no such field\)/.test(m.htmlBody)));
});

test('delta refuses the same problem (exit 2) until forced', async () => {
  const before = writes();
  const delta = await runCli(['delta'], env);
  assert.equal(delta.code, 2, delta.stdout + delta.stderr);
  assert.match(delta.stderr, /deskport: delta refused: 1 blocking problem/);
  assert.equal(writes(), before);
  const forced = await runCli(['delta', '--force'], env);
  assert.equal(forced.code, 0, forced.stdout + forced.stderr);
  assert.match(forced.stdout, /deskport delta \(run \d+\)\n!! FORCED: this run was started with --force past 1 blocking problem/);
});
