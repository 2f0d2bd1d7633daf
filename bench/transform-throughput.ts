/**
 * Transform throughput: raw records from Kafka into staging, in records/s, with 2 transform
 * consumers (one consumer group, two members), against a bare consume loop over the same topics
 * measured in the same run — the difference is transform's cost per record (parse, validate,
 * map, apply the mapping, multi-row upsert in one transaction per batch, offset commit).
 *
 * Each transform consumer is a process of its own (as operators scale transform out, R25): one
 * Node process is one core, and this machine has two.
 *
 *   DESKPORT_WORK_DIR=/tmp/dp-bench npx tsx bench/transform-throughput.ts [tickets=16000] [mapping.yaml]
 */
import { writeFileSync } from 'node:fs';
import { cpuOf } from './cpu.ts';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Message } from 'kafkajs';
import { ensureTopics, rawTopic, RAW_ENTITIES, endOffsets } from '../core/bus.ts';
import type { Config } from '../core/config.ts';
import { createRun } from '../staging/index.ts';
import { startTransform, transformGroupId } from '../transform/index.ts';
import { generateZendeskData } from '../test/fixtures/zendesk-data.ts';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freshDatabase, pipelineDeps, services, stopServices, tempDir, testConfig, uniqueName } from '../test/helpers.ts';
import { groupCaughtUp } from '../core/bus.ts';

if (process.argv[2] === '--worker') {
  // A transform consumer process: staging and Kafka from the parent, until SIGTERM.
  const { loadConfig } = await import('../core/config.ts');
  const { createKafka } = await import('../core/bus.ts');
  const { createLogger } = await import('../core/log.ts');
  const { createRegistry } = await import('../core/metrics.ts');
  const { openStaging } = await import('../staging/index.ts');
  const cfg = loadConfig({ env: {}, overrides: JSON.parse(process.env.BENCH_CONFIG!) });
  const log = createLogger({ level: 'warn' });
  const db = openStaging(process.env.DATABASE_URL!);
  const handle = await startTransform({ db, kafka: createKafka(cfg.kafkaBrokers!, log), log, registry: createRegistry() }, cfg);
  // CPU from here on is the consumer's own (process start and tsx compiling are not per record).
  const cpuReady = process.cpuUsage();
  process.send?.('ready');
  process.once('SIGTERM', () => void handle.close().then(() => db.destroy()).then(() => {
    const c = process.cpuUsage(cpuReady);
    process.send?.({ cpuSeconds: (c.user + c.system) / 1e6 }, () => process.exit(0));
  }));
  await new Promise(() => undefined);
}

const tickets = Number(process.argv[2] ?? 16000);


/** The raw topics as the extractor fills them (same envelopes and keys), sent in bounded chunks. */
async function produceRaw(config: Config, runId: number, data: ReturnType<typeof generateZendeskData>): Promise<number> {
  const source = config.source.name;
  const admin = deps.kafka.admin();
  await admin.connect();
  await ensureTopics(admin, RAW_ENTITIES.map((e) => rawTopic(config.topicPrefix, source, e)));
  await admin.disconnect();
  // Fast producer: the bench measures transform, so production must not be the bottleneck.
  const producer = deps.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const pending = new Map<string, Message[]>();
  let total = 0;
  let queued = 0;
  const flush = async () => {
    await producer.sendBatch({ acks: 1, topicMessages: [...pending].map(([topic, messages]) => ({ topic, messages })) });
    pending.clear();
    queued = 0;
  };
  const send = async (entity: string, key: string, record: unknown, meta?: Record<string, unknown>) => {
    const topic = rawTopic(config.topicPrefix, source, entity);
    const env = { runId, source, entity, extractedAt: new Date().toISOString(), cursor: `${entity}#${total}`, record, ...(meta ? { meta } : {}) };
    const list = pending.get(topic);
    if (list) list.push({ key, value: JSON.stringify(env) });
    else pending.set(topic, [{ key, value: JSON.stringify(env) }]);
    total++;
    if (++queued >= 2000) await flush();
  };
  for (const entity of ['organizations', 'users', 'groups', 'ticket_fields'] as const) {
    for (const r of data[entity]) await send(entity, String(r.id), r);
  }
  for (const t of data.tickets) {
    const { comments, ...ticket } = t;
    await send('tickets', String(t.id), ticket, { commentCount: comments.length });
    for (const [position, c] of comments.entries()) await send('comments', String(t.id), c, { ticketId: t.id, position });
  }
  await flush();
  await producer.disconnect();
  return total;
}
const mappingFile = process.argv[3];
const dir = tempDir();
const deps = process.argv[2] === '--worker' ? (undefined as never) : await benchDeps();

