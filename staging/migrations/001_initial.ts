import type { Knex } from 'knex';

/** Columns every canonical table shares: identity, content, and the per-row load state. */
function canonicalColumns(t: Knex.CreateTableBuilder, knex: Knex): void {
  t.text('source').notNullable();
  t.text('source_id').notNullable();
  t.bigInteger('run_id').notNullable().comment('last run that staged this row');
  t.jsonb('data').notNullable().comment('the canonical record (transform/canonical.ts)');
  t.text('content_hash').notNullable().comment('sha256 of data: a delta run tells changed from unchanged');
  t.text('load_state').notNullable().defaultTo('pending');
  t.text('load_reason');
  t.integer('load_attempts').notNullable().defaultTo(0);
  t.text('claimed_by');
  t.timestamp('claimed_at', { useTz: true });
  t.bigInteger('load_run_id').comment('run that brought the row to its load state');
  t.timestamp('loaded_at', { useTz: true });
  t.boolean('changed_since_load').notNullable().defaultTo(false);
  t.timestamp('staged_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  t.primary(['source', 'source_id']);
  t.index(['load_state']);
}

const LOAD_STATES = "('pending','loading','loaded','failed','skipped')";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('runs', (t) => {
    t.bigIncrements('id');
    t.text('kind').notNullable();
    t.text('source').notNullable();
    t.text('status').notNullable().defaultTo('running');
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.jsonb('options').notNullable().defaultTo('{}');
    t.jsonb('summary');
  });
  // Raw ingest bookkeeping: how many records of each entity a run extracted (the "source count").
  await knex.schema.createTable('run_entities', (t) => {
    t.bigInteger('run_id').notNullable().references('runs.id').onDelete('CASCADE');
    t.text('entity').notNullable();
    t.integer('extracted').notNullable().defaultTo(0);
    t.primary(['run_id', 'entity']);
  });
  await knex.schema.createTable('checkpoints', (t) => {
    t.text('source').notNullable();
    t.text('stream').notNullable();
    t.text('cursor').notNullable();
    t.bigInteger('run_id');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['source', 'stream']);
  });
  await knex.schema.createTable('rejects', (t) => {
    t.bigIncrements('id');
    t.bigInteger('run_id');
    t.text('source').notNullable();
    t.text('entity').notNullable();
    t.text('source_id');
    t.text('parent_source_id').comment('for a comment: its ticket');
    t.text('topic').notNullable();
    t.integer('partition').notNullable();
    t.bigInteger('kafka_offset').notNullable();
    t.text('reason').notNullable();
    t.text('path');
    t.jsonb('payload');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['topic', 'partition', 'kafka_offset'], { indexName: 'rejects_message_unique' });
  });
  await knex.schema.createTable('companies', (t) => canonicalColumns(t, knex));
  await knex.schema.createTable('people', (t) => {
    canonicalColumns(t, knex);
    t.text('role').notNullable().comment("'agent' or 'customer'");
    t.text('email');
    t.index(['email']);
  });
  await knex.schema.createTable('tickets', (t) => {
    canonicalColumns(t, knex);
    t.integer('expected_comments').notNullable().comment('comments the source says the ticket has');
    t.timestamp('source_created_at', { useTz: true }).notNullable();
    t.index(['source_created_at']);
  });
  await knex.schema.createTable('comments', (t) => {
    canonicalColumns(t, knex);
    t.text('ticket_source_id').notNullable();
    t.integer('position').notNullable().comment('0-based order inside the ticket');
    t.index(['source', 'ticket_source_id']);
  });
  for (const table of ['companies', 'people', 'tickets', 'comments']) {
    await knex.raw(`ALTER TABLE ?? ADD CONSTRAINT ?? CHECK (load_state IN ${LOAD_STATES})`, [table, `${table}_load_state_check`]);
  }
  await knex.schema.createTable('id_map', (t) => {
    t.text('source').notNullable();
    t.text('entity').notNullable();
    t.text('source_id').notNullable();
    t.text('target_id').notNullable();
    t.bigInteger('run_id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['source', 'entity', 'source_id']);
  });
  // One rate budget per target account, shared by every loader process (R24, R25).
  await knex.schema.createTable('rate_budget', (t) => {
    t.text('account').primary();
    t.integer('window_limit').notNullable();
    t.integer('remaining').notNullable();
    t.timestamp('reset_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['rate_budget', 'id_map', 'comments', 'tickets', 'people', 'companies', 'rejects', 'checkpoints', 'run_entities', 'runs']) {
    await knex.schema.dropTableIfExists(table);
  }
}
