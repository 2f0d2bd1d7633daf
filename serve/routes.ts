import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { Config } from '../core/config.ts';
import { buildRunReport, recordsCsv, totalsOf } from './report-files.ts';
import {
  getRun, latestVerification, listRuns, reasonCounts, reconciliation, RECORD_STATUS_FILTERS, runActivity, runRecords, verifyResults, warningCounts,
  type Db, type RecordRow,
} from '../staging/index.ts';
import { renderReportPage } from './page.ts';
import * as S from './schemas.ts';

export interface ServeDeps { db: Db; registry: Registry; config: Config }

type IdReq = FastifyRequest<{ Params: { id: number }; Querystring: Record<string, string | undefined> }>;

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** `?format=` wins; else the Accept header (text/csv, text/html); else JSON. */
function wantedFormat(req: FastifyRequest, query: Record<string, string | undefined>): 'json' | 'csv' | 'html' {
  const f = query.format?.toLowerCase();
  if (f === 'csv' || f === 'html' || f === 'json') return f;
  const accept = String(req.headers.accept ?? '');
  if (/text\/csv/.test(accept)) return 'csv';
  if (/text\/html/.test(accept)) return 'html';
  return 'json';
}

async function runOr404(db: Db, id: number, reply: FastifyReply) {
  const run = await getRun(db, id);
  if (!run) void reply.code(404).send({ error: 'not_found', message: `there is no run ${id}` });
  return run;
}

