import knexFactory, { type Knex } from 'knex';
import { ServiceUnavailableError } from '../core/errors.ts';
import { migrationSource } from './migrations/index.ts';

export type Db = Knex;

/** Opens the staging database (a knex pool over pg). */
export function openStaging(databaseUrl: string, opts: { poolMax?: number } = {}): Db {
  return knexFactory({
    client: 'pg',
    connection: databaseUrl,
    pool: { min: 0, max: opts.poolMax ?? 8 },
    // Large ids come back as strings from pg; we keep source ids as text anyway.
  });
}

/** Brings the schema up to date; safe to run from several processes (knex takes a lock). */
export async function migrateStaging(db: Db): Promise<void> {
  try {
    await db.migrate.latest({ migrationSource });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '28P01' || code === '3D000') {
      throw new ServiceUnavailableError('Postgres', `cannot open the staging database (${code})`, {
        cause: err, hint: 'Check DATABASE_URL, or unset it to use the embedded Postgres.',
      });
    }
    throw err;
  }
}

export * from './queries/runs.ts';
export * from './queries/checkpoints.ts';
export * from './queries/upsert-batch.ts';
export * from './queries/source-refs.ts';
export * from './queries/rejects.ts';
export * from './queries/claim-for-load.ts';
export * from './queries/mark-load-state.ts';
export * from './queries/load-warnings.ts';
export * from './queries/report.ts';
export * from './queries/rate-budget.ts';
export * from './queries/reconciliation.ts';
export * from './queries/verify.ts';
export * from './queries/attachments.ts';
export * from './queries/extract-ticket-state.ts';
export * from './queries/fail-orphan-comments.ts';
export * from './queries/attachments-for-load.ts';
export * from './queries/import-generation.ts';
export * from './queries/rollback.ts';
export * from './queries/v2-writes.ts';
export * from './queries/delta.ts';
export * from './queries/kb.ts';
export * from './queries/kb-links.ts';
export * from './queries/people-only-on-skipped.ts';
export * from './queries/kept-assignees.ts';
export * from './queries/stale-mapping.ts';
export * from './queries/target-changes.ts';
export * from './queries/target-values.ts';
export * from './queries/run-forced.ts';
