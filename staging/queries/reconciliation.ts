import type { Knex } from 'knex';
import type { LoadWarning } from './load-warnings.ts';

/**
 * The words every report uses for a record (CLI, CSV, JSON, the page): `migrated` (loaded, whole),
 * `migrated with warnings` (loaded, but something of it was not carried: see its warnings),
 * `skipped`, `failed`, `rejected` (refused by transform), `pending` (not loaded yet, or being
 * loaded). `missing` is a count, never a record's outcome: extracted but not in staging at all.
 */
export const OUTCOMES = ['migrated', 'migrated with warnings', 'skipped', 'failed', 'rejected', 'pending'] as const;
export type Outcome = typeof OUTCOMES[number];

/** One entity's line of the `reconciliation` view for a run. */
export interface ReconciliationRow {
  entity: string;
  /** Records the run read from the source (duplicates included). */
  extracted: number;
  duplicates: number;
  staged: number;
  /** In the target: migrated + migratedWithWarnings. */
  loaded: number;
  /** Loaded whole. */
  migrated: number;
  /** Loaded, with warnings (what was not carried): the `with_warnings` column of the view. */
  withWarnings: number;
  skipped: number;
  failed: number;
  pending: number;
  loading: number;
  rejected: number;
  /** Extracted but neither loaded, skipped, failed nor rejected: must be 0 when a run ends. */
  missing: number;
}

export interface ReasonRow { entity: string; state: string; reason: string; count: number }
export interface WarningRow { entity: string; code: string; message: string; count: number }

/** One record of a run as the report lists it (the `run_records` view). */
export interface RecordRow {
  entity: string;
  source: string;
  sourceId: string;
  ticketSourceId: string | null;
  targetId: string | null;
  targetTicketId: string | null;
  /** The record's outcome, in the report's words (OUTCOMES). */
  status: Outcome;
  reason: string | null;
  /** What the target did not take of a migrated record; [] for none. */
  warnings: LoadWarning[];
  attempts: number;
  /** Tickets: the source assignee the target has no agent for, and how the ticket keeps them (issue 16.2); else null. */
  originalAssignee: string | null;
}

const ENTITY_ORDER = ['companies', 'people', 'tickets', 'comments', 'kb_categories', 'kb_articles'];

/** Per-entity counts of a run, in load order. */
export async function reconciliation(db: Knex, runId: number): Promise<ReconciliationRow[]> {
  const rows = await db('reconciliation').where({ run_id: runId })
    .orderByRaw(`array_position(?::text[], entity)`, [ENTITY_ORDER]);
  return rows.map((r: any) => ({
    entity: r.entity, extracted: r.source_count, duplicates: r.duplicates, staged: r.staged, loaded: r.loaded,
    migrated: r.loaded - r.with_warnings, withWarnings: r.with_warnings, skipped: r.skipped,
    failed: r.failed, pending: r.pending, loading: r.loading, rejected: r.rejected, missing: r.missing,
  }));
}

/** What one run did: the rows it brought to their load state (`run_activity`), per entity. */
export interface ActivityRow { entity: string; migrated: number; withWarnings: number; skipped: number; failed: number }

export async function runActivity(db: Knex, runId: number): Promise<ActivityRow[]> {
  const rows = await db('run_activity').where({ run_id: runId }).orderByRaw(`array_position(?::text[], entity)`, [ENTITY_ORDER]);
  return rows.map((r: any) => ({ entity: r.entity, migrated: r.migrated, withWarnings: r.with_warnings, skipped: r.skipped, failed: r.failed }));
}

/** Warnings of a run's migrated records grouped by code and message, most frequent first. */
export async function warningCounts(db: Knex, runId: number): Promise<WarningRow[]> {
  const rows = await db('warning_counts').where({ run_id: runId }).orderBy([{ column: 'count', order: 'desc' }, 'entity', 'code', 'message']);
  return rows.map((r: any) => ({ entity: r.entity, code: r.code, message: r.message, count: r.count }));
}

/** Skipped, failed and rejected records of a run grouped by reason, most frequent first. */
export async function reasonCounts(db: Knex, runId: number): Promise<ReasonRow[]> {
  const rows = await db('reason_counts').where({ run_id: runId }).orderBy([{ column: 'count', order: 'desc' }, 'entity', 'state', 'reason']);
  return rows.map((r: any) => ({ entity: r.entity, state: r.state, reason: r.reason, count: r.count }));
}