export function registerRoutes(app: FastifyInstance, deps: ServeDeps): void {
  const { db, registry } = deps;
  const idParams = { params: S.runIdParams };
  const notFound = { 404: S.error };

  app.get('/healthz', {
    schema: { summary: 'Liveness: the server answers and staging is reachable', tags: ['ops'], response: { 200: { type: 'object', properties: { status: { type: 'string' }, staging: { type: 'string' } } } } },
  }, async () => {
    await db.raw('select 1');
    return { status: 'ok', staging: 'ok' };
  });

  app.get('/metrics', {
    schema: { summary: 'Prometheus metrics of this process', tags: ['ops'], produces: ['text/plain'] },
  }, async (_req, reply) => {
    void reply.type(registry.contentType);
    return registry.metrics();
  });

  app.get('/runs', {
    schema: {
      summary: 'Every run, newest first, with its totals', tags: ['runs'],
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
      response: { 200: { type: 'object', properties: { runs: { type: 'array', items: S.runSummary } } } },
    },
  }, async (req: FastifyRequest<{ Querystring: { limit?: number } }>) => {
    const runs = await listRuns(db, { limit: req.query.limit ?? 100 });
    return { runs: runs.map((r) => ({ ...r, startedAt: iso(r.startedAt), finishedAt: iso(r.finishedAt) })) };
  });

  app.get('/runs/:id', {
    schema: { summary: 'One run: totals, per-entity reconciliation, reasons, latest verification', tags: ['runs'], ...idParams, response: { 200: S.runDetail, ...notFound } },
  }, async (req: IdReq, reply) => {
    const run = await runOr404(db, req.params.id, reply);
    if (!run) return reply;
    const counts = await reconciliation(db, run.id);
    const runs = await listRuns(db, { limit: 1000 });
    const summary = runs.find((r) => r.id === run.id)!;
    return {
      run: { ...summary, startedAt: iso(summary.startedAt), finishedAt: iso(summary.finishedAt) },
      totals: totalsOf(counts), counts, activity: await runActivity(db, run.id), reasons: await reasonCounts(db, run.id),
      warnings: await warningCounts(db, run.id), verification: await verificationJson(db, run.id),
    };
  });

  app.get('/runs/:id/report', {
    schema: {
      summary: 'The run report: JSON (default), CSV (Accept: text/csv or ?format=csv; one row per record) or the HTML page (Accept: text/html or ?format=html)',
      tags: ['runs'], ...idParams,
      querystring: {
        type: 'object', properties: {
          format: { type: 'string', enum: ['json', 'csv', 'html'] }, status: { type: 'string' }, entity: { type: 'string' }, page: { type: 'integer', minimum: 1 },
        },
      },
      response: {
        200: {
          content: {
            'application/json': { schema: S.report },
            'text/csv': { schema: { type: 'string', description: 'entity,source,source_id,target_id,status,reason,warnings,ticket_source_id,target_ticket_id,attempts' } },
            'text/html': { schema: { type: 'string' } },
          },
        },
        ...notFound,
      },
    },
  }, async (req: IdReq, reply) => {
    const run = await runOr404(db, req.params.id, reply);
    if (!run) return reply;
    const format = wantedFormat(req, req.query);
    if (format === 'html') {
      void reply.type('text/html; charset=utf-8');
      return reportPage(deps, run.id, req.query);
    }
    const report = (await buildRunReport(db, run.id))!;
    if (format === 'csv') {
      void reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="deskport-run-${run.id}-records.csv"`);
      return recordsCsv(report.records);
    }
    void reply.type('application/json; charset=utf-8');
    return report;
  });

  app.get('/runs/:id/records', {
    schema: {
      summary: 'Records of a run, filtered by status and entity, paged', tags: ['runs'], ...idParams,
      querystring: {
        type: 'object', properties: {
          status: { type: 'string', enum: [...RECORD_STATUS_FILTERS], description: 'an outcome (migrated, migrated with warnings, skipped, failed, rejected, pending) or a load state (loaded = both kinds of migrated, loading)' },
          entity: { type: 'string', enum: ['companies', 'people', 'tickets', 'comments', 'kb_categories', 'kb_articles'] },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, offset: { type: 'integer', minimum: 0, default: 0 },
        },
      },
      response: {
        200: { type: 'object', properties: { total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' }, next: { type: ['string', 'null'] }, records: { type: 'array', items: S.record } } },
        ...notFound,
      },
    },
  }, async (req: FastifyRequest<{ Params: { id: number }; Querystring: { status?: string; entity?: string; limit: number; offset: number } }>, reply) => {
    const run = await runOr404(db, req.params.id, reply);
    if (!run) return reply;
    const { status, entity, limit, offset } = req.query;
    const { total, records } = await runRecords(db, run.id, { status, entity, limit, offset });
    const nextQuery = new URLSearchParams({ ...(status ? { status } : {}), ...(entity ? { entity } : {}), limit: String(limit), offset: String(offset + limit) });
    return { total, limit, offset, next: offset + limit < total ? `/runs/${run.id}/records?${nextQuery}` : null, records };
  });

  app.get('/runs/:id/verify', {
    schema: {
      summary: 'The latest verification of a run and every record that differs from staging', tags: ['runs'], ...idParams,
      response: { 200: S.verifyDoc, ...notFound },
    },
  }, async (req: IdReq, reply) => {
    const run = await runOr404(db, req.params.id, reply);
    if (!run) return reply;
    const v = await verificationJson(db, run.id);
    if (!v) return reply.code(404).send({ error: 'not_verified', message: `run ${run.id} has not been verified; run: deskport verify --run ${run.id}` });
    return { verification: v, problems: await verifyResults(db, v.id) };
  });

  // The report page of the newest run, for people who just open the address.
  app.get('/', { schema: { hide: true } }, async (_req, reply) => {
    const runs = await listRuns(db, { limit: 1 });
    if (runs.length === 0) return reply.type('text/html; charset=utf-8').send('<!doctype html><title>deskport</title><p>No run yet.</p>');
    return reply.redirect(`/runs/${runs[0]!.id}/report?format=html`);
  });
}

async function verificationJson(db: Db, runId: number) {
  const v = await latestVerification(db, runId);
  return v ? { ...v, startedAt: iso(v.startedAt)!, finishedAt: iso(v.finishedAt) } : null;
}

const PAGE_SIZE = 200;
const PER_REASON = 50;

async function reportPage(deps: ServeDeps, runId: number, query: Record<string, string | undefined>): Promise<string> {
  const { db, config } = deps;
  const run = (await getRun(db, runId))!;
  const counts = await reconciliation(db, runId);
  const reasons = await reasonCounts(db, runId);
  const byReason = new Map<string, RecordRow[]>();
  // Reasons are few; each group shows its first records (all of them are in the CSV and the records route).
  for (const r of reasons.slice(0, 100)) {
    const { records } = await runRecords(db, runId, { status: r.state, entity: r.entity, limit: 5000 });
    byReason.set(`${r.entity}\u0000${r.state}\u0000${r.reason}`, records.filter((x) => (x.reason ?? '(none)') === r.reason).slice(0, PER_REASON));
  }
  const page = Math.max(1, Number(query.page ?? 1) || 1);
  const status = query.status || undefined;
  const entity = query.entity || undefined;
  const { total, records } = await runRecords(db, runId, { status, entity, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
  const warnings = await warningCounts(db, runId);
  const byWarning = new Map<string, RecordRow[]>();
  for (const w of warnings.slice(0, 100)) {
    const key = `${w.entity}\u0000${w.message}`;
    if (byWarning.has(key)) continue;
    const { records } = await runRecords(db, runId, { status: 'migrated with warnings', entity: w.entity, limit: 5000 });
    byWarning.set(key, records.filter((x) => x.warnings.some((y) => y.message === w.message)).slice(0, PER_REASON));
  }
  const v = await latestVerification(db, runId);
  return renderReportPage(config, {
    run: { id: run.id, kind: run.kind, status: run.status, startedAt: iso(run.started_at)!, finishedAt: iso(run.finished_at) },
    totals: totalsOf(counts), counts, reasons, byReason, warnings, byWarning,
    records: { rows: records, total, page, pageSize: PAGE_SIZE, status, entity },
    verify: v ? { verification: { ...v, startedAt: iso(v.startedAt) as unknown as Date }, problems: await verifyResults(db, v.id, { limit: 500 }) } : null,
    basePath: `/runs/${runId}`,
  });
}
