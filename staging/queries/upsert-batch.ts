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
        data: JSON.stringify(r.data),
        content_hash: contentHash(r.data),
        raw: r.raw === undefined ? null : JSON.stringify(r.raw),
        load_state: skip ? 'skipped' : 'pending',
        load_reason: skip,
        ...extraColumns(r),
      };
    });
    const t = table;
    // A filtered row (R12) is skipped with its rule, unless the target already has it; a row no
    // longer filtered (its hash changed) goes back to pending.
    const keep = `??.load_state IN ('loaded', 'loading') OR (??.content_hash = excluded.content_hash AND excluded.load_state <> 'skipped')`;
    await trx(table).insert(values).onConflict(['source', 'source_id']).merge({
      data: trx.raw('excluded.data'),
      raw: trx.raw('COALESCE(excluded.raw, ??.raw)', [t]),
      run_id: trx.raw('excluded.run_id'),
      staged_at: trx.fn.now(),
      ...Object.fromEntries(Object.keys(extraColumns(list[0]!)).map((c) => [c, trx.raw(`excluded.??`, [c])])),
      changed_since_load: trx.raw(`??.changed_since_load OR (??.load_state = 'loaded' AND ??.content_hash <> excluded.content_hash)`, [t, t, t]),
      load_state: trx.raw(`CASE WHEN ${keep} THEN ??.load_state ELSE excluded.load_state END`, [t, t, t]),
      load_reason: trx.raw(`CASE WHEN ${keep} THEN ??.load_reason ELSE excluded.load_reason END`, [t, t, t]),
      content_hash: trx.raw('excluded.content_hash'),
    });
  }
}
