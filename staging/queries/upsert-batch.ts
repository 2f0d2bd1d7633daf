import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { CanonicalByEntity, CanonicalEntity } from '../../transform/canonical.ts';

export interface StagedRow<E extends CanonicalEntity = CanonicalEntity> {
  entity: E;
  source: string;
  data: CanonicalByEntity[E];
  /** The source record (and extractor meta) it was mapped from: `transform --remap` re-maps it. */
  raw?: unknown;
}

/** Columns some tables keep outside `data`, for indexes and readiness checks. */
function extraColumns(row: StagedRow): Record<string, unknown> {
  switch (row.entity) {
    case 'people': {
      const d = row.data as CanonicalByEntity['people'];
      return { role: d.role, email: d.email };
    }
    case 'tickets': {
      const d = row.data as CanonicalByEntity['tickets'];
      return { expected_comments: d.commentCount, source_created_at: d.createdAt, inbox: d.inbox?.name ?? null };
    }
    case 'comments': {
      const d = row.data as CanonicalByEntity['comments'];
      return { ticket_source_id: d.ticketSourceId, position: d.position };
    }
    default:
      return {};
  }
}

/** `filter: <rule>` for a ticket a filter excluded (transform/filters.ts), else null. */
function skipReason(row: StagedRow): string | null {
  if (row.entity !== 'tickets') return null;
  const skip = (row.data as CanonicalByEntity['tickets']).skip;
  return skip ? `filter: ${skip.rule}` : null;
}

export function contentHash(data: unknown): string {
  return createHash('sha256').update(JSON.stringify(data)).digest('hex');
}

/**
 * Multi-row upsert keyed by (source, source_id), so re-delivery is harmless. An unchanged row keeps
 * its load state; a changed row that was not loaded yet goes back to pending; a changed row that
 * was already loaded is flagged `changed_since_load` for a delta run.
 *
 * One statement per table whose rows travel as a single JSON parameter, expanded by
 * `json_populate_recordset` into the table's own row type: one bind parameter instead of one per
 * cell (knex's placeholder building and Postgres' planning of a 1000-row VALUES list cost more
 * than the insert itself).
 */
export async function upsertBatch(trx: Knex, runId: number, rows: StagedRow[]): Promise<void> {
  const byEntity = new Map<CanonicalEntity, StagedRow[]>();
  for (const row of rows) {
    const list = byEntity.get(row.entity) ?? [];
    list.push(row);
    byEntity.set(row.entity, list);
  }
  for (const [table, list] of byEntity) {
    // Last write wins inside one batch: ON CONFLICT cannot touch one row twice in a statement.
    const unique = new Map(list.map((r) => [r.data.sourceId, r]));
    const values = [...unique.values()].map((r) => {
      const skip = skipReason(r);
      return {
        source: r.source,
        source_id: r.data.sourceId,
        run_id: runId,
        data: r.data,
        content_hash: contentHash(r.data),
        raw: r.raw === undefined ? null : r.raw,
        load_state: skip ? 'skipped' : 'pending',
        load_reason: skip,
        ...extraColumns(r),
      };
    });
    const extra = Object.keys(extraColumns(list[0]!));
    const columns = Object.keys(values[0]!);
    const cols = columns.map(() => '??').join(', ');
    // A filtered row (R12) is skipped with its rule, unless the target already has it; a row no
    // longer filtered (its hash changed) goes back to pending.
    const keep = `t.load_state IN ('loaded', 'loading') OR (t.content_hash = excluded.content_hash AND excluded.load_state <> 'skipped')`;
    await trx.raw(
      `INSERT INTO ?? AS t (${cols}) SELECT ${cols} FROM json_populate_recordset(NULL::??, ?::json)
       ON CONFLICT (source, source_id) DO UPDATE SET
         data = excluded.data, raw = COALESCE(excluded.raw, t.raw), run_id = excluded.run_id, staged_at = now(),
         ${extra.map(() => '?? = excluded.??').join(', ')}${extra.length > 0 ? ',' : ''}
         changed_since_load = t.changed_since_load OR (t.load_state = 'loaded' AND t.content_hash <> excluded.content_hash),
         load_state = CASE WHEN ${keep} THEN t.load_state ELSE excluded.load_state END,
         load_reason = CASE WHEN ${keep} THEN t.load_reason ELSE excluded.load_reason END,
         content_hash = excluded.content_hash`,
      [table, ...columns, ...columns, table, JSON.stringify(values), ...extra.flatMap((c) => [c, c])],
    );
  }
}
