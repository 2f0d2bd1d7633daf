import type { Knex } from 'knex';

/**
 * Writes made through the v2 API (issue 7, R19): one row per ticket create or message post,
 * recorded as intent before the call and completed with the target id after it. A row left in
 * `intent` is in doubt: the writer looks the record up by its marker before writing it again.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('v2_writes', (t) => {
    t.text('source').notNullable();
    t.text('key').notNullable().comment("'ticket:<id>' or 'comment:<id>:<part>'");
    t.text('ticket_source_id').notNullable();
    t.text('comment_source_id');
    t.text('state').notNullable().defaultTo('intent').comment("'intent' (call may have happened) or 'done'");
    t.text('target_id').comment('the ticket or message id once known');
    t.jsonb('file_ids').notNullable().defaultTo('[]').comment('files uploaded and confirmed for this write, reused on a retry');
    t.bigInteger('run_id');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['source', 'key']);
    t.index(['source', 'ticket_source_id']);
  });
  await knex.raw("ALTER TABLE v2_writes ADD CONSTRAINT v2_writes_state_check CHECK (state IN ('intent','done'))");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('v2_writes');
}
