import type { Knex } from 'knex';

export type RunKind = 'run' | 'demo' | 'delta' | 'extract' | 'transform' | 'load';

export interface RunRow {
  id: number;
  kind: RunKind;
  source: string;
  /**
   * rolling_back / rolled_back: `deskport rollback` (runs.rollback holds the details); refused: the
   * preflight found blocking problems and the run wrote nothing to the target (no --force).
   */
  status: 'running' | 'done' | 'failed' | 'interrupted' | 'refused' | 'rolling_back' | 'rolled_back';
  rollback?: Record<string, unknown> | null;
  started_at: Date;
  finished_at: Date | null;
  options: Record<string, unknown>;
  summary: Record<string, unknown> | null;
}

export async function createRun(db: Knex, kind: RunKind, source: string, options: Record<string, unknown> = {}): Promise<number> {
  const [row] = await db('runs').insert({ kind, source, options: JSON.stringify(options) }).returning('id');
  return Number(row.id);
}

export async function finishRun(db: Knex, id: number, status: RunRow['status'], summary: Record<string, unknown>): Promise<void> {
  await db('runs').where({ id }).update({ status, finished_at: db.fn.now(), summary: JSON.stringify(summary) });
}

export async function getRun(db: Knex, id: number): Promise<RunRow | undefined> {
  const row = await db('runs').where({ id }).first();
  return row ? { ...row, id: Number(row.id) } : undefined;
}

/** Adds to the count of records a run extracted per entity (the reconciliation's source count). */
export async function addExtracted(db: Knex, runId: number, counts: Record<string, number>): Promise<void> {
  const rows = Object.entries(counts).filter(([, n]) => n > 0).map(([entity, extracted]) => ({ run_id: runId, entity, extracted }));
  if (rows.length === 0) return;
  await db('run_entities').insert(rows).onConflict(['run_id', 'entity'])
    .merge({ extracted: db.raw('run_entities.extracted + excluded.extracted') });
}
