/**
 * The dashboards and alerts against a real Prometheus scraping a real run: `deskport run` as an
 * operator starts it (its own process, DESKPORT_METRICS_PORT set) migrating a generated export
 * into the sandbox with faults (a 429 storm, 5xx answers), Prometheus started from the project's
 * prometheus.yml scraping it every second. Every metric a dashboard panel or an alert reads must
 * exist in Prometheus, every expression must evaluate, every panel must show data, and the
 * figures must match what really happened.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { fieldSeed } from '../../cli/demo.ts';
import { startSandbox } from '../sandbox/index.ts';
import { startZendeskServer } from '../fixtures/zendesk-server/index.ts';
import { generateZendeskData } from '../fixtures/zendesk-data.ts';
import { freshDatabase, services, tempDir, uniqueName } from '../helpers.ts';
import {
  alertExprs, concrete, dashboardExprs, DASHBOARDS, freePort, metricNames, promtool, requireBinary, startPrometheus,
  type PrometheusHandle,
} from './prometheus.ts';

const KEY = 'obs-test-key';
const TICKETS = 30;

/** Bytes of the finished blobs (the store's temp dir excluded). */
function blobBytesIn(dir: string): number {
  let n = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && !join(entry.parentPath, entry.name).includes(`${join(dir, 'tmp')}`)) n += statSync(join(entry.parentPath, entry.name)).size;
  }
  return n;
}

function readDashboards(): Record<string, { panels?: unknown[] }> {
  const dir = join(DASHBOARDS, 'grafana');
  return Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8'))]));
}

