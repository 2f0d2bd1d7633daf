import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import {
  getRun, keptAssigneesOfRun, latestVerification, reasonCounts, reconciliation, runRecords, verifyResults,
  type Db, type KeptAssigneeTicket, type ReasonRow, type ReconciliationRow, type RecordRow, type VerificationRow, type VerifyResult,
} from '../staging/index.ts';

/** The report of a run as JSON: what the API serves and what the report files hold. */
export interface RunReportDocument {
  runId: number;
  kind: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  generatedAt: string;
  totals: { extracted: number; loaded: number; skipped: number; failed: number; rejected: number; missing: number };
  counts: ReconciliationRow[];
  reasons: ReasonRow[];
  records: RecordRow[];
  /** Tickets whose source assignee is not an agent of the target, and what each kept of them (issue 16.2). */
  keptAssignees: { total: number; tickets: KeptAssigneeTicket[] };
  verify: { verification: VerificationRow; problems: VerifyResult[] } | null;
}

/** CSV columns, one row per record; the JSON records carry the same fields. */
export const CSV_COLUMNS = [
  ['entity', 'entity'], ['source', 'source'], ['source_id', 'sourceId'], ['target_id', 'targetId'], ['status', 'status'],
  ['reason', 'reason'], ['ticket_source_id', 'ticketSourceId'], ['target_ticket_id', 'targetTicketId'], ['attempts', 'attempts'],
  ['original_assignee', 'originalAssignee'],
] as const;

export async function buildRunReport(db: Db, runId: number): Promise<RunReportDocument | undefined> {
  const run = await getRun(db, runId);
  if (!run) return undefined;
  const counts = await reconciliation(db, runId);
  const sum = (k: keyof ReconciliationRow) => counts.reduce((n, c) => n + (c[k] as number), 0);
  const verification = await latestVerification(db, runId);
  return {
    runId, kind: run.kind, status: run.status,
    startedAt: new Date(run.started_at).toISOString(), finishedAt: run.finished_at ? new Date(run.finished_at).toISOString() : null,
    generatedAt: new Date().toISOString(),
    totals: { extracted: sum('extracted'), loaded: sum('loaded'), skipped: sum('skipped'), failed: sum('failed'), rejected: sum('rejected'), missing: sum('missing') },
    counts,
    reasons: await reasonCounts(db, runId),
    records: (await runRecords(db, runId)).records,
    keptAssignees: await keptAssigneesOfRun(db, runId),
    verify: verification ? { verification, problems: await verifyResults(db, verification.id) } : null,
  };
}

/** Records as CSV (RFC 4180, header row, empty cell for null). */
export function recordsCsv(records: RecordRow[]): string {
  return stringify(records.map((r) => CSV_COLUMNS.map(([, key]) => r[key] ?? '')), {
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
  const countsCsv = stringify(report.counts.map((c) => [c.entity, c.extracted, c.duplicates, c.staged, c.loaded, c.skipped, c.failed, c.rejected, c.pending, c.loading, c.missing]), {
    header: true, columns: ['entity', 'extracted', 'duplicates', 'staged', 'loaded', 'skipped', 'failed', 'rejected', 'pending', 'loading', 'missing'],
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