/** Pipeline deps plus the database URL the worker processes open. */
async function benchDeps() {
  const base = await pipelineDeps();
  await base.drop();
  const db = await freshDatabase();
  return { ...base, db: db.db, url: db.url, drop: db.drop };
}
try {
  const data = generateZendeskData({ seed: 42, tickets });
  const path = join(dir.path, 'export.json');
  writeFileSync(path, JSON.stringify(data));
  const config = testConfig({ source: { path }, ...(mappingFile ? { mapping: { file: mappingFile } } : {}) });
  const runId = await createRun(deps.db, 'extract', config.source.name);
  const topics = RAW_ENTITIES.map((e) => rawTopic(config.topicPrefix, config.source.name, e));
  const benchConfig = JSON.stringify({ topicPrefix: config.topicPrefix, logLevel: 'warn', source: { path }, kafkaBrokers: (await services()).brokers, ...(mappingFile ? { mapping: { file: mappingFile } } : {}) });
  const admin0 = deps.kafka.admin();
  await admin0.connect();
  await ensureTopics(admin0, topics);
  await admin0.disconnect();
  const total = await produceRaw(config, runId, data);
  console.log(`records on the raw topics: ${total} (${tickets} tickets with their comments, users, organizations, groups, fields)`);

  // Bare consume loop over the same topics in the same run: nothing done per record but counting.
  const bare = deps.kafka.consumer({ groupId: uniqueName('bench-bare') });
  await bare.connect();
  await bare.subscribe({ topics, fromBeginning: true });
  let seen = 0;
  let bareStart = 0;
  const bareCpu0 = process.cpuUsage();
  const bareEnd = await new Promise<number>((resolve) => {
    void bare.run({
      partitionsConsumedConcurrently: 2,
      eachBatch: async ({ batch }) => {
        if (bareStart === 0) bareStart = performance.now();
        seen += batch.messages.length;
        if (seen >= total) resolve(performance.now());
      },
    });
  });
  const bareCpuUse = process.cpuUsage(bareCpu0);
  const bareCpu = (bareCpuUse.user + bareCpuUse.system) / 1e6;
  await bare.disconnect();
  const bareSeconds = (bareEnd - bareStart) / 1000;
  // Transform: two consumer processes of one group, until the group committed every offset.
  const admin = deps.kafka.admin();
  await admin.connect();
  const targets = await endOffsets(admin, topics);
  const pg0 = cpuOf('postgres');
  const kafka0 = cpuOf('java');
  const t0 = performance.now();
  // BENCH_CPU_PROF=<dir>: each transform process writes a CPU profile there.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const workers = [0, 1].map(() => fork(fileURLToPath(import.meta.url), ['--worker'], {
    execArgv: ['--import', 'tsx', ...prof], env: { ...process.env, BENCH_CONFIG: benchConfig, DATABASE_URL: deps.url }, stdio: 'inherit',
  }));
  let first = 0;
  while (!(await groupCaughtUp(admin, transformGroupId(config), targets))) {
    if (first === 0 && Number((await deps.db('comments').count<{ n: string }[]>('* as n'))[0]!.n) > 0) first = performance.now();
    await new Promise((r) => setTimeout(r, 50));
  }
  const t1 = performance.now();
  await admin.disconnect();
  const workerCpu: number[] = [];
  for (const w of workers) w.on('message', (m: { cpuSeconds?: number }) => { if (m.cpuSeconds !== undefined) workerCpu.push(m.cpuSeconds); });
  await Promise.all(workers.map((w) => new Promise((resolve) => { w.once('exit', resolve); w.kill('SIGTERM'); })));
  const transformCpu = workerCpu.reduce((a, b) => a + b, 0);
  const pgCpu = pg0 === null ? null : cpuOf('postgres')! - pg0;
  const kafkaCpu = kafka0 === null ? null : cpuOf('java')! - kafka0;
  const staged = await Promise.all(['companies', 'people', 'tickets', 'comments', 'source_refs'].map(async (t) => Number((await deps.db(t).count<{ n: string }[]>('* as n'))[0]!.n)));
  const rows = staged.reduce((a, b) => a + b, 0);
  // From the first staged row: process start, tsx compile and group joins are not per-record cost.
  const seconds = (t1 - (first || t0)) / 1000;
  const perRecordUs = (x: number) => (x * 1e6) / total;
  console.log(`wall time including process start and group join: ${((t1 - t0) / 1000).toFixed(2)} s`);
  console.log(`bare consume loop:     ${(total / bareSeconds).toFixed(0).padStart(8)} records/s  (${bareSeconds.toFixed(2)} s, ${perRecordUs(bareSeconds).toFixed(1)} µs/record)`);
  console.log(`transform, 2 consumers:${(total / seconds).toFixed(0).padStart(8)} records/s  (${seconds.toFixed(2)} s from the first staged row to the last offset committed)`);
  console.log(`transform cost:        ${(perRecordUs(seconds) - perRecordUs(bareSeconds)).toFixed(1)} µs/record over the bare loop (${(seconds / bareSeconds).toFixed(1)}×)`);
  // CPU time is steadier than wall time on a shared machine; Postgres' own work is not in it.
  console.log(`CPU per record:        bare loop ${perRecordUs(bareCpu).toFixed(1)} µs, transform ${perRecordUs(transformCpu).toFixed(1)} µs (both consumer processes, after they were ready)`);
  // What limits it: the machine's cores shared by the consumers, Postgres and the broker.
  if (pgCpu !== null && kafkaCpu !== null) {
    console.log(`  beside it:            Postgres ${perRecordUs(pgCpu).toFixed(1)} µs, Kafka broker ${perRecordUs(kafkaCpu).toFixed(1)} µs (all their processes, same period)`);
  }
  console.log(`load average:          ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`staged rows: ${rows} (companies ${staged[0]}, people ${staged[1]}, tickets ${staged[2]}, comments ${staged[3]}, refs ${staged[4]})`);
} finally {
  await deps.drop();
  dir.remove();
  await stopServices();
}
