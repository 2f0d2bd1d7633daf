import type { Knex } from 'knex';

/**
 * Extraction bookkeeping: attachments and inline images fetched into the blob store (R5, R7),
 * and per-ticket extraction state (how many comments were produced, so a comment's position is
 * stable across a crash and resume; whether the ticket is deleted or needs per-ticket fetches).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('attachments', (t) => {
    t.text('source').notNullable();
    t.text('source_id').notNullable().comment("the source attachment id, or 'inline:<token>' for an image found only in a body");
    t.text('kind').notNullable().defaultTo('comment').comment("'comment' or 'article'");
    t.text('ticket_source_id');
    t.text('comment_source_id');
    t.text('article_source_id');
    t.text('source_url').notNullable().comment('content_url as it appears in the source (a body rewrite looks it up)');
    t.text('file_name');
    t.text('content_type');
    t.bigInteger('size').comment('bytes written to the blob store (fetched) or announced by the source (failed)');
    t.text('sha256');
    t.text('blob_path').comment('relative to the blob directory');
    t.boolean('inline').notNullable().defaultTo(false);
    t.text('fetch_state').notNullable();
    t.text('reason');
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('run_id');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['source', 'source_id']);
    t.index(['source', 'comment_source_id']);
    t.index(['source', 'fetch_state']);
  });
  await knex.raw("ALTER TABLE attachments ADD CONSTRAINT attachments_fetch_state_check CHECK (fetch_state IN ('fetched','failed'))");
  await knex.schema.createTable('extract_ticket_state', (t) => {
    t.text('source').notNullable();
    t.text('ticket_source_id').notNullable();
    t.integer('comments').notNullable().defaultTo(0).comment('comments produced so far: the next comment position');
    t.boolean('deleted').notNullable().defaultTo(false);
    t.boolean('fallback').notNullable().defaultTo(false).comment('comments come from the per-ticket endpoint');
    t.primary(['source', 'ticket_source_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('extract_ticket_state');
  await knex.schema.dropTableIfExists('attachments');
}
