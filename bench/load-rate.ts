/**
 * Loader benchmark: how much of the target's rate limit the loader spends, how many calls the
 * target refuses with 429, and how many calls a ticket costs against the API's floor.
 *
 *   npx tsx bench/load-rate.ts [--tickets 600] [--limit 6000] [--seconds 60] [--concurrency 6] [--inline-sandbox]
 *
 * Runs against the Teamwork Desk sandbox (its real fixed-window limit) on embedded Postgres
 * and Kafka (or DATABASE_URL / KAFKA_BROKERS). The sandbox runs as a process of its own, as a
 * real target is remote (--inline-sandbox: in this process, sharing its event loop). Prints
 * figures; asserts nothing.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Loader } from '../load/loader.ts';
import { TargetDirectory } from '../load/target-directory.ts';
import { createKafka } from '../core/bus.ts';
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { createRegistry } from '../core/metrics.ts';
import { extractAndStage } from '../cli/pipeline.ts';
import { ensureServices } from '../core/services/index.ts';
import { connectTarget } from '../load/connect-target.ts';
import { createRun, migrateStaging, openStaging } from '../staging/index.ts';
import { generateZendeskData } from '../test/fixtures/zendesk-data.ts';
import { startSandbox } from '../test/sandbox/index.ts';
import pg from 'pg';

const { values } = parseArgs({ options: {
  tickets: { type: 'string', default: '600' }, limit: { type: 'string', default: '6000' }, seconds: { type: 'string', default: '60' },
  'inline-sandbox': { type: 'boolean', default: false }, concurrency: { type: 'string', default: '6' },
} });
const tickets = Number(values.tickets);
const limit = Number(values.limit);
const seconds = Number(values.seconds);

const workDir = process.env.DESKPORT_WORK_DIR ?? '.deskport';
const svc = await ensureServices({ workDir });
const dbName = `bench_${Date.now()}`;
const admin = new pg.Client({ connectionString: svc.databaseUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(svc.databaseUrl);
url.pathname = `/${dbName}`;
const db = openStaging(url.toString());
await migrateStaging(db);
const log = createLogger({ level: 'warn' });
const registry = createRegistry();
const data = generateZendeskData({ seed: 99, tickets });
const path = join(workDir, `bench-export-${tickets}.json`);
writeFileSync(path, JSON.stringify(data));
const agents = data.users.filter((u) => u.role !== 'end-user' && u.active && u.email).map((u) => ({ firstName: u.name, lastName: '', email: u.email! }));
const sandbox = values['inline-sandbox'] ? await inlineSandbox() : await sandboxProcess();
const config = loadConfig({ env: {}, overrides: { topicPrefix: `bench${Date.now()}`, source: { path }, target: { url: sandbox.url, apiKey: 'bench' }, load: { concurrency: Number(values.concurrency) }, logLevel: 'warn' } });
const deps = { db, kafka: createKafka(svc.brokers, log), log, registry };
try {
  const runId = await createRun(db, 'run', 'zendesk');
  await extractAndStage(deps, config, runId);
  const client = connectTarget(deps, config);
  const directory = await TargetDirectory.read(client);
  const loader = new Loader({ ...deps, client, directory }, config);
  const started = Date.now();
  const summary = await loader.run({ runId, finalPass: true, signal: AbortSignal.timeout(seconds * 1000) });
  const elapsed = (Date.now() - started) / 1000;
  const { calls, refused } = await sandbox.counts();
  const comments = data.tickets.reduce((n, t) => n + t.comments.length, 0);
  const loadedTickets = summary.tickets.loaded;
  const windowMinutes = Math.max(1, Math.ceil(elapsed / 60));
  console.log(JSON.stringify({
    limitPerMinute: limit, seconds: Number(elapsed.toFixed(1)), calls, callsPerMinute: Math.round((calls / elapsed) * 60),
    shareOfLimit: Number(((calls / elapsed) * 60 / limit).toFixed(3)), shareOfLimitByWindows: Number((calls / (limit * windowMinutes)).toFixed(3)),
    status429: refused, share429: Number((refused / Math.max(1, calls)).toFixed(4)),
    ticketsLoaded: loadedTickets, commentsInSample: comments,
    callsPerTicketAllPhases: Number((calls / Math.max(1, loadedTickets)).toFixed(3)),
    ticketPhaseCallsPerTicket: Number((summary.tickets.calls / Math.max(1, loadedTickets)).toFixed(3)),
    callsByPhase: { companies: summary.companies.calls, people: summary.people.calls, tickets: summary.tickets.calls },
    importFloorCallsPerTicket: Number((1 / config.target.importBatchSize).toFixed(3)),
    v2FloorCallsPerTicket: Number(((comments + tickets) / tickets).toFixed(2)),
    ticketsNotLoaded: await db('tickets').whereNot('load_state', 'loaded').groupBy('load_state', 'load_reason')
      .select('load_state', 'load_reason').count('* as n'),
  }, null, 2));
  await client.close().catch(() => undefined);
} finally {
  await sandbox.close();
  await db.destroy().catch(() => undefined);
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  await svc.stop();
}

interface BenchSandbox { url: string; counts(): Promise<{ calls: number; refused: number }>; close(): Promise<void> }

async function inlineSandbox(): Promise<BenchSandbox> {
  const sb = await startSandbox({ port: 0, apiKeys: ['bench'], rateLimitPerMinute: limit, seed: { agents } });
  return { url: sb.url, close: () => sb.close(), counts: async () => ({ calls: sb.store.callCount(), refused: sb.store.callCount({ status: 429 }) }) };
}

/** The sandbox CLI in a child process; seeded and counted through its admin routes. */
async function sandboxProcess(): Promise<BenchSandbox> {
  const child = spawn(process.execPath, [...(process.env.BENCH_SANDBOX_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_SANDBOX_PROF] : []), '--import', 'tsx', new URL('../test/sandbox/main.ts', import.meta.url).pathname,
    '--port', '0', '--rate-limit', String(limit), '--api-key', 'bench', '--fresh'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  while (!/on (http:\/\/\S+) /.test(out)) {
    if (child.exitCode !== null) throw new Error(`the sandbox exited: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /on (http:\/\/\S+) /.exec(out)![1]!;
  const seeded = await fetch(`${url}/_sandbox/seed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agents }) });
  if (!seeded.ok) throw new Error(`seeding the sandbox: ${seeded.status} ${await seeded.text()}`);
  return {
    url,
    async counts() {
      const body = await (await fetch(`${url}/_sandbox/calls`)).json() as { calls: { status: string; count: number }[]; total: number };
      return { calls: body.total, refused: body.calls.filter((c) => c.status === '429').reduce((n, c) => n + c.count, 0) };
    },
    async close() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
