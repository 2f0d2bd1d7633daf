import type { Knex } from 'knex';
import { bumpImportGeneration } from './import-generation.ts';

/** One id_map row of the run being rolled back, with what staging knows about its record. */
export interface MappedRow {
  entity: string;
  sourceId: string;
  targetId: string;
  origin: 'created' | 'matched' | null;
  /** people: 'agent' | 'customer'; null for other entities or a row no longer staged. */
  role: string | null;
}

/** The run's id_map rows of one entity (what it loaded and has not been rolled back yet). */
export async function mappedRowsOfRun(db: Knex, runId: number, source: string, entity: string): Promise<MappedRow[]> {
  const q = db('id_map as m').where({ 'm.run_id': runId, 'm.source': source, 'm.entity': entity })
    .select('m.source_id', 'm.target_id', 'm.origin').orderBy('m.source_id');
  if (entity === 'people') {
    q.leftJoin('people as p', function join() {
      this.on('p.source', '=', 'm.source').andOn('p.source_id', '=', 'm.source_id');
    }).select('p.role');
  }
  const rows = await q;
  return rows.map((r: any) => ({ entity, sourceId: r.source_id, targetId: String(r.target_id), origin: r.origin ?? null, role: r.role ?? null }));
}

/** Every entity with id_map rows of the run, with how many (for "nothing to roll back"). */
export async function mappedCountsOfRun(db: Knex, runId: number): Promise<Record<string, number>> {
  const rows = await db('id_map').where({ run_id: runId }).select('entity').count('* as n').groupBy('entity');
  return Object.fromEntries(rows.map((r: any) => [r.entity, Number(r.n)]));
}

/**
 * Of `personIds`, the people a ticket loaded by another run still points at (requester, CC or
 * comment author): deleting them would damage a migration that is not being rolled back.
 */
export async function peopleUsedByOtherRuns(db: Knex, runId: number, source: string, personIds: string[]): Promise<Set<string>> {
  if (personIds.length === 0) return new Set();
  const { rows } = await db.raw(
    `WITH other AS (SELECT source_id FROM id_map WHERE source = ? AND entity = 'tickets' AND run_id IS DISTINCT FROM ?),
     used AS (
       SELECT t.data->>'requesterSourceId' AS id FROM tickets t JOIN other o ON o.source_id = t.source_id WHERE t.source = ?
       UNION SELECT jsonb_array_elements_text(t.data->'ccSourceIds') FROM tickets t JOIN other o ON o.source_id = t.source_id WHERE t.source = ?
       UNION SELECT c.data->>'authorSourceId' FROM comments c JOIN other o ON o.source_id = c.ticket_source_id WHERE c.source = ?)
     SELECT id FROM used WHERE id = ANY(?)`,
    [source, runId, source, source, source, personIds],
  );
  return new Set(rows.map((r: any) => r.id));
}

/** Customers of the source without an email: the import made them a placeholder address. */
export async function peopleWithoutEmail(db: Knex, source: string): Promise<string[]> {
  return db('people').where({ source }).whereNot('role', 'agent').whereNull('email').orderBy('source_id').pluck('source_id');
}

/**
 * Of `companyIds`, the companies a person who stays in the target is linked to: one mapped by
 * another run, or one of `keptPeople` of this run.
 */
export async function companiesUsedByOthers(db: Knex, runId: number, source: string, companyIds: string[], keptPeople: string[]): Promise<Set<string>> {
  if (companyIds.length === 0) return new Set();
  const { rows } = await db.raw(
    `SELECT DISTINCT p.data->>'companySourceId' AS id FROM people p
       JOIN id_map m ON m.source = p.source AND m.entity = 'people' AND m.source_id = p.source_id
      WHERE p.source = ? AND (m.run_id IS DISTINCT FROM ? OR p.source_id = ANY(?)) AND p.data->>'companySourceId' = ANY(?)`,
    [source, runId, keptPeople, companyIds],
  );
  return new Set(rows.map((r: any) => r.id));
}

/**
 * Hands rows of the run back: their id_map rows go, their staging rows return to `pending`
 * (a ticket's comments with it), so a later run loads them again. In one transaction, after the
 * target delete succeeded: a crash before it leaves the row mapped, and the next rollback's
 * DELETE answers 404, which counts as done.
 */
