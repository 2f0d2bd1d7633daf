import type { Knex } from 'knex';

/**
 * Issue 21: every ticket read from the Zendesk API has a confirmed comment count before it may load.
 * `expected` is the number of comments the source says the ticket has (confirmed from the
 * ticket-events stream, comments/count, or the comments list); null until the extractor confirmed it.
 * `unproven`: an event of the ticket had no comment child and no `comment_present` flag, so the
 * events alone cannot prove its comments complete. Rows from before are taken as confirmed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('extract_ticket_state', (t) => {
    t.integer('expected').comment('comments the source says the ticket has; null: not confirmed yet (the ticket waits)');
    t.boolean('unproven').notNullable().defaultTo(false).comment('the events cannot prove the comments complete: comments/count decides');
  });
  await knex('extract_ticket_state').update({ expected: knex.ref('comments') });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('extract_ticket_state', (t) => {
    t.dropColumn('expected');
    t.dropColumn('unproven');
  });
}
