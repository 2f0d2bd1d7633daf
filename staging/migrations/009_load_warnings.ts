import type { Knex } from 'knex';

/**
 * "Migrated with warnings" (issue 16): a record the target took but not whole — the import
 * ignored its type, an attachment of a comment could not be carried — is loaded *and* says what
 * was not carried. Each staged entity table gets `load_warnings` (a jsonb array of
 * `{code, message}`; null or [] = none), written by the loader through
 * staging/queries/load-warnings.ts. The views gain the warnings: `staged_records.load_warnings`,
 * `run_records.warnings` and `run_records.outcome` (the word every report uses), and
 * `reconciliation.with_warnings`; `warning_counts` groups them like `reason_counts` does reasons;
 * `run_activity` says what one run did (by `load_run_id`) beside the totals of what it staged.
 * Views are replaced with the new columns appended (Postgres keeps a view's existing columns).
 */

const TABLES = ['companies', 'people', 'tickets', 'comments', 'kb_categories', 'kb_articles'];

const ENTITY_MAP = `(VALUES ('companies', 'organizations'), ('people', 'users'), ('tickets', 'tickets'), ('comments', 'comments'),
  ('kb_categories', 'kb_categories'), ('kb_categories', 'kb_sections'), ('kb_articles', 'kb_articles'))`;

/** A loaded row carries warnings when its array has an element. */
const HAS_WARNINGS = `jsonb_array_length(coalesce(load_warnings, '[]'::jsonb)) > 0`;

function stagedRecords(withWarnings: boolean): string {
  const w = withWarnings ? ', load_warnings' : '';
  const select = (entity: string, table: string, comment = false) =>
    `SELECT ${entity}, source, source_id, run_id, load_run_id, load_state, load_reason, load_attempts,
             ${comment ? 'ticket_source_id, position' : 'NULL, NULL'}, staged_at, loaded_at${w} FROM ${table}`;
  return `
    CREATE OR REPLACE VIEW staged_records AS
      SELECT 'companies'::text AS entity, source, source_id, run_id, load_run_id, load_state, load_reason, load_attempts,
             NULL::text AS ticket_source_id, NULL::integer AS position, staged_at, loaded_at${w} FROM companies
      UNION ALL ${select("'people'", 'people')}
      UNION ALL ${select("'tickets'", 'tickets')}
      UNION ALL ${select("'comments'", 'comments', true)}
      UNION ALL ${select("'kb_categories'", 'kb_categories')}
      UNION ALL ${select("'kb_articles'", 'kb_articles')}`;
}

function runRecords(withWarnings: boolean): string {
  const staged = withWarnings
    ? `, coalesce(r.load_warnings, '[]'::jsonb) AS warnings,
             CASE r.load_state WHEN 'loaded' THEN CASE WHEN jsonb_array_length(coalesce(r.load_warnings, '[]'::jsonb)) > 0
                                                        THEN 'migrated with warnings' ELSE 'migrated' END
                               WHEN 'loading' THEN 'pending' ELSE r.load_state END AS outcome`
    : '';
  const rejected = withWarnings ? `, '[]'::jsonb, 'rejected'` : '';
  return `
    CREATE OR REPLACE VIEW run_records AS
      SELECT r.run_id, r.entity, r.source, r.source_id, r.ticket_source_id, r.position,
             r.load_state AS status, r.load_reason AS reason, r.load_attempts AS attempts,
             m.target_id, tm.target_id AS target_ticket_id, r.loaded_at${staged}
        FROM staged_records r
        LEFT JOIN id_map m ON m.source = r.source AND m.entity = r.entity AND m.source_id = r.source_id
        LEFT JOIN id_map tm ON r.entity = 'comments' AND tm.source = r.source AND tm.entity = 'tickets' AND tm.source_id = r.ticket_source_id
      UNION ALL
      SELECT j.run_id, e.entity, j.source, coalesce(j.source_id, '(offset ' || j.partition || ':' || j.kafka_offset || ')'),
             j.parent_source_id, NULL, 'rejected', j.reason || coalesce(' (at ' || j.path || ')', ''), 0,
             NULL, NULL, NULL${rejected}
        FROM rejects j JOIN ${ENTITY_MAP} AS e(entity, raw_entity) ON e.raw_entity = j.entity`;
}

