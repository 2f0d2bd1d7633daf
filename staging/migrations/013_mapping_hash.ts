import type { Knex } from 'knex';

/** The tables `transform --remap` rewrites: the only ones whose rows depend on the mapping. */
const TABLES = ['companies', 'people', 'tickets', 'comments'];

/**
 * Issue 16.5: which mapping each staged row was mapped with (`mappingHash`, core/config.ts). A
 * loader compares it with the mapping in effect and re-applies the mapping first when they
 * differ, so no row is loaded with a mapping the operator has since edited. Rows staged before
 * this column existed are null: their mapping is unknown, so they count as stale once.
 */
export async function up(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    await knex.schema.alterTable(table, (t) => {
      t.text('mapping_hash').comment('sha256 of the mapping this row was mapped with (null: unknown, staged before 013)');
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) await knex.schema.alterTable(table, (t) => t.dropColumn('mapping_hash'));
}
