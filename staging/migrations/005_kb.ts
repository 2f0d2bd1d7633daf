import type { Knex } from 'knex';

/**
 * Knowledge base (R8): Help Center categories/sections and articles as canonical tables (same
 * columns and load states as the others, so claim-for-load and mark-load-state work on them),
 * the links found in article bodies with their rewrite outcome, the target side of article
 * attachments, and the reconciliation views redefined so KB entities are counted.
 */

/** Same as 001's: a migration never imports another one (each stays as it landed). */
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
  t.jsonb('raw').comment('the source record and extractor meta it was mapped from');
  t.primary(['source', 'source_id']);
  t.index(['load_state']);
}

const LOAD_STATES = "('pending','loading','loaded','failed','skipped')";

/** Which raw (extracted) entities feed which staging table: KB categories take categories and sections. */
const ENTITY_MAP_003 = `(VALUES ('companies', 'organizations'), ('people', 'users'), ('tickets', 'tickets'), ('comments', 'comments'))`;
const ENTITY_MAP_005 = `(VALUES ('companies', 'organizations'), ('people', 'users'), ('tickets', 'tickets'), ('comments', 'comments'),
  ('kb_categories', 'kb_categories'), ('kb_categories', 'kb_sections'), ('kb_articles', 'kb_articles'))`;

function stagedRecords(withKb: boolean): string {
  const kb = withKb ? `
      UNION ALL
      SELECT 'kb_categories', source, source_id, run_id, load_run_id, load_state, load_reason, load_attempts,
             NULL, NULL, staged_at, loaded_at FROM kb_categories
      UNION ALL
      SELECT 'kb_articles', source, source_id, run_id, load_run_id, load_state, load_reason, load_attempts,
             NULL, NULL, staged_at, loaded_at FROM kb_articles` : '';
  return `
    CREATE OR REPLACE VIEW staged_records AS
      SELECT 'companies'::text AS entity, source, source_id, run_id, load_run_id, load_state, load_reason, load_attempts,
             NULL::text AS ticket_source_id, NULL::integer AS position, staged_at, loaded_at FROM companies
      UNION ALL
      SELECT 'people', source, source_id, run_id, load_run_id, load_state, load_reason, load_attempts,
             NULL, NULL, staged_at, loaded_at FROM people
      UNION ALL
      SELECT 'tickets', source, source_id, run_id, load_run_id, load_state, load_reason, load_attempts,
             NULL, NULL, staged_at, loaded_at FROM tickets
      UNION ALL
      SELECT 'comments', source, source_id, run_id, load_run_id, load_state, load_reason, load_attempts,
             ticket_source_id, position, staged_at, loaded_at FROM comments${kb}`;
}

function runRecords(entityMap: string): string {
  return `
    CREATE OR REPLACE VIEW run_records AS
      SELECT r.run_id, r.entity, r.source, r.source_id, r.ticket_source_id, r.position,
             r.load_state AS status, r.load_reason AS reason, r.load_attempts AS attempts,
             m.target_id, tm.target_id AS target_ticket_id, r.loaded_at
        FROM staged_records r
        LEFT JOIN id_map m ON m.source = r.source AND m.entity = r.entity AND m.source_id = r.source_id
        LEFT JOIN id_map tm ON r.entity = 'comments' AND tm.source = r.source AND tm.entity = 'tickets' AND tm.source_id = r.ticket_source_id
      UNION ALL
      SELECT j.run_id, e.entity, j.source, coalesce(j.source_id, '(offset ' || j.partition || ':' || j.kafka_offset || ')'),
             j.parent_source_id, NULL, 'rejected', j.reason || coalesce(' (at ' || j.path || ')', ''), 0,
             NULL, NULL, NULL
        FROM rejects j JOIN ${entityMap} AS e(entity, raw_entity) ON e.raw_entity = j.entity`;
}

