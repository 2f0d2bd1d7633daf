import type { Knex } from 'knex';

/**
 * `deskport rollback --run <id>` (R17): what deskport created in the target can be told from what
 * it only matched (agents, customers that already existed), the v1 import's dedupe key can be
 * moved on after a rollback, and a run records that it was rolled back.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('id_map', (t) => {
    t.text('origin').comment("'created' (deskport wrote it: rollback deletes it) | 'matched' (it existed: never deleted); null = loaded before 006, unknown");
    t.index(['run_id', 'entity']);
  });
  await knex.raw("ALTER TABLE id_map ADD CONSTRAINT id_map_origin_check CHECK (origin IN ('created', 'matched'))");

  // The target dedupes imported tickets by (import source, id) and may remember deleted tickets:
  // after a rollback the next import uses a new source string, `<importSource>#<generation>`.
  await knex.schema.createTable('import_generations', (t) => {
    t.text('source').primary().comment('the staging source name (config source.name)');
    t.integer('generation').notNullable().defaultTo(1);
    t.bigInteger('bumped_by_run').comment('the run whose rollback moved it on');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.alterTable('runs', (t) => {
    t.jsonb('rollback').comment('rollback bookkeeping: {previousStatus, startedAt, finishedAt, deleted, released, kept}; runs.status is rolling_back / rolled_back meanwhile');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('runs', (t) => t.dropColumn('rollback'));
  await knex.schema.dropTableIfExists('import_generations');
  await knex.raw('ALTER TABLE id_map DROP CONSTRAINT IF EXISTS id_map_origin_check');
  await knex.schema.alterTable('id_map', (t) => {
    t.dropIndex(['run_id', 'entity']);
    t.dropColumn('origin');
  });
}
