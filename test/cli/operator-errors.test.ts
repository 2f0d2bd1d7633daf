/**
 * The mistakes an operator makes — wrong target URL or key, a bad DATABASE_URL or KAFKA_BROKERS,
 * a missing or invalid mapping file, a missing export, a world-readable key file, a wrong Zendesk
 * token — each give one sentence and a hint, exit code 1, no stack trace; --debug shows the trace.
 */
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startZendeskServer, type ZendeskServer } from '../fixtures/zendesk-server/index.ts';
import { startSandbox } from '../sandbox/index.ts';
import { freshDatabase, services, tempDir } from '../helpers.ts';
import { cliEnv, hasStack, runCli, type CliResult } from './helpers.ts';

let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let zendesk: ZendeskServer;
let notDesk: Server;
let notDeskUrl: string;
let closedUrl: string;
let database: Awaited<ReturnType<typeof freshDatabase>>;
let work: ReturnType<typeof tempDir>;
let base: Record<string, string>;

before(async () => {
  const svc = await services();
  sandbox = await startSandbox({ port: 0, apiKeys: ['right-key'] });
  zendesk = await startZendeskServer({ seed: 3, tickets: 10 });
  // A web server that is not Teamwork Desk (a typo'd site answering 404 pages).
  notDesk = createServer((_req, res) => { res.writeHead(404, { 'content-type': 'text/html' }); res.end('<h1>Not found</h1>'); });
  await new Promise<void>((r) => notDesk.listen(0, '127.0.0.1', r));
  notDeskUrl = `http://127.0.0.1:${(notDesk.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((r) => closed.close(() => r()));
  database = await freshDatabase();
  work = tempDir();
  base = cliEnv({ databaseUrl: database.url, brokers: svc.brokers, workDir: work.path });
});

after(async () => {
  await sandbox?.close();
  await zendesk?.close();
  await new Promise<void>((r) => (notDesk ? notDesk.close(() => r()) : r()));
  await database?.drop();
  work?.remove();
});

function assertOperatorError(r: CliResult, sentence: RegExp, hint: RegExp): void {
  assert.equal(r.code, 1, `exit code 1\n${r.stdout}\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[0]!, /^deskport: /, r.stderr);
  assert.match(r.stderr, sentence);
  assert.match(r.stderr, hint);
  assert.ok(!hasStack(r.stderr), `no stack trace:\n${r.stderr}`);
}

