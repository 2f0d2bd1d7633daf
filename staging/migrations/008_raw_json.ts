import type { Knex } from 'knex';

const TABLES = ['companies', 'people', 'tickets', 'comments', 'source_refs', 'kb_categories', 'kb_articles'];

/**
 * `raw` becomes `json` (issue 6, transform throughput): the source record is kept as the text it
 * arrived in, checked but not converted to jsonb's binary form — that conversion was a third of
 * Postgres' work per staged row, for a column read back only by `transform --remap`. The `->`
 * and `->>` operators work on json as they did on jsonb; `raw::jsonb` gives the rest.
 */
export async function up(knex: Knex): Promise<void> {
  for (const table of TABLES) await knex.raw('ALTER TABLE ?? ALTER COLUMN raw TYPE json USING raw::json', [table]);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) await knex.raw('ALTER TABLE ?? ALTER COLUMN raw TYPE jsonb USING raw::jsonb', [table]);
}
