import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { request } from 'undici';
import { loadConfig } from '../../core/config.ts';
import { ConfigError } from '../../core/errors.ts';
import { CSV_COLUMNS, type RunReportDocument } from '../../serve/report-files.ts';
import { startServe, type ServeHandle } from '../../serve/index.ts';
import { completedRun, type CompletedRun } from './fixture.ts';

/** JSON records as the CSV carries them: strings, empty for null. */
function asCsvRows(records: RunReportDocument['records']): Record<string, string>[] {
  return records.map((r) => Object.fromEntries(CSV_COLUMNS.map(([name, key]) => [name,
    key === 'warnings' ? r.warnings.map((w) => w.message).join('; ') : r[key] === null ? '' : String(r[key])])));
}

describe('deskport serve: the reconciliation API over a completed sandbox run', () => {
  let run: CompletedRun;
  let server: ServeHandle;
  let id: number;
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(server.url + path, { headers });
    const text = await res.body.text();
    return { status: res.statusCode, type: String(res.headers['content-type'] ?? ''), text, json: () => JSON.parse(text) };
  };

  before(async () => {
    run = await completedRun();
    id = run.report.runId;
    server = await startServe({ db: run.deps.db, registry: run.deps.registry, config: run.config() }, { port: 0 });
  });
  after(async () => {
    await server?.close();
    await run?.close();
  });

  test('binds loopback and answers /healthz', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await get('/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { status: 'ok', staging: 'ok' });
  });

  test('/runs and /runs/:id show the run with its reconciliation', async () => {
    const runs = (await get('/runs')).json().runs;
    assert.equal(runs[0].id, id);
    assert.equal(runs[0].status, 'done');
    const detail = (await get(`/runs/${id}`)).json();
    const tickets = detail.counts.find((c: { entity: string }) => c.entity === 'tickets');
    assert.equal(tickets.extracted, 16);
    assert.equal(tickets.rejected, 1);
    assert.equal(tickets.loaded, 15);
    for (const c of detail.counts) assert.equal(c.missing, 0, `${c.entity} missing`);
    assert.equal(detail.totals.rejected, 1);
    assert.ok(detail.reasons.some((r: { state: string; entity: string; reason: string }) => r.state === 'rejected' && r.entity === 'tickets' && /created_at/.test(r.reason)));
    assert.equal(detail.verification.different, 0);
    assert.equal(detail.verification.checked, 15);
    // The API reads the same views as the terminal report.
    assert.deepEqual(detail.counts, run.report.counts);
  });

  test('/runs/:id/report: JSON with one record per staged row and reject; the CSV parses back to the same rows', async () => {
    const report = (await get(`/runs/${id}/report`)).json() as RunReportDocument;
    const staged = await run.deps.db.raw(`select (select count(*) from companies) + (select count(*) from people) + (select count(*) from tickets) + (select count(*) from comments) as n`);
    assert.equal(report.records.length, Number(staged.rows[0].n) + 1);
    const rejected = report.records.filter((r) => r.status === 'rejected');
    assert.deepEqual(rejected.map((r) => [r.entity, r.sourceId]), [['tickets', run.rejectedTicketId]]);
    const ticket = report.records.find((r) => r.entity === 'tickets' && r.status === 'migrated')!;
    const mapped = await run.deps.db('id_map').where({ entity: 'tickets', source_id: ticket.sourceId }).first();
    assert.equal(ticket.targetId, mapped.target_id);

    const byAccept = await get(`/runs/${id}/report`, { accept: 'text/csv' });
    assert.equal(byAccept.status, 200);
    assert.match(byAccept.type, /^text\/csv/);
    const byQuery = await get(`/runs/${id}/report?format=csv`);
    assert.equal(byQuery.text, byAccept.text);
    const rows = parse(byAccept.text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    assert.deepEqual(Object.keys(rows[0]!), CSV_COLUMNS.map(([n]) => n));
    assert.deepEqual(rows, asCsvRows(report.records));
  });

  test('the report files written at the end of the run hold the same rows', async () => {
    const dir = join(run.dir.path, 'reports', `run-${id}`);
    assert.equal(run.report.reportDir, dir);
    const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunReportDocument;
    const csv = parse(readFileSync(join(dir, 'records.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    assert.deepEqual(csv, asCsvRows(json.records));
    assert.ok(existsSync(join(dir, 'counts.csv')));
    const api = (await get(`/runs/${id}/report`)).json() as RunReportDocument;
    assert.deepEqual(json.counts, api.counts);
    assert.deepEqual(json.records, api.records);
  });

  test('/runs/:id/records filters by status and entity and pages without overlap', async () => {
    const first = (await get(`/runs/${id}/records?status=migrated&entity=tickets&limit=4`)).json();
    assert.equal(first.total, 15);
    assert.equal(first.records.length, 4);
    const seen: string[] = [];
    let next: string | null = `/runs/${id}/records?status=migrated&entity=tickets&limit=4`;
    while (next) {
      const page = (await get(next)).json();
      for (const r of page.records) {
        assert.equal(r.status, 'migrated');
        assert.equal(r.entity, 'tickets');
        seen.push(r.sourceId);
      }
      next = page.next;
    }
    assert.equal(seen.length, 15);
    assert.equal(new Set(seen).size, 15);
    const rejected = (await get(`/runs/${id}/records?status=rejected`)).json();
    assert.equal(rejected.total, 1);
  });

  test('bad input gets a clear error', async () => {
    const bad = await get(`/runs/${id}/records?status=lost`);
    assert.equal(bad.status, 400);
    assert.match(bad.json().message, /status/);
    const missing = await get('/runs/999999/report');
    assert.equal(missing.status, 404);
    assert.match(missing.json().message, /no run 999999/);
    assert.equal((await get('/runs/abc')).status, 400);
  });

  test('/runs/:id/verify gives the latest verification', async () => {
    const v = (await get(`/runs/${id}/verify`)).json();
    assert.equal(v.verification.runId, id);
    assert.equal(v.verification.checked, 15);
    assert.deepEqual(v.problems, []);
  });

  test('/openapi.json is generated from the route schemas; /metrics is Prometheus text', async () => {
    const doc = (await get('/openapi.json')).json();
    assert.equal(doc.openapi, '3.0.3');
    for (const p of ['/healthz', '/metrics', '/runs', '/runs/{id}', '/runs/{id}/report', '/runs/{id}/records', '/runs/{id}/verify']) assert.ok(doc.paths[p], p);
    assert.ok(doc.paths['/runs/{id}/report'].get.responses['200'].content['text/csv']);
    const metrics = await get('/metrics');
    assert.match(metrics.type, /^text\/plain/);
    assert.match(metrics.text, /deskport_load_records_total/);
  });
});

describe('deskport serve: binding and the bearer token', () => {
  test('config refuses a non-loopback host without a token', () => {
    assert.throws(() => loadConfig({ env: { DESKPORT_SERVE_HOST: '0.0.0.0' } }), (err: unknown) => err instanceof ConfigError && /DESKPORT_SERVE_TOKEN/.test(err.message));
    const ok = loadConfig({ env: { DESKPORT_SERVE_HOST: '0.0.0.0', DESKPORT_SERVE_TOKEN: 'a-long-enough-token-123' } });
    assert.equal(ok.serve.host, '0.0.0.0');
    assert.equal(loadConfig({ env: {} }).serve.host, '127.0.0.1');
  });

  test('with a token, every route but /healthz needs it, and the token never appears in answers', async () => {
    const { freshDatabase } = await import('../helpers.ts');
    const { createRegistry } = await import('../../core/metrics.ts');
    const db = await freshDatabase();
    const token = 'serve-token-0123456789abcdef';
    const config = loadConfig({ env: { DESKPORT_SERVE_TOKEN: token } });
    const server = await startServe({ db: db.db, registry: createRegistry(), config }, { port: 0 });
    try {
      const noAuth = await request(`${server.url}/runs`);
      assert.equal(noAuth.statusCode, 401);
      assert.doesNotMatch(await noAuth.body.text(), new RegExp(token));
      const wrong = await request(`${server.url}/runs`, { headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.statusCode, 401);
      await wrong.body.dump();
      const ok = await request(`${server.url}/runs`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(await ok.body.json(), { runs: [] });
      const health = await request(`${server.url}/healthz`);
      assert.equal(health.statusCode, 200);
      await health.body.dump();
    } finally {
      await server.close();
      await db.drop();
    }
  });
});
