import type { Knex } from 'knex';

/**
 * What the staged tickets ask of the target, by name: the statuses, priorities and ticket types
 * their mapping gave them, the inboxes they land in, and the option values their mapped custom
 * fields carry. `check`, `transform --preflight` and `prepare` compare these with the target's
 * lists. Tickets a filter skipped ask nothing. A null inbox is the import's fallback inbox.
 */
export interface StagedTargetValues {
  statuses: { name: string; tickets: number }[];
  priorities: { name: string; tickets: number }[];
  types: { name: string; inbox: string | null; tickets: number }[];
  inboxes: { name: string | null; tickets: number }[];
}

export async function stagedTargetValues(db: Knex, source: string): Promise<StagedTargetValues> {
  const count = (key: string) => db.raw(
    `SELECT data->>? AS name, count(*)::int AS tickets FROM tickets
      WHERE source = ? AND load_state <> 'skipped' AND coalesce(data->>?, '') <> '' GROUP BY 1 ORDER BY 1`, [key, source, key]);
  const [statuses, priorities, types, inboxes] = await Promise.all([
    count('status'), count('priority'),
    db.raw(`SELECT data->>'type' AS name, data->'inbox'->>'name' AS inbox, count(*)::int AS tickets FROM tickets
             WHERE source = ? AND load_state <> 'skipped' AND coalesce(data->>'type', '') <> '' GROUP BY 1, 2 ORDER BY 1, 2`, [source]),
    db.raw(`SELECT data->'inbox'->>'name' AS name, count(*)::int AS tickets FROM tickets
             WHERE source = ? AND load_state <> 'skipped' GROUP BY 1 ORDER BY 1`, [source]),
  ]);
  return { statuses: statuses.rows, priorities: priorities.rows, types: types.rows, inboxes: inboxes.rows };
}

/**
 * The distinct values staged tickets carry for some custom fields (multi-select values one by
 * one), with the target field name the mapping gave them and how many tickets carry each.
 */
export async function stagedFieldValues(db: Knex, source: string, fieldSourceIds: string[]): Promise<{ fieldSourceId: string; target: string | null; value: string; tickets: number }[]> {
  if (fieldSourceIds.length === 0) return [];
  const res = await db.raw(
    `SELECT f->>'fieldSourceId' AS "fieldSourceId", f->'target'->>'name' AS target, v.value, count(DISTINCT t.source_id)::int AS tickets
       FROM tickets t
       CROSS JOIN LATERAL jsonb_array_elements(coalesce(t.data->'customFields', '[]'::jsonb)) f
       CROSS JOIN LATERAL (
         SELECT e #>> '{}' AS value FROM jsonb_array_elements(CASE WHEN jsonb_typeof(f->'value') = 'array' THEN f->'value' ELSE jsonb_build_array(f->'value') END) e
       ) v
      WHERE t.source = ? AND t.load_state <> 'skipped' AND f->>'fieldSourceId' = ANY(?)
        AND coalesce(f->'target', 'null'::jsonb) <> 'null'::jsonb AND v.value IS NOT NULL AND v.value <> ''
      GROUP BY 1, 2, 3 ORDER BY 1, 3`,
    [source, fieldSourceIds],
  );
  return res.rows;
}
