/**
 * The operator CLI end to end, as processes: `check` finds a missing agent (exit 2) and passes once
 * the agent exists; `demo --ids` migrates exactly those tickets and the following `run` neither
 * duplicates nor loses them; `status` and `post-checklist` show that data.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { agentSeed, fieldSeed } from '../../cli/demo.ts';
import { startSandbox } from '../sandbox/index.ts';
import { entities, type SandboxTicket } from '../sandbox-readback.ts';
import { freshDatabase, services, tempDir } from '../helpers.ts';
import { cliEnv, hasStack, runCli, sampleRecords } from './helpers.ts';

const KEY = 'cli-test-key';
let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let database: Awaited<ReturnType<typeof freshDatabase>>;
let work: ReturnType<typeof tempDir>;
let env: Record<string, string>;
let missing: { firstName: string; lastName: string; email: string };
let invited: { firstName: string; lastName: string; email: string };

before(async () => {
  const svc = await services();
  const { users, fields } = await sampleRecords();
  const agents = agentSeed(users);
  missing = agents[0]!;
  invited = agents[1]!;
  // The target as an operator set it up, but one agent was never invited and one has not accepted
  // (the sandbox keeps that to itself, as Teamwork's API shows no invitation state).
  sandbox = await startSandbox({
    port: 0, apiKeys: [KEY], rateLimitPerMinute: 6000,
    seed: { agents: [{ ...invited, status: 'invited' }, ...agents.slice(2)], customfields: fieldSeed(fields) },
  });
  const support = sandbox.store.list('inboxes').find((i) => i.name === 'Support')!;
  sandbox.store.raw.update('inboxes', support.id, { autoReplyEnabled: true }, null);
  database = await freshDatabase();
  work = tempDir();
  env = cliEnv({ databaseUrl: database.url, brokers: svc.brokers, workDir: work.path, extra: { DESKPORT_TARGET_URL: sandbox.url, DESKPORT_TARGET_API_KEY: KEY } });
});

after(async () => {
  await sandbox?.close();
  await database?.drop();
  work?.remove();
});

test('check: exit 2 naming the missing agent and the inbox with auto-reply on; exit 0 once the agent exists; issue 21.7: invitation state could not be read, said so', async () => {
  const first = await runCli(['check', '--raised-limit', '1200'], env);
  assert.equal(first.code, 2, first.stderr);
  assert.match(first.stdout, new RegExp(`✗ agent ${missing.email} is not in the target`));
  assert.match(first.stdout, /Support <support@sandbox\.example>: auto-reply is ON/);
  assert.match(first.stdout, /rate limit 6000 calls\/min/);
  assert.match(first.stdout, /at a raised limit of 1200\/min/);
  assert.match(first.stdout, /estimated target calls: \d+ \(companies 12, customers \d+, ticket imports 30,/);
  assert.ok(!first.stdout.includes(KEY) && !first.stderr.includes(KEY), 'the key is never echoed');
  // Issue 16.2: per inactive source agent, what the load really does. The suspended agent's address
  // is an agent of the target (assigned as before); the deleted one's is not (kept as tag + header).
  assert.match(first.stdout, /- tom\.oconnor@acme\.example: assignee of [1-9]\d* ticket\(s\) — assigned to tom\.oconnor@acme\.example \(an active agent of the target has this address\); author of \d+ message\(s\) — signed as tom\.oconnor@acme\.example/);
  assert.match(first.stdout, /- elodie\.marchand@acme\.example: assignee of [1-9]\d* ticket\(s\) — arrive unassigned with the tag zendesk-assignee:elodie\.marchand@acme\.example and "Originally assigned to …" in their first message; author of \d+ message\(s\) — signed by \S+@\S+ with an author header/);
  assert.doesNotMatch(first.stdout, /tom\.oconnor@acme\.example: [^\n]*arrive unassigned/);
  // It staged the source itself (nothing was staged yet).
  const [{ n }] = await database.db('tickets').count<{ n: string }[]>('* as n');
  assert.equal(Number(n), 300);

  sandbox.store.seed({ agents: [missing] });
  const second = await runCli(['check'], env);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /✓ nothing blocks the migration/);
  // issue 21.7: Teamwork's API shows no invitation state (desksdkgo models/user.go): check says so
  // and names the matched agents to confirm, the one who has not accepted among them.
  assert.match(second.stdout, /! invitation state could not be read: Teamwork Desk's users API shows only state active or deleted, nothing about accepted invitations; confirm in Teamwork Desk \(People › Agents\) that these \d+ agent\(s\) accepted/);
  assert.match(second.stdout, new RegExp(`accepted their invitation .*${invited.email.replace(/\./g, '\\.')}`));
  assert.ok(!second.stdout.includes('was invited but has not accepted'), 'no claim about who accepted: nothing in the API says it');
  assert.ok(!second.stdout.includes(`agent ${missing.email}`));
});

test('init: a starter mapping marking what the target lacks, and a config file without secrets', async () => {
  const mapping = `${work.path}/mapping.yaml`;
  const configFile = `${work.path}/deskport.config.json`;
  const res = await runCli(['init', mapping, '--config-out', configFile], env);
  assert.equal(res.code, 0, res.stderr);
  const text = readFileSync(mapping, 'utf8');
  // The sample's third group has no inbox of that name in the sandbox; its agents are all there now.
  assert.match(text, /- \{ inbox: "Technik & 2nd Level", when: \{ group: "Technik & 2nd Level" \} \} #\s+← MISSING in the target/);
  assert.match(text, /# The target's inboxes: Support, Billing\./);
  assert.match(text, new RegExp(`#   ${missing.email} .*\\(in the target\\)`));
  assert.match(text, /default: "Support"/);
  assert.match(res.stdout, /name\(s\) marked MISSING in the target/);
  const written = readFileSync(configFile, 'utf8');
  assert.ok(!written.includes(KEY), 'no secret in the config file');
  const cfg = JSON.parse(written);
  assert.equal(cfg.target.url, sandbox.url);
  assert.equal(cfg.mapping.file, mapping);
  assert.equal(typeof cfg.target.fallbackInboxId, 'number');
  // What init wrote is what the next command reads.
  const checked = await runCli(['--config', configFile, 'status'], env);
  assert.equal(checked.code, 0, checked.stderr);
  const again = await runCli(['init', mapping, '--config-out', configFile], env);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists/);
  assert.match(again.stderr, /hint: Pass --force/);
});

test('demo --ids migrates exactly those tickets; the following run duplicates and loses nothing', async () => {
  const ids = ['5', '17', '240'].map(String);
  const staged = new Set((await database.db('tickets').pluck('source_id')).map(String));
  for (const id of ids) assert.ok(staged.has(id), `sample ticket ${id} staged`);

  const demo = await runCli(['demo', '--ids', ids.join(',')], env);
  assert.equal(demo.code, 0, demo.stdout + demo.stderr);
  let tickets = await entities<SandboxTicket>(sandbox.url, 'tickets');
  assert.deepEqual(tickets.map((t) => String(t._sandbox?.importId)).sort(), [...ids].sort());
  for (const t of tickets) assert.ok(demo.stdout.includes(`${sandbox.url}/desk/tickets/${t.id}`), `demo prints the URL of ticket ${t.id}`);
  const demoRun = Number(/deskport demo: run (\d+)/.exec(demo.stdout)![1]);
  assert.equal((await database.db('runs').where({ id: demoRun }).first()).kind, 'demo');
  const reportFile = /report: (.+demo\.json)/.exec(demo.stdout)![1]!;
  assert.deepEqual(JSON.parse(readFileSync(reportFile, 'utf8')).tickets.map((t: { sourceId: string }) => t.sourceId), ids);
  const demoTargets = new Map(tickets.map((t) => [String(t._sandbox?.importId), t.id]));

  const run = await runCli(['run'], env);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  tickets = await entities<SandboxTicket>(sandbox.url, 'tickets');
  const importIds = tickets.map((t) => String(t._sandbox?.importId));
  assert.equal(new Set(importIds).size, importIds.length, 'no ticket twice');
  const expected = (await database.db('tickets').whereNot({ load_state: 'skipped' }).pluck('source_id')).map(String).sort();
  assert.deepEqual([...importIds].sort(), expected, 'every staged ticket is in the target');
  for (const [id, targetId] of demoTargets) assert.equal(tickets.find((t) => String(t._sandbox?.importId) === id)!.id, targetId, `demo ticket ${id} kept`);
  const messages = await entities<{ ticket: { id: number } }>(sandbox.url, 'messages');
  const [{ n: comments }] = await database.db('comments').where({ load_state: 'loaded' }).count<{ n: string }[]>('* as n');
  assert.ok(messages.length >= Number(comments), 'every loaded comment became a message');
  assert.match(run.stdout, /tickets\s+300\s+0\s+300\s+300\s+0\s+0\s+0\s+0/);

  // status: both runs, with their kinds and counts.
  const status = await runCli(['status', '--json'], env);
  assert.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout) as { runs: { id: number; kind: string; status: string; counts: { entity: string; loaded: number; missing: number }[]; finished: { entity: string; migrated: number }[] }[]; checkpoints: unknown[]; lag: unknown[] };
  const fullRun = s.runs.find((r) => r.kind === 'run')!;
  assert.equal(fullRun.status, 'done');
  assert.equal(fullRun.counts.find((c) => c.entity === 'tickets')!.loaded, 300);
  assert.equal(fullRun.counts.find((c) => c.entity === 'tickets')!.missing, 0);
  const demoStatus = s.runs.find((r) => r.id === demoRun)!;
  assert.equal(demoStatus.kind, 'demo');
  assert.equal(demoStatus.finished.find((f) => f.entity === 'tickets')!.migrated, 3);
  assert.ok(Array.isArray(s.lag));
  const text = await runCli(['status'], env);
  assert.match(text.stdout, new RegExp(`run ${demoRun}\\s+demo\\s+done`));

  // post-checklist for the full run: inboxes by name, agents, counts, file next to the report.
  const check = await runCli(['post-checklist', '--run', String(fullRun.id)], env);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, new RegExp(`# Post-migration checklist — run ${fullRun.id} \\(run, done\\)`));
  assert.match(check.stdout, /- \[ \] Inbox \*\*Support\*\* <support@sandbox\.example>: re-enable/);
  assert.match(check.stdout, /- \[ \] Inbox \*\*Billing\*\*/);
  assert.match(check.stdout, /people: 0 failed, 2 skipped, 0 rejected/);
  const mailboxes = await database.db('tickets').whereRaw(`data->>'sourceMailbox' IS NOT NULL`).select(database.db.raw(`lower(data->>'sourceMailbox') AS m`)).count('* as n').groupByRaw(`lower(data->>'sourceMailbox')`);
  assert.ok(mailboxes.length > 0);
  for (const m of mailboxes as { m: string; n: string }[]) {
    assert.ok(check.stdout.includes(`- [ ] Forward **${m.m}** → inbox **Support** <support@sandbox.example> (${m.n} ticket(s) came in there)`), `forwarding for ${m.m}`);
  }
  assert.match(check.stdout, /## Knowledge base/);
  assert.match(check.stdout, /invitation state could not be read: .*confirm in People › Agents that each of these accepted/);
  assert.ok(check.stdout.includes(`- [ ] ${invited.email} has accepted their invitation`), 'the agent to confirm is listed');
  const file = `${work.path}/reports/run-${fullRun.id}/post-checklist.md`;
  assert.ok(existsSync(file));
  assert.equal(readFileSync(file, 'utf8').trim(), check.stdout.trim());
  assert.ok(!hasStack(check.stderr));
});
