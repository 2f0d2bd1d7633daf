import type { Knex } from 'knex';

/**
 * Mapping support (issue 6): every canonical row keeps the raw source record it came from (a
 * changed mapping is re-applied without re-extracting), tickets record their routed inbox, and
 * reference data (groups, custom fields) the mapping file names is staged in `source_refs`.
 */
export async function up(knex: Knex): Promise<void> {
  for (const table of ['companies', 'people', 'tickets', 'comments']) {
    await knex.schema.alterTable(table, (t) => {
      t.jsonb('raw').comment('the source record and extractor meta it was mapped from (transform --remap)');
    });
  }
  await knex.schema.alterTable('tickets', (t) => {
    t.text('inbox').comment('routed inbox name (mapping inboxes.rules); null: the fallback inbox');
    t.index(['inbox']);
  });
  await knex.schema.createTable('source_refs', (t) => {
    t.text('source').notNullable();
    t.text('kind').notNullable().comment("'groups' or 'custom_fields'");
    t.text('source_id').notNullable();
    t.bigInteger('run_id').notNullable();
    t.jsonb('data').notNullable().comment('CanonicalGroup / CanonicalCustomField');
    t.jsonb('raw');
    t.text('content_hash').notNullable();
    t.timestamp('staged_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['source', 'kind', 'source_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('source_refs');
  await knex.schema.alterTable('tickets', (t) => {
    t.dropIndex(['inbox']);
    t.dropColumn('inbox');
  });
  for (const table of ['companies', 'people', 'tickets', 'comments']) {
    await knex.schema.alterTable(table, (t) => t.dropColumn('raw'));
  }
}