describe('Prometheus scraping a real run', () => {
  const dir = tempDir();
  let prom: PrometheusHandle;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let extractDb: Awaited<ReturnType<typeof freshDatabase>>;
  let zendesk: Awaited<ReturnType<typeof startZendeskServer>>;
  const blobDir = join(dir.path, 'blobs');
  const extract = { code: -1 as number | null, output: '' };
  const panels = dashboardExprs(readDashboards());
  const alerts = alertExprs();
  const needed = [...new Set([...panels, ...alerts].flatMap((e) => metricNames(e.expr)))].sort();
  const run = { start: 0, end: 0, code: -1 as number | null, output: '', namesSeenAt: 0, names: [] as string[], exposition: '' };
  let data: ReturnType<typeof generateZendeskData>;
  const blobBytes = () => (existsSync(blobDir) ? blobBytesIn(blobDir) : 0);

  before(async () => {
    requireBinary('prometheus');
    requireBinary('promtool');
    database = await freshDatabase();
    const { brokers } = await services();

    data = generateZendeskData({ seed: 11, tickets: TICKETS });
    // One reject: its ticket still migrates with the other comments.
    (data.tickets[3]!.comments[0] as unknown as Record<string, unknown>).public = 'yes';
    const exportPath = join(dir.path, 'export.json');
    writeFileSync(exportPath, JSON.stringify(data));
    sandbox = await startSandbox({
      port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000,
      // A target prepared for the source (run refuses one its preflight blocks on): its agents and custom fields.
      seed: { agents: data.users.filter((u) => u.role !== 'end-user' && u.active && u.email).map((u) => ({ firstName: u.name, lastName: '', email: u.email! })), customfields: fieldSeed(data.ticket_fields) },
      // Slow enough for several scrapes; 5xx on reads (retried) and on company creates (outcome
      // unknown: looked up, then created). No 429 storm: a storm's "remaining 0" holds the
      // shared budget for its whole 60 s window, too long for this test.
      faults: { seed: 5, delay: 1, delayMs: [150, 300], byMethod: { GET: { error5xx: 0.25 } }, byFamily: { companies: { error5xx: 0.3 } } },
    });

    // The extract stage as a process of its own, reading the Zendesk API (fixture server) with
    // attachments into the blob store; every 5th call is a 429 that asks for a second's wait.
    extractDb = await freshDatabase();
    // Quick retries: a few of the fixture's attachment downloads fail for good.
    const extractConfig = join(dir.path, 'extract.json');
    writeFileSync(extractConfig, JSON.stringify({ source: { retryBaseMs: 20, maxRetries: 2, pageSize: 40 } }));
    zendesk = await startZendeskServer({
      seed: 12, tickets: 10, bigTicketComments: 12, maxAttachmentBytes: 20_000, email: 'obs@acme.example', apiToken: 'obs-token',
      faults: { tooManyEvery: 5, retryAfterSeconds: 1 },
    });

    prom = await startPrometheus(dir.path);
    const metricsPort = await freePort();
    const extractPort = await freePort();
    prom.setTargets([
      { targets: [`127.0.0.1:${metricsPort}`], labels: { stage: 'pipeline' } },
      { targets: [`127.0.0.1:${extractPort}`], labels: { stage: 'extract' } },
    ]);

    run.start = Date.now() / 1000;
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/cli.ts', 'run'], {
      env: {
        ...process.env,
        DATABASE_URL: database.url, KAFKA_BROKERS: brokers.join(','), DESKPORT_WORK_DIR: join(dir.path, 'work'),
        DESKPORT_TOPIC_PREFIX: uniqueName('obs'), DESKPORT_SOURCE_PATH: exportPath, DESKPORT_LOG_LEVEL: 'error',
        DESKPORT_TARGET_URL: sandbox.url, DESKPORT_TARGET_API_KEY: KEY, DESKPORT_METRICS_PORT: String(metricsPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (b: Buffer) => { run.output += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { run.output += b.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const extractChild = spawn(process.execPath, ['--import', 'tsx', 'cli/extract-main.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: extractDb.url, KAFKA_BROKERS: brokers.join(','), DESKPORT_WORK_DIR: join(dir.path, 'work-extract'),
        DESKPORT_TOPIC_PREFIX: uniqueName('obsx'), DESKPORT_LOG_LEVEL: 'error', DESKPORT_SOURCE_KIND: 'zendesk-api',
        DESKPORT_SOURCE_URL: zendesk.url, DESKPORT_SOURCE_EMAIL: 'obs@acme.example', DESKPORT_SOURCE_API_TOKEN: 'obs-token',
        DESKPORT_BLOB_DIR: blobDir, DESKPORT_METRICS_PORT: String(extractPort), DESKPORT_CONFIG: extractConfig,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    extractChild.stdout.on('data', (b: Buffer) => { extract.output += b.toString(); });
    extractChild.stderr.on('data', (b: Buffer) => { extract.output += b.toString(); });
    const extractExited = new Promise<number | null>((resolve) => extractChild.once('exit', (code) => resolve(code)));

    // While the run goes on, watch the names Prometheus has stored.
    let done = false;
    void Promise.all([exited, extractExited]).then(() => { done = true; });
    const deadline = Date.now() + 60_000;
    while (!done && Date.now() < deadline) {
      const names = (await prom.get<{ data: string[] }>('/api/v1/label/__name__/values')).data;
      run.names = names;
      if (!run.namesSeenAt && needed.every((n) => names.includes(n))) run.namesSeenAt = Date.now() / 1000;
      // The stage's own /metrics page, as late in the run as it answers.
      run.exposition = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text(), () => run.exposition);
      await sleep(500);
    }
    if (!done) { child.kill('SIGTERM'); extractChild.kill('SIGTERM'); }
    run.code = await exited;
    extract.code = await extractExited;
    run.end = Date.now() / 1000;
    await sleep(1500); // one scrape that finds the stage gone, one rule evaluation
    run.names = (await prom.get<{ data: string[] }>('/api/v1/label/__name__/values')).data;
  });

  after(async () => {
    await prom?.stop();
    await sandbox?.close();
    await zendesk?.close();
    await database?.drop();
    await extractDb?.drop();
    dir.remove();
  });

  test('the run finished and migrated the export', async () => {
    assert.equal(run.code, 0, `deskport run exited ${run.code}:\n${run.output.slice(-3000)}`);
    assert.equal(sandbox.store.list('tickets').length, TICKETS, 'every ticket is in the sandbox');
    assert.ok(sandbox.store.calls().some((c) => String(c.status).startsWith('5')), 'the sandbox answered 5xx');
  });

  test('the extract stage read the Zendesk API, attachments included', () => {
    assert.equal(extract.code, 0, `cli/extract-main.ts exited ${extract.code}:\n${extract.output.slice(-3000)}`);
    assert.ok(zendesk.stats.tooMany >= 1, 'the source answered 429');
    assert.ok(blobBytes() > 0, 'attachments are in the blob store');
  });

  test('every metric the dashboards and alerts read exists in Prometheus', () => {
    const missing = needed.filter((n) => !run.names.includes(n));
    assert.deepEqual(missing, [], `not in Prometheus: ${missing.join(', ')}`);
    assert.ok(run.namesSeenAt > 0, 'all of them were there while the run was going');
    // What the issue asks operators can watch: records in/out/rejected per stage, lag, batch
    // latency, target calls, rate-limit headroom, 429s, retries, ETA and run state.
    for (const name of [
      'deskport_extract_records_total', 'deskport_transform_records_in_total', 'deskport_transform_records_staged_total',
      'deskport_transform_records_rejected_total', 'deskport_load_records_total', 'deskport_transform_consumer_lag_messages',
      'deskport_transform_batch_duration_seconds_bucket', 'deskport_load_http_requests_total', 'deskport_load_rate_limit_remaining',
      'deskport_load_rate_limit_limit', 'deskport_load_http_429_total', 'deskport_load_http_retries_total', 'deskport_load_eta_seconds',
      'deskport_pipeline_run_state', 'up',
    ]) assert.ok(needed.includes(name), `a dashboard or alert reads ${name}`);
  });

  test("the stage's /metrics page passes promtool's lint, and no label carries an id", () => {
    assert.match(run.exposition, /^deskport_load_records_total\{/m);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: run.exposition, encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    const series = run.exposition.split('\n').filter((l) => l.startsWith('deskport_'));
    for (const line of series) {
      for (const [, label, value] of line.matchAll(/(\w+)="([^"]*)"/g)) {
        assert.doesNotMatch(value!, /\d{5,}/, `${label}="${value}" looks like an id: ${line}`);
      }
    }
    // Bounded: a migration of any size has the same series; this small one has a few hundred at most.
    assert.ok(series.length < 400, `${series.length} series`);
  });

  test('promtool accepts every dashboard expression', () => {
    const rules = { groups: [{ name: 'dashboard-panels', rules: panels.map((p, i) => ({ record: `deskport:panel_${i}`, expr: concrete(p.expr, '1m') })) }] };
    const file = join(dir.path, 'panels.rules.yml');
    writeFileSync(file, YAML.stringify(rules));
    const r = promtool(['check', 'rules', file]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${panels.length} rules found`));
  });

  test('every dashboard panel shows data for the run', async () => {
    const empty: string[] = [];
    for (const p of panels) {
      const res = await prom.queryRange(concrete(p.expr), Math.floor(run.start), Math.ceil(run.end), 1);
      assert.equal(res.status, 'success', `${p.where}: ${res.error}`);
      const points = (res.data?.result ?? []).reduce((n, s) => n + (s.values?.length ?? 0), 0);
      if (points === 0) empty.push(`${p.where}: ${p.expr}`);
    }
    assert.deepEqual(empty, [], 'panels without data');
  });

  test('every alert expression evaluates, and Prometheus evaluates every rule without error', async () => {
    for (const a of alerts) {
      const res = await prom.query(a.expr);
      assert.equal(res.status, 'success', `${a.where}: ${res.error}`);
    }
    const rules = await prom.get<{ data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } }>('/api/v1/rules');
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    assert.deepEqual(loaded.map((r) => r.name).sort(), alerts.map((a) => a.where.replace('alerts.yml ', '')).sort());
    for (const r of loaded) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
  });

  test('the figures in Prometheus are what happened', async () => {
    const at = (expr: string) => prom.query(`max_over_time((${expr})[5m:1s])`).then((r) => Number(r.data?.result[0]?.value?.[1] ?? NaN));
    const comments = data.tickets.reduce((n, t) => n + t.comments.length, 0);
    assert.equal(await at('sum(deskport_extract_records_total{stage="pipeline", entity="tickets"})'), TICKETS);
    assert.equal(await at('sum(deskport_extract_records_total{stage="pipeline", entity="comments"})'), comments);
    assert.equal(await at('sum(deskport_transform_records_rejected_total{entity="comments"})'), 1);
    assert.equal(await at('sum(deskport_transform_rejects_total{entity="comments", reason="invalid"})'), 1);
    assert.equal(await at('sum(deskport_transform_records_staged_total{entity="comments"})'), comments - 1);
    assert.equal(await at('sum(deskport_load_http_429_total{stage="pipeline"})'), sandbox.store.callCount({ status: 429 }));
    assert.ok(await at('sum(deskport_load_http_retries_total)') >= 1, 'retries counted');
    assert.ok(await at('sum(deskport_load_failures_total{entity="companies", reason="DESKPORT_OUTCOME_UNKNOWN"})') >= 1, 'in-doubt creates counted');
    assert.equal(await at('max(deskport_load_rate_limit_limit)'), 100_000);
    assert.equal(await at('max(deskport_pipeline_run_state{state="loading"})'), 1);
    // The extract stage: the bytes in the blob store, the source's 429s. It exits when done, so
    // what it counted after its last scrape (under a second's worth) never reaches Prometheus.
    const bytes = await at('sum(deskport_extract_attachment_bytes_total{stage="extract"})');
    assert.ok(bytes > 0 && bytes <= blobBytes(), `${bytes} of ${blobBytes()} blob bytes`);
    const tooMany = await at('sum(deskport_extract_rate_limited_total{stage="extract"})');
    assert.ok(tooMany >= 1 && tooMany <= zendesk.stats.tooMany, `${tooMany} of ${zendesk.stats.tooMany} source 429s`);
    // The lag of the raw topics went back to zero once transform caught up.
    assert.equal(Number((await prom.query(`sum(last_over_time(deskport_transform_consumer_lag_messages[2m]))`)).data?.result[0]?.value?.[1]), 0);
    // The stage is gone now, and Prometheus knows it (what DeskportStageDown alerts on).
    for (const stage of ['pipeline', 'extract']) {
      assert.equal(Number((await prom.query(`up{job="deskport", stage="${stage}"}`)).data?.result[0]?.value?.[1]), 0, stage);
    }
  });
});
