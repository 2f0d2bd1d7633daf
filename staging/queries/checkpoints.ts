import type { Knex } from 'knex';

export async function getCheckpoint(db: Knex, source: string, stream: string): Promise<string | undefined> {
  const row = await db('checkpoints').where({ source, stream }).first('cursor');
  return row?.cursor;
}

/** Stored only after the records before `cursor` were acknowledged by Kafka, so a crash re-reads, never skips. */
export async function setCheckpoint(db: Knex, source: string, stream: string, cursor: string, runId: number): Promise<void> {
  await db('checkpoints').insert({ source, stream, cursor, run_id: runId, updated_at: db.fn.now() })
    .onConflict(['source', 'stream']).merge(['cursor', 'run_id', 'updated_at']);
}

export async function clearCheckpoint(db: Knex, source: string, stream: string): Promise<void> {
  await db('checkpoints').where({ source, stream }).delete();
}
