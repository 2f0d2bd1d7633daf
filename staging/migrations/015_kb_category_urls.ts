import type { Knex } from 'knex';

/**
 * Issue 16.3c: the new address of every migrated Help Docs category, so links to Help Center
 * sections and categories inside article bodies are rewritten like links to articles.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('kb_categories', (t) => {
    t.text('target_url').comment('the new Help Docs address of the category (links to the section/category are rewritten to it)');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('kb_categories', (t) => t.dropColumn('target_url'));
}
