import type { Knex } from 'knex';
import { MAPPED_TABLES } from './upsert-batch.ts';

/**
 * Staged rows of a source mapped with another mapping than `hash` (issue 16.5), per table. Only
 * rows with a raw record count: those are the ones `transform --remap` can map again (synthetic
 * rows are regenerated with their ticket). Null hashes (rows staged before 013) count as stale.
 */
export async function staleMappingCounts(db: Knex, source: string, hash: string): Promise<Record<string, number>> {
  const tables = [...MAPPED_TABLES];
  const { rows } = await db.raw(
    tables.map((t) => `SELECT '${t}' AS entity, count(*)::int AS n FROM ${t} WHERE source = ? AND raw IS NOT NULL AND mapping_hash IS DISTINCT FROM ?`).join(' UNION ALL '),
    tables.flatMap(() => [source, hash]),
  );
  return Object.fromEntries(rows.map((r: any) => [r.entity, r.n]));
}
