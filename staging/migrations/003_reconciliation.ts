import type { Knex } from 'knex';

/**
 * Reconciliation views (R20, R27) and the verify tables (R21). The views are the one source of
 * truth for every report: the terminal summary, the report files, the API and the HTML page all
 * read them, and operators can query them directly (docs/staging.md).
 */

// Which raw (extracted) entity feeds which staging table.
const ENTITY_MAP = `(VALUES ('companies', 'organizations'), ('people', 'users'), ('tickets', 'tickets'), ('comments', 'comments'))`;

export async function up(knex: Knex): Promise<void> {
  // Every staged row of every canonical table, one shape.
  await knex.raw(`
    CREATE VIEW staged_records AS
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
             ticket_source_id, position, staged_at, loaded_at FROM comments`);

  // One row per record of a run: staged rows with their target ids, plus transform rejects.
  await knex.raw(`
    CREATE VIEW run_records AS
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
        FROM rejects j JOIN ${ENTITY_MAP} AS e(entity, raw_entity) ON e.raw_entity = j.entity`);

  // Per run and entity: source count, staged, loaded, skipped, failed, rejected, missing.
  await knex.raw(`
    CREATE VIEW reconciliation AS
      WITH entities(entity, raw_entity) AS ${ENTITY_MAP},
      states AS (
        SELECT run_id, entity,
               count(*)::int AS staged,
               (count(*) FILTER (WHERE load_state = 'loaded'))::int AS loaded,
               (count(*) FILTER (WHERE load_state = 'skipped'))::int AS skipped,
               (count(*) FILTER (WHERE load_state = 'failed'))::int AS failed,
               (count(*) FILTER (WHERE load_state = 'pending'))::int AS pending,
               (count(*) FILTER (WHERE load_state = 'loading'))::int AS loading
          FROM staged_records GROUP BY run_id, entity),
      rejected AS (SELECT run_id, entity AS raw_entity, count(*)::int AS rejected FROM rejects GROUP BY run_id, entity),
      base AS (
        SELECT r.id AS run_id, e.entity,
               coalesce(x.extracted, 0) AS source_count,
               coalesce(d.extracted, 0) AS duplicates,
               coalesce(s.staged, 0) AS staged, coalesce(s.loaded, 0) AS loaded, coalesce(s.skipped, 0) AS skipped,
               coalesce(s.failed, 0) AS failed, coalesce(s.pending, 0) AS pending, coalesce(s.loading, 0) AS loading,
               coalesce(j.rejected, 0) AS rejected
          FROM runs r CROSS JOIN entities e
          LEFT JOIN run_entities x ON x.run_id = r.id AND x.entity = e.raw_entity
          LEFT JOIN run_entities d ON d.run_id = r.id AND d.entity = e.raw_entity || ':duplicates'
          LEFT JOIN states s ON s.run_id = r.id AND s.entity = e.entity
          LEFT JOIN rejected j ON j.run_id = r.id AND j.raw_entity = e.raw_entity)
      SELECT *,
             -- extracted but neither loaded, skipped, failed nor rejected: must be 0 when a run ends
             greatest(0, source_count - duplicates - rejected - loaded - skipped - failed)::int AS missing
        FROM base`);

  // Skipped, failed and rejected records of a run grouped by reason.
  await knex.raw(`
    CREATE VIEW reason_counts AS
      SELECT run_id, entity, status AS state, coalesce(reason, '(none)') AS reason, count(*)::int AS count
        FROM run_records WHERE status IN ('skipped', 'failed', 'rejected')
       GROUP BY run_id, entity, status, coalesce(reason, '(none)')`);

  // deskport verify: one row per read-back, one result per checked record.
  await knex.schema.createTable('verifications', (t) => {
    t.bigIncrements('id');
    t.bigInteger('run_id').notNullable().references('runs.id').onDelete('CASCADE').comment('the run whose loaded records were read back');
    t.text('status').notNullable().defaultTo('running').comment("running | done | failed");
    t.integer('sample').comment('--sample N; null = every loaded record');
    t.integer('checked').notNullable().defaultTo(0);
    t.integer('ok').notNullable().defaultTo(0);
    t.integer('different').notNullable().defaultTo(0);
    t.integer('errors').notNullable().defaultTo(0);
    t.integer('calls').notNullable().defaultTo(0).comment('target calls spent (from the shared rate budget)');
    t.jsonb('unchecked').notNullable().defaultTo('{}').comment('check → why it could not be made, e.g. attachments: not migrated yet');
    t.text('error');
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
  });
  await knex.schema.createTable('verify_results', (t) => {
    t.bigInteger('verification_id').notNullable().references('verifications.id').onDelete('CASCADE');
    t.text('entity').notNullable();
    t.text('source').notNullable();
    t.text('source_id').notNullable();
    t.text('target_id');
    t.text('status').notNullable().comment("ok | different | missing (not found in the target) | error");
    t.jsonb('diffs').notNullable().defaultTo('[]').comment('[{field, expected, actual}]');
    t.timestamp('checked_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['verification_id', 'entity', 'source_id']);
    t.index(['verification_id', 'status']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('verify_results');
  await knex.schema.dropTableIfExists('verifications');
  for (const view of ['reason_counts', 'reconciliation', 'run_records', 'staged_records']) await knex.raw(`DROP VIEW IF EXISTS ${view}`);
}
