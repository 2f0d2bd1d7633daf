import type { Knex } from 'knex';

/**
 * The v1 import's `source` string for a staging source: `importSource` for generation 1 (every
 * load before any rollback), `importSource#<n>` after. The target dedupes imported tickets by
 * (source, id), and whether it forgets a deleted ticket is undocumented: a rolled-back ticket is
 * re-imported under a string the target has never seen.
 */
export async function importSourceFor(db: Knex, opts: { source: string; importSource: string }): Promise<string> {
  const generation = await importGeneration(db, opts.source);
  return generation <= 1 ? opts.importSource : `${opts.importSource}#${generation}`;
}

export async function importGeneration(db: Knex, source: string): Promise<number> {
  const row = await db('import_generations').where({ source }).first('generation');
  return row ? Number(row.generation) : 1;
}

/** Moves the source on to its next import generation (a rollback deleted imported tickets). */
export async function bumpImportGeneration(db: Knex, source: string, runId: number): Promise<number> {
  const [row] = await db('import_generations')
    .insert({ source, generation: 2, bumped_by_run: runId })
    .onConflict('source')
    .merge({ generation: db.raw('import_generations.generation + 1'), bumped_by_run: runId, updated_at: db.fn.now() })
    .returning('generation');
  return Number(row.generation);
}
