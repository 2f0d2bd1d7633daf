import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { CanonicalByEntity, CanonicalEntity } from '../canonical.ts';

export interface StagedRow<E extends CanonicalEntity = CanonicalEntity> {
  entity: E;
  source: string;
  data: CanonicalByEntity[E];
  /** The source record (and extractor meta) it was mapped from: `transform --remap` re-maps it. */
  raw?: unknown;
  /**
   * The same as JSON text as it arrived (a raw-topic message), kept byte for byte instead of
   * serializing `raw` again. UTF-8, escapes Postgres cannot store already repaired.
   */
  rawJson?: Buffer;
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

/** The staging tables whose rows the mapping shapes (and `transform --remap` rewrites): they record its hash. */
export const MAPPED_TABLES: ReadonlySet<string> = new Set(['companies', 'people', 'tickets', 'comments']);

export function contentHash(data: unknown): string {
  return hashOfJson(JSON.stringify(data));
}

function hashOfJson(json: string): string {
  return createHash('sha256').update(json).digest('hex');
}

/**
 * The rows of one table as one JSON array, built as bytes: each row's own columns serialized once
 * (its data's text also gives its content hash), its raw record appended as the bytes it came in.
 */
function rowsJson(rows: StagedRow[], runId: number, mappingHash: string | undefined): Buffer {
  const parts: Buffer[] = [];
  let text = '[';
  for (const [i, r] of rows.entries()) {
    const skip = skipReason(r);
    const data = JSON.stringify(r.data);
    const columns = JSON.stringify({
      source: r.source, source_id: r.data.sourceId, run_id: runId, content_hash: hashOfJson(data),
      load_state: skip ? 'skipped' : 'pending', load_reason: skip, ...extraColumns(r),
      ...(mappingHash !== undefined ? { mapping_hash: mappingHash } : {}),
    });
    text += `${i > 0 ? ',' : ''}${columns.slice(0, -1)},"data":${data},"raw":`;
    if (r.rawJson) {
      parts.push(Buffer.from(text), r.rawJson);
      text = '}';
    } else text += `${r.raw === undefined || r.raw === null ? 'null' : JSON.stringify(r.raw)}}`;
  }
  parts.push(Buffer.from(`${text}]`));
  return Buffer.concat(parts);
}

/**
 * Multi-row upsert keyed by (source, source_id), so re-delivery is harmless. An unchanged row keeps
 * its load state; a changed row that was not loaded yet goes back to pending; a changed row that
 * was already loaded is flagged `changed_since_load` for a delta run.
 *
 * One statement per table whose rows travel as a single JSON parameter, expanded by
 * `json_populate_recordset` into the table's own row type: one bind parameter instead of one per
 * cell (knex's placeholder building and Postgres' planning of a 1000-row VALUES list cost more
 * than the insert itself). The parameter goes as bytes (rowsJson), so raw records that came as
 * bytes are never decoded or serialized again.
 */
export async function upsertBatch(trx: Knex, runId: number, rows: StagedRow[], opts: { mappingHash?: string } = {}): Promise<void> {
  const byEntity = new Map<CanonicalEntity, StagedRow[]>();
  for (const row of rows) {
    const list = byEntity.get(row.entity) ?? [];
    list.push(row);
    byEntity.set(row.entity, list);
  }
  for (const [table, list] of byEntity) {
    // Last write wins inside one batch: ON CONFLICT cannot touch one row twice in a statement.
    const unique = new Map(list.map((r) => [r.data.sourceId, r]));
    const rows = [...unique.values()];
    // Which mapping the rows were mapped with (issue 16.5), on the tables the mapping shapes.
    const hash = opts.mappingHash !== undefined && MAPPED_TABLES.has(table) ? opts.mappingHash : undefined;
    const extra = [...Object.keys(extraColumns(rows[0]!)), ...(hash !== undefined ? ['mapping_hash'] : [])];
    const columns = ['source', 'source_id', 'run_id', 'content_hash', 'load_state', 'load_reason', ...extra, 'data', 'raw'];
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
      [table, ...columns, ...columns, table, rowsJson(rows, runId, hash), ...extra.flatMap((c) => [c, c])],
    );
  }
}
