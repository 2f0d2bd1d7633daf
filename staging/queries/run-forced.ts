import type { Knex } from 'knex';
import type { RunRow } from './runs.ts';

/**
 * A run, demo or delta started with `--force` past blocking preflight problems records them in
 * `runs.options.forcedPast` before it writes anything, so every report of the run says so.
 */
export async function recordRunForced(db: Knex, runId: number, problems: string[]): Promise<void> {
  await db.raw(`UPDATE runs SET options = coalesce(options, '{}'::jsonb) || jsonb_build_object('forcedPast', ?::jsonb) WHERE id = ?`, [JSON.stringify(problems), runId]);
}

/** The blocking problems a run was forced past; null when it was not forced. */
export function forcedPast(run: Pick<RunRow, 'options'> | undefined): string[] | null {
  const v = (run?.options as { forcedPast?: unknown } | undefined)?.forcedPast;
  return Array.isArray(v) ? v.map(String) : null;
}