test('each operator error gives its sentence and a hint, exit 1, no stack trace', async () => {
  const keyFile = `${work.path}/tw-key`;
  writeFileSync(keyFile, 'right-key\n');
  chmodSync(keyFile, 0o644);
  const badMapping = `${work.path}/mapping.yaml`;
  writeFileSync(badMapping, 'statuses:\n  map:\n    open: Nonsense-Status\n  - broken\n');
  const target = (url: string, key = 'right-key') => ({ ...base, DESKPORT_TARGET_URL: url, DESKPORT_TARGET_API_KEY: key });
  const zd = { ...base, DESKPORT_SOURCE_KIND: 'zendesk-api', DESKPORT_SOURCE_URL: zendesk.url, DESKPORT_SOURCE_EMAIL: 'admin@acme.example', DESKPORT_SOURCE_API_TOKEN: 'wrong-token', DESKPORT_TARGET_URL: sandbox.url, DESKPORT_TARGET_API_KEY: 'right-key' };
  // Independent processes: run them at once.
  const tokenFile = `${work.path}/zd-token`;
  writeFileSync(tokenFile, 'fixture-api-token\n');
  chmodSync(tokenFile, 0o640);
  const [closed, notDeskRes, wrongKey, wrongKeyLoad, pgBad, kafkaBad, noMapping, invalidMapping, noSource, openKeyFile, zdToken, openTokenFile] = await Promise.all([
    runCli(['check'], target(closedUrl)),
    runCli(['check'], target(notDeskUrl)),
    runCli(['check'], target(sandbox.url, 'wrong-key-123')),
    runCli(['load'], target(sandbox.url, 'wrong-key-123')),
    runCli(['status'], { ...base, DATABASE_URL: 'postgres://postgres:secret-pw@127.0.0.1:1/deskport' }),
    runCli(['status'], { ...base, KAFKA_BROKERS: '127.0.0.1:1' }),
    runCli(['--mapping', `${work.path}/nope.yaml`, 'check'], base),
    runCli(['--mapping', badMapping, 'check'], base),
    runCli(['--source', `${work.path}/nope.json`, 'run'], target(sandbox.url)),
    runCli(['status'], { ...base, DESKPORT_TARGET_API_KEY_FILE: keyFile }),
    runCli(['check'], zd),
    runCli(['status'], { ...base, DESKPORT_SOURCE_API_TOKEN_FILE: tokenFile }),
  ]);
  assertOperatorError(closed, /Teamwork Desk at http:\/\/127\.0\.0\.1:\d+ cannot be reached \(ECONNREFUSED\)/, /hint: Check DESKPORT_TARGET_URL/);
  assertOperatorError(notDeskRes, /does not answer like a Teamwork Desk site \(404 for \/desk\/api\/v2\/me\.json\)/, /hint: Check DESKPORT_TARGET_URL/);
  assertOperatorError(wrongKey, /rejected the API key \(401\)/, /hint: Check DESKPORT_TARGET_API_KEY/);
  assertOperatorError(wrongKeyLoad, /rejected the API key \(401\)/, /hint: Check DESKPORT_TARGET_API_KEY/);
  for (const r of [wrongKey, wrongKeyLoad]) assert.ok(!r.stderr.includes('wrong-key-123') && !r.stdout.includes('wrong-key-123'), 'the key is not echoed');
  assertOperatorError(pgBad, /Postgres: the staging database at 127\.0\.0\.1:1 cannot be used: it cannot be reached \(ECONNREFUSED\)/, /hint: Check DATABASE_URL/);
  assert.ok(!pgBad.stderr.includes('secret-pw'), 'the database password is not echoed');
  assertOperatorError(kafkaBad, /Kafka: no broker of KAFKA_BROKERS answers \(127\.0\.0\.1:1: ECONNREFUSED\)/, /hint: Check KAFKA_BROKERS/);
  assertOperatorError(noMapping, /mapping file .*nope\.yaml: cannot read the file \(ENOENT\)/, /hint: .*mapping file is YAML or JSON/);
  assertOperatorError(invalidMapping, /mapping file .*mapping\.yaml: .*line \d+/, /hint: /);
  assertOperatorError(noSource, /the source export .*nope\.json does not exist/, /hint: Pass the export with --source/);
  assertOperatorError(openKeyFile, /tw-key is readable by others; run: chmod 600/, /hint: /);
  assertOperatorError(zdToken, /Zendesk at http:\/\/127\.0\.0\.1:\d+ rejected the credentials \((401|anonymous user), API token of admin@acme\.example\)/, /hint: Check DESKPORT_SOURCE_EMAIL/);
  assert.ok(!zdToken.stderr.includes('wrong-token'));
  assertOperatorError(openTokenFile, /DESKPORT_SOURCE_API_TOKEN_FILE: .*zd-token is readable by others; run: chmod 600/, /hint: /);
  assert.ok(!openTokenFile.stderr.includes('fixture-api-token'));
});

test('--debug shows the stack trace', async () => {
  const r = await runCli(['--debug', 'check'], { ...base, DESKPORT_TARGET_URL: sandbox.url, DESKPORT_TARGET_API_KEY: 'wrong-key-123' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /rejected the API key \(401\)/);
  assert.ok(hasStack(r.stderr), r.stderr);
});

test('every subcommand --help has examples and says where secrets come from', async () => {
  const top = await runCli(['--help'], {});
  const commands = top.stdout.slice(top.stdout.indexOf('Commands:'));
  const names = [...commands.matchAll(/^  ([a-z-]+)(?: \[options\])?(?: \[\w+\])?\s{2,}/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
  const mine = ['check', 'demo', 'extract', 'status', 'post-checklist', 'init', 'report'];
  for (const n of mine) assert.ok(names.includes(n), `${n} is listed`);
  // Every command gets the secrets note from one loop in cli.ts; the commands this suite owns are
  // read back, one process each, a few at a time (tsx start-up is the cost).
  for (let i = 0; i < mine.length; i += 4) {
    const batch = mine.slice(i, i + 4);
    const helps = await Promise.all(batch.map((n) => runCli([n, '--help'], {})));
    helps.forEach((h, j) => {
      assert.equal(h.code, 0, batch[j]);
      assert.match(h.stdout, /Examples?:/, `${batch[j]} --help has examples`);
      assert.match(h.stdout, /owner-only file/, `${batch[j]} --help names the secret sources`);
      assert.match(h.stdout, /never echoed/, batch[j]);
    });
  }
});