function reconciliation(withWarnings: boolean): string {
  return `
    CREATE OR REPLACE VIEW reconciliation AS
      WITH entity_map(entity, raw_entity) AS ${ENTITY_MAP},
      entities AS (SELECT DISTINCT entity FROM entity_map),
      states AS (
        SELECT run_id, entity,
               count(*)::int AS staged,
               (count(*) FILTER (WHERE load_state = 'loaded'))::int AS loaded,
               (count(*) FILTER (WHERE load_state = 'skipped'))::int AS skipped,
               (count(*) FILTER (WHERE load_state = 'failed'))::int AS failed,
               (count(*) FILTER (WHERE load_state = 'pending'))::int AS pending,
               (count(*) FILTER (WHERE load_state = 'loading'))::int AS loading${withWarnings ? `,
               (count(*) FILTER (WHERE load_state = 'loaded' AND ${HAS_WARNINGS}))::int AS with_warnings` : ''}
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
               coalesce(j.rejected, 0) AS rejected${withWarnings ? ', coalesce(s.with_warnings, 0) AS with_warnings' : ''}
          FROM runs r CROSS JOIN entities e
          LEFT JOIN extracted x ON x.run_id = r.id AND x.entity = e.entity
          LEFT JOIN states s ON s.run_id = r.id AND s.entity = e.entity
          LEFT JOIN rejected j ON j.run_id = r.id AND j.entity = e.entity)
      SELECT run_id, entity, source_count, duplicates, staged, loaded, skipped, failed, pending, loading, rejected,
             -- extracted but neither loaded, skipped, failed nor rejected: must be 0 when a run ends
             greatest(0, source_count - duplicates - rejected - loaded - skipped - failed)::int AS missing${withWarnings ? `,
             -- loaded rows that carry warnings (a subset of loaded): "migrated with warnings"
             with_warnings` : ''}
        FROM base`;
}

export async function up(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    await knex.schema.alterTable(table, (t) => {
      t.jsonb('load_warnings').comment('what the target did not take of a loaded record: [{code, message}]; null or [] = none');
    });
  }
  await knex.raw(stagedRecords(true));
  await knex.raw(runRecords(true));
  await knex.raw(reconciliation(true));
  // Loaded records' warnings grouped by code and message, like reason_counts for reasons.
  await knex.raw(`
    CREATE VIEW warning_counts AS
      SELECT r.run_id, r.entity, w->>'code' AS code, w->>'message' AS message, count(*)::int AS count
        FROM staged_records r CROSS JOIN LATERAL jsonb_array_elements(r.load_warnings) w
       WHERE r.load_state = 'loaded' AND jsonb_typeof(r.load_warnings) = 'array'
       GROUP BY r.run_id, r.entity, w->>'code', w->>'message'`);
  // What one run did (rows it brought to their load state), beside the running totals of the
  // rows it staged: a re-run that loads nothing shows zeros here, however much is migrated.
  await knex.raw(`
    CREATE VIEW run_activity AS
      SELECT load_run_id AS run_id, entity,
             (count(*) FILTER (WHERE load_state = 'loaded' AND NOT ${HAS_WARNINGS}))::int AS migrated,
             (count(*) FILTER (WHERE load_state = 'loaded' AND ${HAS_WARNINGS}))::int AS with_warnings,
             (count(*) FILTER (WHERE load_state = 'skipped'))::int AS skipped,
             (count(*) FILTER (WHERE load_state = 'failed'))::int AS failed
        FROM staged_records WHERE load_run_id IS NOT NULL GROUP BY load_run_id, entity`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP VIEW IF EXISTS run_activity');
  await knex.raw('DROP VIEW IF EXISTS warning_counts');
  // Appended columns cannot be dropped by CREATE OR REPLACE: the views are rebuilt as 005 left them.
  await knex.raw('DROP VIEW IF EXISTS reason_counts');
  await knex.raw('DROP VIEW IF EXISTS reconciliation');
  await knex.raw('DROP VIEW IF EXISTS run_records');
  await knex.raw('DROP VIEW IF EXISTS staged_records');
  await knex.raw(stagedRecords(false));
  await knex.raw(runRecords(false));
  await knex.raw(reconciliation(false));
  await knex.raw(`
    CREATE VIEW reason_counts AS
      SELECT run_id, entity, status AS state, coalesce(reason, '(none)') AS reason, count(*)::int AS count
        FROM run_records WHERE status IN ('skipped', 'failed', 'rejected')
       GROUP BY run_id, entity, status, coalesce(reason, '(none)')`);
  for (const table of TABLES) await knex.schema.alterTable(table, (t) => t.dropColumn('load_warnings'));
}
