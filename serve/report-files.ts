import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import {
  forcedPast, getRun, keptAssigneesOfRun, latestVerification, reasonCounts, reconciliation, runActivity, runRecords, verifyResults, warningCounts,
  type ActivityRow, type Db, type KeptAssigneeTicket, type ReasonRow, type ReconciliationRow, type RecordRow, type VerificationRow, type VerifyResult, type WarningRow,
} from '../staging/index.ts';

/** The report of a run as JSON: what the API serves and what the report files hold. */
export interface RunReportDocument {
  runId: number;
  kind: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  generatedAt: string;
  totals: ReportTotals;
  counts: ReconciliationRow[];
  /** What this run itself did (rows it brought to their load state), beside the totals of what it staged. */
  activity: ActivityRow[];
  reasons: ReasonRow[];
  /** Warnings of migrated records grouped by code and message. */
  warnings: WarningRow[];
  records: RecordRow[];
  /** Tickets whose source assignee is not an agent of the target, and what each kept of them (issue 16.2). */
  keptAssignees: { total: number; tickets: KeptAssigneeTicket[] };
  verify: { verification: VerificationRow; problems: VerifyResult[] } | null;
  /** The blocking preflight problems the run was started past with --force (issue 16.8); null: not forced. */
  forcedPast: string[] | null;
}

export interface ReportTotals {
  extracted: number; loaded: number; migrated: number; withWarnings: number; skipped: number; failed: number; rejected: number; pending: number; missing: number;
}

/** Sums of the reconciliation rows (JSON report, API, page). */
export function totalsOf(counts: ReconciliationRow[]): ReportTotals {
  const sum = (k: keyof ReconciliationRow) => counts.reduce((n, c) => n + (c[k] as number), 0);
  return {
    extracted: sum('extracted'), loaded: sum('loaded'), migrated: sum('migrated'), withWarnings: sum('withWarnings'), skipped: sum('skipped'),
    failed: sum('failed'), rejected: sum('rejected'), pending: sum('pending') + sum('loading'), missing: sum('missing'),
  };
}

/** CSV columns, one row per record; the JSON records carry the same fields (warnings as an array there). */
export const CSV_COLUMNS = [
  ['entity', 'entity'], ['source', 'source'], ['source_id', 'sourceId'], ['target_id', 'targetId'], ['status', 'status'],
  ['reason', 'reason'], ['warnings', 'warnings'], ['ticket_source_id', 'ticketSourceId'], ['target_ticket_id', 'targetTicketId'], ['attempts', 'attempts'],
  ['original_assignee', 'originalAssignee'],
] as const;

/** counts.csv: one row per entity; a record is in exactly one of migrated … missing. */
const COUNTS_COLUMNS: [string, (c: ReconciliationRow) => number | string][] = [
  ['entity', (c) => c.entity], ['extracted', (c) => c.extracted], ['duplicates', (c) => c.duplicates], ['staged', (c) => c.staged],
  ['migrated', (c) => c.migrated], ['migrated_with_warnings', (c) => c.withWarnings], ['skipped', (c) => c.skipped], ['failed', (c) => c.failed],
  ['rejected', (c) => c.rejected], ['pending', (c) => c.pending + c.loading], ['missing', (c) => c.missing],
];

/** A record's warnings in one CSV cell: their messages, `; `-separated. */
function warningsCell(r: RecordRow): string {
  return r.warnings.map((w) => w.message).join('; ');
}

export async function buildRunReport(db: Db, runId: number): Promise<RunReportDocument | undefined> {
  const run = await getRun(db, runId);
  if (!run) return undefined;
  const counts = await reconciliation(db, runId);
  const verification = await latestVerification(db, runId);
  return {
    runId, kind: run.kind, status: run.status,
    startedAt: new Date(run.started_at).toISOString(), finishedAt: run.finished_at ? new Date(run.finished_at).toISOString() : null,
    generatedAt: new Date().toISOString(),
    totals: totalsOf(counts),
    counts,
    activity: await runActivity(db, runId),
    reasons: await reasonCounts(db, runId),
    warnings: await warningCounts(db, runId),
    records: (await runRecords(db, runId)).records,
    keptAssignees: await keptAssigneesOfRun(db, runId),
    verify: verification ? { verification, problems: await verifyResults(db, verification.id) } : null,
    forcedPast: forcedPast(run),
  };
}

/** Records as CSV (RFC 4180, header row, empty cell for null). */
export function recordsCsv(records: RecordRow[]): string {
  return stringify(records.map((r) => CSV_COLUMNS.map(([, key]) => (key === 'warnings' ? warningsCell(r) : r[key] ?? ''))), {
    header: true, columns: CSV_COLUMNS.map(([name]) => name),
  });
}

export interface ReportFiles { dir: string; json: string; csv: string; countsCsv: string }

/**
 * Writes `<workDir>/reports/run-<id>/` — report.json (counts, reasons, every record, the latest
 * verify), records.csv (one row per record) and counts.csv — for operators who never open the
 * server. Each file is written to a temp name and renamed, so a reader never sees half a file.
 */
export async function writeReportFiles(db: Db, workDir: string, runId: number): Promise<ReportFiles | undefined> {
  const report = await buildRunReport(db, runId);
  if (!report) return undefined;
  const dir = join(workDir, 'reports', `run-${runId}`);
  await mkdir(dir, { recursive: true });
  const files = {
    json: join(dir, 'report.json'),
    csv: join(dir, 'records.csv'),
    countsCsv: join(dir, 'counts.csv'),
  };
  const countsCsv = stringify(report.counts.map((c) => COUNTS_COLUMNS.map(([, value]) => value(c))), {
    header: true, columns: COUNTS_COLUMNS.map(([name]) => name),
  });
  await atomicWrite(files.json, JSON.stringify(report, null, 2) + '\n');
  await atomicWrite(files.csv, recordsCsv(report.records));
  await atomicWrite(files.countsCsv, countsCsv);
  return { dir, ...files };
}

async function atomicWrite(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
