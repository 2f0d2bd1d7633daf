import type { Knex } from 'knex';

/**
 * What the target did not take of a record it did take: a loaded row with warnings is reported as
 * "migrated with warnings" (never plain "migrated"), each warning's message in the report, the
 * CSV, the serve page and `status`. `code` is stable and short (e.g. `import_warning`,
 * `attachment_failed`, `type_not_set`); `message` is one sentence an operator can act on.
 */
export interface LoadWarning { code: string; message: string }

/** The staging tables that carry `load_warnings` (migration 009; attachments from 010). */
export type WarnedTable = 'companies' | 'people' | 'tickets' | 'comments' | 'kb_categories' | 'kb_articles' | 'attachments';

/**
 * Appends warnings to rows (the same code and message twice is kept once, order kept): the one
 * way the loader writes `load_warnings`. Rows not named are untouched; a row given no warnings is
 * untouched too. `markLoaded` clears a row's warnings when it (re)loads it, so a record loaded
 * again after a rollback carries only the warnings of its last load.
 */
export async function addLoadWarnings(db: Knex, opts: {
  table: WarnedTable; source: string; items: { sourceId: string; warnings: LoadWarning[] }[];
}): Promise<number> {
  const items = opts.items.filter((i) => i.warnings.length > 0)
    .map((i) => ({ id: i.sourceId, ws: i.warnings.map((w) => ({ code: w.code, message: w.message })) }));
  if (items.length === 0) return 0;
  const res = await db.raw(
    `UPDATE ?? AS t SET load_warnings = (
       SELECT jsonb_agg(d.e ORDER BY d.ord) FROM (
         SELECT DISTINCT ON (x.e) x.e, x.ord
           FROM jsonb_array_elements(coalesce(t.load_warnings, '[]'::jsonb) || v.w) WITH ORDINALITY AS x(e, ord)
          ORDER BY x.e, x.ord) d)
       FROM (SELECT r.id, jsonb_agg(e.w ORDER BY e.ord) AS w FROM jsonb_to_recordset(?::jsonb) AS r(id text, ws jsonb),
                    LATERAL jsonb_array_elements(r.ws) WITH ORDINALITY AS e(w, ord) GROUP BY r.id) v
      WHERE t.source = ? AND t.source_id = v.id`,
    [opts.table, JSON.stringify(items), opts.source],
  );
  return res.rowCount ?? 0;
}

/** The warnings of some rows, by source id (rows without any are left out). */
export async function loadWarningsOf(db: Knex, table: WarnedTable, source: string, sourceIds: string[]): Promise<Map<string, LoadWarning[]>> {
  if (sourceIds.length === 0) return new Map();
  const rows = await db(table).where({ source }).whereIn('source_id', [...new Set(sourceIds)])
    .whereRaw(`jsonb_array_length(coalesce(load_warnings, '[]'::jsonb)) > 0`).select('source_id', 'load_warnings');
  return new Map(rows.map((r: { source_id: string; load_warnings: LoadWarning[] }) => [r.source_id, r.load_warnings]));
}