/**
 * `status` takes an outcome word (OUTCOMES) or a load state (`loaded` = both kinds of migrated,
 * `loading`), so older links and SQL habits keep working.
 */
export interface RecordFilter { status?: string; entity?: string; limit?: number; offset?: number }

/** Status filter values the records route accepts. */
export const RECORD_STATUS_FILTERS = [...OUTCOMES, 'loaded', 'loading'] as const;

/** Records of a run in a stable order (entity in load order, then source id), optionally filtered and paged. */
export async function runRecords(db: Knex, runId: number, f: RecordFilter = {}): Promise<{ total: number; records: RecordRow[] }> {
  const base = db('run_records as r').where({ 'r.run_id': runId });
  if (f.status === 'loaded' || f.status === 'loading') base.where({ 'r.status': f.status });
  else if (f.status) base.where({ 'r.outcome': f.status });
  if (f.entity) base.where({ 'r.entity': f.entity });
  const [{ n }] = await base.clone().count<{ n: string }[]>('* as n');
  const q = base.clone().select('r.*', 't.kept_assignee')
    .leftJoin('tickets as t', (j) => j.on('t.source', 'r.source').andOn('t.source_id', 'r.source_id').andOnVal('r.entity', 'tickets'))
    .orderByRaw(`array_position(?::text[], r.entity), length(r.source_id), r.source_id`, [ENTITY_ORDER]);
  if (f.limit !== undefined) q.limit(f.limit);
  if (f.offset) q.offset(f.offset);
  const rows = await q;
  return {
    total: Number(n),
    records: rows.map((r: any) => ({
      entity: r.entity, source: r.source, sourceId: r.source_id, ticketSourceId: r.ticket_source_id, targetId: r.target_id,
      targetTicketId: r.target_ticket_id, status: r.outcome, reason: r.reason, warnings: r.warnings ?? [], attempts: r.attempts,
      originalAssignee: r.status === 'loaded' && r.kept_assignee ? keptAssigneeText(r.kept_assignee) : null,
    })),
  };
}

/** "Name <email> (kept as tag+header)", "… (assigned to lead@…; kept as tag+header)": one cell of records.csv. */
function keptAssigneeText(k: { name: string | null; email: string | null; sourceId: string; keptAs: string; assignedTo: string | null }): string {
  const who = [k.name, k.email ? `<${k.email}>` : null].filter(Boolean).join(' ') || `source user ${k.sourceId}`;
  const kept = k.keptAs === 'both' ? 'tag+header' : k.keptAs === 'none' ? 'nothing' : k.keptAs;
  return `${who} (${k.assignedTo ? `assigned to ${k.assignedTo}; ` : ''}kept as ${kept})`;
}

export interface RunListRow {
  id: number; kind: string; source: string; status: string; startedAt: Date; finishedAt: Date | null;
  loaded: number; withWarnings: number; skipped: number; failed: number; rejected: number; missing: number;
}

/** Every run, newest first, with its totals. */
export async function listRuns(db: Knex, opts: { limit?: number } = {}): Promise<RunListRow[]> {
  const rows = await db('runs as r')
    .leftJoin(db('reconciliation').groupBy('run_id').select('run_id')
      .sum({ loaded: 'loaded', with_warnings: 'with_warnings', skipped: 'skipped', failed: 'failed', rejected: 'rejected', missing: 'missing' }).as('t'), 't.run_id', 'r.id')
    .select('r.*', 't.loaded', 't.with_warnings', 't.skipped', 't.failed', 't.rejected', 't.missing')
    .orderBy('r.id', 'desc').limit(opts.limit ?? 100);
  return rows.map((r: any) => ({
    id: Number(r.id), kind: r.kind, source: r.source, status: r.status, startedAt: r.started_at, finishedAt: r.finished_at,
    loaded: Number(r.loaded ?? 0), withWarnings: Number(r.with_warnings ?? 0), skipped: Number(r.skipped ?? 0), failed: Number(r.failed ?? 0), rejected: Number(r.rejected ?? 0), missing: Number(r.missing ?? 0),
  }));
}

/** The newest run, or the newest finished one. */
export async function latestRunId(db: Knex, opts: { finished?: boolean } = {}): Promise<number | undefined> {
  const q = db('runs').orderBy('id', 'desc').first('id');
  if (opts.finished) q.whereNotIn('status', ['running', 'refused']);
  const row = await q;
  return row ? Number(row.id) : undefined;
}
