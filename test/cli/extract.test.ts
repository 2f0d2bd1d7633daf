/**
 * `deskport extract` as its own process: progress lines, /metrics while it runs, Ctrl-C marks the
 * run interrupted (exit 130), and the next start resumes that run from its checkpoints — every
 * ticket reaches Kafka, and the run's counts add up to the source's, nothing counted twice.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { createKafka, ensureTopics, rawTopic, RAW_ENTITIES } from '../../core/bus.ts';
import { createLogger } from '../../core/log.ts';
import { createZendeskGenerator, jsonExportChunks } from '../fixtures/zendesk-data.ts';
import { freshDatabase, services, tempDir } from '../helpers.ts';
import { cliEnv, hasStack, runCli } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TICKETS = 4000;
let database: Awaited<ReturnType<typeof freshDatabase>>;
let work: ReturnType<typeof tempDir>;
let env: Record<string, string>;
let brokers: string[];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

before(async () => {
  brokers = (await services()).brokers;
  database = await freshDatabase();
  work = tempDir();
  const file = `${work.path}/export.json`;
  const out = createWriteStream(file);
  for (const c of jsonExportChunks(createZendeskGenerator({ seed: 11, tickets: TICKETS }))) {
    if (!out.write(c)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  env = cliEnv({ databaseUrl: database.url, brokers, workDir: work.path, extra: { DESKPORT_SOURCE_PATH: file } });
  // Topics made ahead, as an operator's Kafka would have them (a brand-new topic's leader election
  // under heavy load is not what this test is about).
  const kafka = createKafka(brokers, createLogger({ level: 'error' }));
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, RAW_ENTITIES.map((e) => rawTopic(env.DESKPORT_TOPIC_PREFIX!, 'zendesk', e)));
  await admin.disconnect();
});

after(async () => {
  await database?.drop();
  work?.remove();
});

test('extract: progress and metrics while running, Ctrl-C = interrupted, the next start resumes without loss', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/cli.ts', 'extract', '--metrics-port', String(port), '--progress-every', '0.2'], {
    cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, DESKPORT_LOG_LEVEL: 'error', ...env },
  });
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const progressed = new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (/extract: \d+ records \(/.test(stderr)) resolve();
  }));
  await Promise.race([progressed, exited]);
  assert.match(stderr, /extract: \d+ records/, stderr);
  const metrics = await (await request(`http://127.0.0.1:${port}/metrics`)).body.text();
  assert.match(metrics, /deskport_extract_records_total\{entity="users"\} \d+/);
  child.kill('SIGINT');
  const code = await exited;
  const runId = Number(/extract run (\d+)/.exec(stderr)![1]);
  const first = await database.db('runs').where({ id: runId }).first();
  if (code === 130) {
    assert.equal(first.status, 'interrupted', stderr);
    assert.match(stderr, /marked interrupted/);
  } else {
    // It finished before the signal landed (a fast machine): nothing to resume, still correct.
    assert.equal(code, 0, stderr);
  }
  assert.ok(!hasStack(stderr), stderr);

  const second = await runCli(['extract'], env);
  assert.equal(second.code, 0, second.stderr);
  if (code === 130) assert.match(second.stderr, new RegExp(`extract run ${runId} \\(resumed from its checkpoints\\)`));
  const done = await database.db('runs').where({ id: runId }).first();
  assert.equal(done.status, 'done');
  // Counts of the run: every ticket once (a resumed run re-reads at most unacknowledged records).
  const extracted = Object.fromEntries((await database.db('run_entities').where({ run_id: runId })).map((r: any) => [r.entity, Number(r.extracted)]));
  assert.equal(extracted.tickets, TICKETS);
  const kafka = createKafka(brokers, createLogger({ level: 'error' }));
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(rawTopic(env.DESKPORT_TOPIC_PREFIX!, 'zendesk', 'tickets'));
  await admin.disconnect();
  assert.ok(offsets.reduce((n, p) => n + Number(p.high), 0) >= TICKETS, 'every ticket reached Kafka');
});