/** 003's view, with source counts summed over every raw entity that feeds a staging table. */
function reconciliationView(entityMap: string): string {
  return `
    CREATE OR REPLACE VIEW reconciliation AS
      WITH entity_map(entity, raw_entity) AS ${entityMap},
      entities AS (SELECT DISTINCT entity FROM entity_map),
      states AS (
        SELECT run_id, entity,
               count(*)::int AS staged,
               (count(*) FILTER (WHERE load_state = 'loaded'))::int AS loaded,
               (count(*) FILTER (WHERE load_state = 'skipped'))::int AS skipped,
               (count(*) FILTER (WHERE load_state = 'failed'))::int AS failed,
               (count(*) FILTER (WHERE load_state = 'pending'))::int AS pending,
               (count(*) FILTER (WHERE load_state = 'loading'))::int AS loading
          FROM staged_records GROUP BY run_id, entity),
      extracted AS (
        SELECT x.run_id, m.entity,
               (sum(x.extracted) FILTER (WHERE x.entity = m.raw_entity))::int AS extracted,
               (sum(x.extracted) FILTER (WHERE x.entity = m.raw_entity || ':duplicates'))::int AS duplicates
          FROM run_entities x JOIN entity_map m ON x.entity IN (m.raw_entity, m.raw_entity || ':duplicates')
         GROUP BY x.run_id, m.entity),
      rejected AS (
        SELECT j.run_id, m.entity, count(*)::int AS rejected
          FROM rejects j JOIN entity_map m ON m.raw_entity = j.entity GROUP BY j.run_id, m.entity),
      base AS (
        SELECT r.id AS run_id, e.entity,
               coalesce(x.extracted, 0) AS source_count,
               coalesce(x.duplicates, 0) AS duplicates,
               coalesce(s.staged, 0) AS staged, coalesce(s.loaded, 0) AS loaded, coalesce(s.skipped, 0) AS skipped,
               coalesce(s.failed, 0) AS failed, coalesce(s.pending, 0) AS pending, coalesce(s.loading, 0) AS loading,
               coalesce(j.rejected, 0) AS rejected
          FROM runs r CROSS JOIN entities e
          LEFT JOIN extracted x ON x.run_id = r.id AND x.entity = e.entity
          LEFT JOIN states s ON s.run_id = r.id AND s.entity = e.entity
          LEFT JOIN rejected j ON j.run_id = r.id AND j.entity = e.entity)
      SELECT *,
             -- extracted but neither loaded, skipped, failed nor rejected: must be 0 when a run ends
             greatest(0, source_count - duplicates - rejected - loaded - skipped - failed)::int AS missing
        FROM base`;
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('kb_categories', (t) => canonicalColumns(t, knex));
  // Read-only copies of `data` fields for ordering and SQL; generated, so the upsert needs no change.
  await knex.raw(`ALTER TABLE kb_categories
    ADD COLUMN kind text GENERATED ALWAYS AS (data->>'kind') STORED,
    ADD COLUMN parent_source_id text GENERATED ALWAYS AS (data->>'parentSourceId') STORED`);
  await knex.raw('CREATE INDEX kb_categories_source_kind_index ON kb_categories (source, kind)');
  await knex.schema.createTable('kb_articles', (t) => {
    canonicalColumns(t, knex);
    t.text('target_url').comment('the new Help Docs address of the article (links to it are rewritten to this)');
    t.text('target_contents').comment('the body as last written to the target: the link-rewrite pass patches only when it changes');
  });
  await knex.raw(`ALTER TABLE kb_articles
    ADD COLUMN category_source_id text GENERATED ALWAYS AS (data->>'categorySourceId') STORED,
    ADD COLUMN source_url text GENERATED ALWAYS AS (data->>'sourceUrl') STORED`);
  for (const table of ['kb_categories', 'kb_articles']) {
    await knex.raw(`ALTER TABLE ?? ADD CONSTRAINT ?? CHECK (load_state IN ${LOAD_STATES})`, [table, `${table}_load_state_check`]);
  }
  // Every source link found in an article body (R8, R22): rewritten, or why not.
  await knex.schema.createTable('kb_links', (t) => {
    t.text('source').notNullable();
    t.text('article_source_id').notNullable().comment('the article whose body holds the link');
    t.text('href').notNullable().comment('the link as written in the source body');
    t.text('kind').notNullable().comment("'article' or 'ticket'");
    t.text('target_source_id').comment('the source id the link points at');
    t.text('state').notNullable().comment("'rewritten' or 'unresolved'");
    t.text('new_url');
    t.text('reason').comment('why an unresolved link was left as it is');
    t.bigInteger('run_id');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['source', 'article_source_id', 'href']);
    t.index(['source', 'state']);
  });
  await knex.raw("ALTER TABLE kb_links ADD CONSTRAINT kb_links_state_check CHECK (state IN ('rewritten','unresolved'))");
  // Article attachments (kind 'article') uploaded through the 3-step files flow.
  await knex.schema.alterTable('attachments', (t) => {
    t.text('target_file_id').comment('article attachments: the uploaded Teamwork Desk file');
    t.text('target_url').comment('article attachments: the address the article body points at');
    t.text('upload_error').comment('article attachments: why the upload failed (named in the article body too)');
    t.index(['source', 'article_source_id']);
  });
  await knex.raw(stagedRecords(true));
  await knex.raw(runRecords(ENTITY_MAP_005));
  await knex.raw(reconciliationView(ENTITY_MAP_005));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(reconciliationView(ENTITY_MAP_003));
  await knex.raw(runRecords(ENTITY_MAP_003));
  await knex.raw(stagedRecords(false));
  await knex.schema.alterTable('attachments', (t) => {
    t.dropIndex(['source', 'article_source_id']);
    t.dropColumn('target_file_id');
    t.dropColumn('target_url');
    t.dropColumn('upload_error');
  });
  await knex.schema.dropTableIfExists('kb_links');
  await knex.schema.dropTableIfExists('kb_articles');
  await knex.schema.dropTableIfExists('kb_categories');
}