export async function releaseRows(db: Knex, opts: { runId: number; source: string; entity: string; stagingTable: string | null; sourceIds: string[] }): Promise<void> {
  if (opts.sourceIds.length === 0) return;
  await db.transaction(async (trx) => {
    await trx('id_map').where({ source: opts.source, entity: opts.entity, run_id: opts.runId }).whereIn('source_id', opts.sourceIds).delete();
    if (!opts.stagingTable) return;
    const reset = {
      load_state: 'pending', load_reason: null, load_attempts: 0, load_run_id: null, loaded_at: null,
      claimed_by: null, claimed_at: null, changed_since_load: false, load_warnings: null,
    };
    // A row a live loader holds right now is its business, not ours.
    await trx(opts.stagingTable).where({ source: opts.source }).whereIn('source_id', opts.sourceIds).whereNot('load_state', 'loading').update(reset);
    // The article's address and body as written belong to the deleted article: the next load writes new ones.
    if (opts.stagingTable === 'kb_articles') {
      await trx('kb_articles').where({ source: opts.source }).whereIn('source_id', opts.sourceIds).whereNot('load_state', 'loading').update({ target_url: null, target_contents: null });
    }
    if (opts.stagingTable === 'tickets') {
      // Messages mapped one by one (v2 writes) went with their ticket.
      await trx('id_map').where({ source: opts.source, entity: 'comments' })
        .whereIn('source_id', trx('comments').select('source_id').where({ source: opts.source }).whereIn('ticket_source_id', opts.sourceIds)).delete();
      await trx('comments').where({ source: opts.source }).whereIn('ticket_source_id', opts.sourceIds).whereNot('load_state', 'loading').update(reset);
      // Tickets written through v2 (migration 007) remember their target ids there too: forget
      // them, or the next load would take the deleted ticket for done.
      if (await hasV2Writes(trx)) await trx('v2_writes').where({ source: opts.source }).whereIn('ticket_source_id', opts.sourceIds).delete();
    }
  });
}

/**
 * Tickets whose import may have happened without staging knowing (a write with no answer, to be
 * looked up on the next attempt). After a rollback moves the import source on, the next attempt
 * would import them again under the new string: a duplicate.
 */
export async function ticketsInDoubt(db: Knex, source: string): Promise<number> {
  const [row] = await db('tickets').where({ source }).whereIn('load_state', ['pending', 'loading']).where('load_attempts', '>', 0).count('* as n');
  return Number(row!.n);
}

/** Of the run's mapped comments, those whose ticket the run did not map (a delta run's new messages). */
export async function commentsOnOtherTickets(db: Knex, runId: number, source: string): Promise<Set<string>> {
  const rows = await db('id_map as m').join('comments as c', function j() { this.on('c.source', '=', 'm.source').andOn('c.source_id', '=', 'm.source_id'); })
    .where({ 'm.run_id': runId, 'm.source': source, 'm.entity': 'comments' })
    .whereNotExists(db('id_map as t').whereRaw("t.source = c.source AND t.entity = 'tickets' AND t.source_id = c.ticket_source_id AND t.run_id = ?", [runId]))
    .pluck('m.source_id');
  return new Set(rows);
}

/** Help Docs category → its parent category (migration 005), for deleting the deepest first. */
export async function kbCategoryParents(db: Knex, source: string): Promise<Map<string, string | null>> {
  const rows = await db('kb_categories').where({ source }).select('source_id', 'parent_source_id');
  return new Map(rows.map((r: any) => [r.source_id, r.parent_source_id ?? null]));
}

let v2WritesTable: boolean | undefined;
async function hasV2Writes(db: Knex): Promise<boolean> {
  v2WritesTable ??= await db.schema.hasTable('v2_writes');
  return v2WritesTable;
}

export interface RollbackRecord {
  previousStatus: string;
  startedAt: string;
  finishedAt?: string;
  importGeneration?: number;
  deleted?: Record<string, number>;
  alreadyGone?: Record<string, number>;
  released?: Record<string, number>;
  kept?: Record<string, number>;
}

/**
 * Marks the run as being rolled back and, in the same transaction, moves the source's import
 * generation on — once: a resumed rollback (status already rolling_back) keeps both as they are.
 */
export async function beginRollback(db: Knex, runId: number, source: string): Promise<{ resumed: boolean; record: RollbackRecord }> {
  return db.transaction(async (trx) => {
    const run = await trx('runs').where({ id: runId }).forUpdate().first('status', 'rollback');
    if (run.status === 'rolling_back' && run.rollback) return { resumed: true, record: run.rollback as RollbackRecord };
    const importGeneration = await bumpImportGeneration(trx, source, runId);
    const record: RollbackRecord = { previousStatus: run.status, startedAt: new Date().toISOString(), importGeneration };
    await trx('runs').where({ id: runId }).update({ status: 'rolling_back', rollback: JSON.stringify(record) });
    return { resumed: false, record };
  });
}

/** Stores the rollback's counts so far; `finished` also marks the run rolled back. */
export async function saveRollback(db: Knex, runId: number, record: RollbackRecord, finished: boolean): Promise<void> {
  await db('runs').where({ id: runId }).update({
    rollback: JSON.stringify(finished ? { ...record, finishedAt: new Date().toISOString() } : record),
    ...(finished ? { status: 'rolled_back' } : {}),
  });
}
