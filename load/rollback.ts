import type { Registry } from 'prom-client';
import { DeskportError, errorMessage, TargetHttpError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { counter } from '../core/metrics.ts';
import {
  beginRollback, commentsOnOtherTickets, companiesUsedByOthers, getRun, kbCategoryParents, importSourceFor, mappedCountsOfRun, mappedRowsOfRun, peopleUsedByOtherRuns,
  peopleWithoutEmail, releaseRows, saveRollback, ticketsInDoubt, type Db, type MappedRow, type RunRow,
} from '../staging/index.ts';
import type { TeamworkDeskClient } from './client.ts';
import { forEachLimit } from './concurrency.ts';
import { placeholderEmail } from './import-payload.ts';
import { listAll } from './target-directory.ts';

/** config mapping.placeholderEmailDomain's default (the command passes the configured one). */
const DEFAULT_PLACEHOLDER_DOMAIN = 'customers.deskport.invalid';

/**
 * `deskport rollback --run <id>` (R17): deletes from the target what one run created, children
 * first — tickets (their messages go with them), Help Docs articles and categories, then
 * customers, then companies —
 * and hands the run's staging rows back to `pending` so a later run loads them again. What the
 * run only matched (agents, customers and companies that already existed) is never deleted.
 * Safe to interrupt and run again: a record's id_map row goes only after its DELETE succeeded,
 * and a DELETE answered 404 means it is already gone.
 */

/** One kind of record a run can create in the target, in delete order (children first). */
export interface RollbackKind {
  /** id_map entity. */
  entity: string;
  /** What the operator sees ("customers" for the people entity). */
  label: string;
  /** The staging table whose rows go back to pending; null: none. */
  stagingTable: string | null;
  /** v2 path (under /desk/api/v2) of the DELETE for one target id. */
  deletePath(targetId: string, target: TargetContext): string | Promise<string>;
}

/** What a delete path may need from the target, read once and only when needed. */
export interface TargetContext { helpDocsSite(): Promise<number> }

/**
 * In delete order. Help Docs (migration 005): articles before categories, and categories
 * deepest first (the target refuses to delete a category that still has articles or children).
 * A new kind of record deskport creates gets a line here, and its loader passes `origin`.
 */
export const ROLLBACK_KINDS: RollbackKind[] = [
  { entity: 'tickets', label: 'tickets', stagingTable: 'tickets', deletePath: (id) => `/tickets/${id}.json` },
  // Messages go with their ticket; the API documents no DELETE for one message, so one a run
  // added to a ticket of another run (a delta run) stays: planned 'keep', never deleted.
  { entity: 'comments', label: 'messages', stagingTable: 'comments', deletePath: () => { throw new Error('messages are never deleted one by one'); } },
  { entity: 'kb_articles', label: 'articles', stagingTable: 'kb_articles', deletePath: async (id, t) => `/helpdocssites/${await t.helpDocsSite()}/helpdocarticles/${id}.json` },
  { entity: 'kb_categories', label: 'categories', stagingTable: 'kb_categories', deletePath: (id) => `/helpdocscategories/${id}.json` },
  { entity: 'people', label: 'customers', stagingTable: 'people', deletePath: (id) => `/customers/${id}.json` },
  { entity: 'companies', label: 'companies', stagingTable: 'companies', deletePath: (id) => `/companies/${id}.json` },
];

/** What a rollback does to one mapped row. */
export interface PlannedRow extends MappedRow {
  /** delete: deskport created it; release: not deleted (it existed, or is an agent) but handed back to pending; keep: left as it is. */
  action: 'delete' | 'release' | 'keep';
  reason: string;
}
export interface RollbackPlan {
  run: RunRow;
  kinds: { kind: RollbackKind; rows: PlannedRow[] }[];
  /**
   * Placeholder addresses (deskport's own domain) of customers without an email that no ticket
   * of another run uses: the import created such a customer with a ticket, and nothing in
   * id_map says so. Looked up when the rollback runs, deleted if found.
   */
  placeholders: string[];
}

export type Outcome = 'deleted' | 'alreadyGone' | 'released' | 'kept' | 'failed';
export interface RollbackSummary {
  runId: number;
  byKind: Record<string, Record<Outcome, number>>;
  failures: { label: string; targetId: string; reason: string }[];
  /** The import source string the next load uses. */
  nextImportSource: string;
  calls: number;
  seconds: number;
  stopped: boolean;
}
export interface RollbackProgress { label: string; done: number; total: number }

const REASONS = {
  created: 'created by this run',
  agent: 'an agent: matched, never created, so never deleted',
  matched: 'existed in the target before this run (matched or reused): not deleted',
  unknown: 'loaded before deskport recorded whether it created it: not deleted',
  usedByTickets: 'still used by tickets another run loaded: kept',
  usedByPeople: 'customers that stay in the target belong to it: kept',
  withTicket: 'deleted with its ticket',
  messageElsewhere: 'added to a ticket of another run; no DELETE for one message: kept',
};

/** Checks the run can be rolled back and decides, row by row, what the rollback does. */
export async function planRollback(db: Db, runId: number, opts: { force?: boolean; placeholderDomain?: string } = {}): Promise<RollbackPlan> {
  const run = await getRun(db, runId);
  if (!run) {
    throw new DeskportError('DESKPORT_NO_RUN', `there is no run ${runId}`, { hint: 'Run ids are in the runs table and in every report (deskport serve lists them at /runs).' });
  }
  if (run.status === 'running' && !opts.force) {
    throw new DeskportError('DESKPORT_RUN_RUNNING', `run ${runId} is still running; roll it back once it has stopped`, {
      hint: 'Wait for it to finish or stop it with Ctrl-C. If its process died without recording that, pass --force.',
    });
  }
  if (run.status !== 'rolling_back' && !opts.force) {
    const inDoubt = await ticketsInDoubt(db, run.source);
    if (inDoubt > 0) {
      throw new DeskportError('DESKPORT_LOAD_IN_DOUBT', `${inDoubt} tickets of ${run.source} were sent to the target without a known outcome; roll back once the load has settled`, {
        hint: 'Run `deskport load --final` until nothing is pending, then roll back. (--force skips this check; those tickets could then be imported twice.)',
      });
    }
  }
  const kinds: RollbackPlan['kinds'] = [];
  const keptPeople: string[] = [];
  for (const kind of ROLLBACK_KINDS) {
    const mapped = await mappedRowsOfRun(db, runId, run.source, kind.entity);
    let rows: PlannedRow[];
    if (kind.entity === 'people') {
      const created = mapped.filter((r) => r.role !== 'agent' && r.origin === 'created').map((r) => r.sourceId);
      const used = await peopleUsedByOtherRuns(db, runId, run.source, created);
      rows = mapped.map((r) => decide(r, used, REASONS.usedByTickets));
      keptPeople.push(...rows.filter((r) => r.action === 'keep').map((r) => r.sourceId));
    } else if (kind.entity === 'companies') {
      const created = mapped.filter((r) => r.origin === 'created').map((r) => r.sourceId);
      const used = await companiesUsedByOthers(db, runId, run.source, created, keptPeople);
      rows = mapped.map((r) => decide(r, used, REASONS.usedByPeople));
    } else if (kind.entity === 'comments') {
      const elsewhere = await commentsOnOtherTickets(db, runId, run.source);
      rows = mapped.map((r) => (elsewhere.has(r.sourceId)
        ? { ...r, action: 'keep', reason: REASONS.messageElsewhere }
        : { ...r, action: 'release', reason: REASONS.withTicket }));
    } else if (kind.entity === 'tickets') {
      // Only the import makes tickets: every one the run mapped, it created.
      rows = mapped.map((r) => ({ ...r, action: 'delete', reason: REASONS.created }));
    } else {
      rows = mapped.map((r) => decide(r, new Set(), ''));
    }
    kinds.push({ kind, rows });
  }
  const noEmail = await peopleWithoutEmail(db, run.source);
  const usedElsewhere = await peopleUsedByOtherRuns(db, runId, run.source, noEmail);
  const placeholders = noEmail.filter((id) => !usedElsewhere.has(id))
    .map((id) => placeholderEmail(run.source, id, opts.placeholderDomain ?? DEFAULT_PLACEHOLDER_DOMAIN).toLowerCase());
  const actionable = kinds.some((k) => k.rows.some((r) => r.action !== 'keep'));
  if (!actionable && run.status !== 'rolling_back') {
    const mappedCount = Object.values(await mappedCountsOfRun(db, runId)).reduce((a, b) => a + b, 0);
    const kept = kinds.flatMap((k) => k.rows).map((r) => r.reason);
    const why = run.status === 'rolled_back' && mappedCount === 0 ? 'it was rolled back already'
      : mappedCount > 0 ? `what it loaded stays (${[...new Set(kept)].join('; ')})`
        : 'it wrote nothing to the target';
    throw new DeskportError('DESKPORT_NOTHING_TO_ROLL_BACK', `run ${runId} has nothing to roll back: ${why}`, {
      hint: 'Roll back the newer runs first, or check the run id (deskport report --run <id>).',
    });
  }
  return { run, kinds, placeholders };
}

function decide(r: MappedRow, used: Set<string>, usedReason: string): PlannedRow {
  if (r.role === 'agent') return { ...r, action: 'release', reason: REASONS.agent };
  if (r.origin === 'matched') return { ...r, action: 'release', reason: REASONS.matched };
  if (r.origin === null) return { ...r, action: 'release', reason: REASONS.unknown };
  if (used.has(r.sourceId)) return { ...r, action: 'keep', reason: usedReason };
  return { ...r, action: 'delete', reason: REASONS.created };
}

/** Counts of a plan by kind and action, for the dry run and the confirmation prompt. */
export function planCounts(plan: RollbackPlan): { label: string; delete: number; release: number; keep: number; reasons: Record<string, number> }[] {
  return plan.kinds.map(({ kind, rows }) => {
    const reasons: Record<string, number> = {};
    for (const r of rows) if (r.action !== 'delete') reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;
    return {
      label: kind.label, reasons,
      delete: rows.filter((r) => r.action === 'delete').length,
      release: rows.filter((r) => r.action === 'release').length,
      keep: rows.filter((r) => r.action === 'keep').length,
    };
  });
}

/**
 * Carries the plan out. A kind whose deletes did not all succeed stops the rollback before its
 * parents (a customer is not deleted while one of its tickets is still there); the run stays
 * `rolling_back` and the same command finishes the job.
 */
export async function executeRollback(
  deps: { db: Db; client: TeamworkDeskClient; log: Logger; registry: Registry }, plan: RollbackPlan,
  opts: { concurrency?: number; importSource: string; helpDocsSiteId?: number; signal?: AbortSignal; onProgress?: (p: RollbackProgress) => void },
): Promise<RollbackSummary> {
  const { db, client, log } = deps;
  const started = Date.now();
  const calls0 = client.callCount;
  const { run } = plan;
  const outcomes = counter(deps.registry, 'deskport_rollback_records_total', 'Records a rollback handled, by kind and outcome', ['kind', 'outcome']);
  const { record } = await beginRollback(db, run.id, run.source);
  let site: Promise<number> | undefined;
  const target: TargetContext = {
    // The site the KB loader wrote to: the configured one, else the target's first.
    helpDocsSite: () => site ??= listAll<{ id: number }>(client, 'helpdocssites').then((sites) => {
      const found = opts.helpDocsSiteId ? sites.find((x) => x.id === opts.helpDocsSiteId) : sites[0];
      if (!found) throw new DeskportError('DESKPORT_NO_HELP_DOCS_SITE', 'the target has no Help Docs site to delete articles from');
      return found.id;
    }),
  };
  const summary: RollbackSummary = {
    runId: run.id, byKind: {}, failures: [], calls: 0, seconds: 0, stopped: false,
    nextImportSource: await importSourceFor(db, { source: run.source, importSource: opts.importSource }),
  };
  for (const { kind, rows } of plan.kinds) {
    // After every ticket of the run is gone, before the customers deskport created through v2.
    if (kind.entity === 'people' && plan.placeholders.length > 0 && !opts.signal?.aborted) {
      const counts: Record<Outcome, number> = { deleted: 0, alreadyGone: 0, released: 0, kept: 0, failed: 0 };
      summary.byKind['placeholder customers'] = counts;
      try {
        for (const id of await findPlaceholderCustomers(client, plan.placeholders)) {
          counts[(await deleteInTarget(client, `${client.v2}/customers/${id}.json`)) ? 'alreadyGone' : 'deleted']++;
        }
      } catch (err) {
        counts.failed++;
        summary.failures.push({ label: 'placeholder customers', targetId: '?', reason: errorMessage(err) });
        break;
      }
      outcomes.inc({ kind: 'placeholder customers', outcome: 'deleted' }, counts.deleted);
    }
    if (rows.length === 0) continue;
    const counts: Record<Outcome, number> = { deleted: 0, alreadyGone: 0, released: 0, kept: 0, failed: 0 };
    summary.byKind[kind.label] = counts;
    const count = (o: Outcome, n = 1) => {
      counts[o] += n;
      outcomes.inc({ kind: kind.label, outcome: o }, n);
    };
    const total = rows.filter((r) => r.action !== 'keep').length;
    let done = 0;
    const advance = (n: number) => {
      done += n;
      opts.onProgress?.({ label: kind.label, done, total });
    };
    opts.onProgress?.({ label: kind.label, done: 0, total });
    count('kept', rows.filter((r) => r.action === 'keep').length);

    // Not deleted, only handed back: no call to the target.
    const released = rows.filter((r) => r.action === 'release').map((r) => r.sourceId);
    await releaseRows(db, { runId: run.id, source: run.source, entity: kind.entity, stagingTable: kind.stagingTable, sourceIds: released });
    count('released', released.length);
    advance(released.length);

    const deleteOne = async (row: PlannedRow) => {
      if (opts.signal?.aborted) return;
      try {
        const gone = await deleteInTarget(client, `${client.v2}${await kind.deletePath(row.targetId, target)}`);
        // Only now: a crash before this line leaves the row mapped, and the next DELETE answers 404.
        await releaseRows(db, { runId: run.id, source: run.source, entity: kind.entity, stagingTable: kind.stagingTable, sourceIds: [row.sourceId] });
        count(gone ? 'alreadyGone' : 'deleted');
        advance(1);
      } catch (err) {
        count('failed');
        summary.failures.push({ label: kind.label, targetId: row.targetId, reason: errorMessage(err) });
        log.warn({ kind: kind.label, targetId: row.targetId, reason: errorMessage(err) }, 'could not delete; the rollback will try it again');
      }
    };
    for (const level of await deleteLevels(db, run.source, kind, rows.filter((r) => r.action === 'delete'))) {
      await forEachLimit(level, opts.concurrency ?? 4, deleteOne);
      if (counts.failed > 0 || opts.signal?.aborted) break;
    }
    if (opts.signal?.aborted) {
      summary.stopped = true;
      break;
    }
    if (counts.failed > 0) break;
  }
  summary.calls = client.callCount - calls0;
  summary.seconds = (Date.now() - started) / 1000;
  // A resumed rollback adds to what the interrupted one recorded.
  const sum = (o: 'deleted' | 'alreadyGone' | 'released') => Object.fromEntries(Object.entries(summary.byKind).map(([k, c]) => [k, c[o] + (record[o]?.[k] ?? 0)]));
  const finished = summary.failures.length === 0 && !summary.stopped;
  await saveRollback(db, run.id, {
    ...record, deleted: sum('deleted'), alreadyGone: sum('alreadyGone'), released: sum('released'),
    kept: Object.fromEntries(Object.entries(summary.byKind).map(([k, c]) => [k, c.kept])),
  }, finished);
  return summary;
}

/**
 * Rows to delete in groups that may go in parallel: one group, except for Help Docs categories,
 * which go deepest first.
 */
async function deleteLevels(db: Db, source: string, kind: RollbackKind, rows: PlannedRow[]): Promise<PlannedRow[][]> {
  if (kind.entity !== 'kb_categories' || rows.length === 0) return [rows];
  const parents = await kbCategoryParents(db, source);
  const depth = (id: string, seen = new Set<string>()): number => {
    const parent = parents.get(id);
    return parent && !seen.has(parent) ? 1 + depth(parent, seen.add(id)) : 0;
  };
  const levels = new Map<number, PlannedRow[]>();
  for (const r of rows) {
    const d = depth(r.sourceId);
    levels.set(d, [...(levels.get(d) ?? []), r]);
  }
  return [...levels.entries()].sort((a, b) => b[0] - a[0]).map(([, list]) => list);
}

/**
 * Target ids of the customers holding these placeholder addresses, 50 addresses a call. Each
 * answer is checked against its own emails, so a filter the target ignored can never widen the
 * delete to other customers.
 */
async function findPlaceholderCustomers(client: TeamworkDeskClient, emails: string[]): Promise<number[]> {
  const wanted = new Set(emails);
  const ids: number[] = [];
  for (let i = 0; i < emails.length; i += 50) {
    const chunk = emails.slice(i, i + 50);
    const body = await client.request<{ customers?: CustomerWire[]; included?: { contacts?: ContactWire[] } }>('GET', `${client.v2}/customers.json`, {
      query: { filter: JSON.stringify({ 'contacts.value': { $in: chunk } }), includes: 'contacts', pageSize: 100 },
    });
    const contacts = new Map((body?.included?.contacts ?? []).map((c) => [c.id, c.value?.toLowerCase()]));
    for (const c of body?.customers ?? []) {
      const own = [c.email?.toLowerCase(), ...(c.contacts ?? []).map((r) => contacts.get(r.id))];
      if (own.some((e) => e && wanted.has(e))) ids.push(c.id);
    }
  }
  return ids;
}
interface CustomerWire { id: number; email?: string; contacts?: { id: number }[] }
interface ContactWire { id: number; value?: string }

/** DELETE one record; true when the target says it is already gone (404): done either way. */
async function deleteInTarget(client: TeamworkDeskClient, path: string): Promise<boolean> {
  try {
    await client.request('DELETE', path, { idempotent: true });
    return false;
  } catch (err) {
    if (err instanceof TargetHttpError && err.status === 404) return true;
    throw err;
  }
}
