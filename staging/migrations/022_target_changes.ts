import type { Knex } from 'knex';

/**
 * Changes `deskport prepare` makes in the target (issue 22): custom fields, options, ticket types,
 * statuses, priorities and tags it creates, and triggers it pauses. Each change is recorded as
 * intent before its call and completed with the target id after it (as the loader does with
 * v2_writes), so a prepare that crashed or lost an answer looks the record up before making it
 * again. A pause keeps what it switched off (`before`, e.g. the trigger's state) until
 * `deskport restore-target` puts it back: a crash in between still knows what to restore.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('target_changes', (t) => {
    t.text('target').notNullable().comment('the target account (site origin) the change is made in');
    t.text('key').notNullable().comment("what the change is about, e.g. 'custom-field:product area', 'pause-trigger:12'");
    t.text('kind').notNullable().comment('custom-field | custom-field-option | ticket-type | ticket-type-inboxes | ticket-status | ticket-priority | tag | pause-trigger');
    t.text('state').notNullable().defaultTo('intent').comment("'intent' (the call may have happened), 'done', 'failed', 'restored' (a pause put back)");
    t.jsonb('request').notNullable().defaultTo('{}').comment('what the change asks for (name, kind, options, inboxes…)');
    t.jsonb('before').comment('for a pause: what it was before (restored from here)');
    t.text('target_id').comment('the id of what was created or changed, once known');
    t.text('error');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('restored_at', { useTz: true });
    t.primary(['target', 'key']);
  });
  await knex.raw("ALTER TABLE target_changes ADD CONSTRAINT target_changes_state_check CHECK (state IN ('intent','done','failed','restored'))");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('target_changes');
}
