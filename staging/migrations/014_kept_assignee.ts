import type { Knex } from 'knex';

/**
 * Issue 16.2: a ticket whose source assignee is not an agent of the target keeps who it was
 * assigned to (a `<source>-assignee:` tag, a header line, or a fallback agent). The loader records
 * what it kept here, so the report, records.csv and the post-migration checklist can list them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => {
    t.jsonb('kept_assignee').comment('{sourceId, name, email, keptAs: tag|header|both|none, assignedTo, tag}: the source assignee the target has no agent for');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.dropColumn('kept_assignee'));
}
