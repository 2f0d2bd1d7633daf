import type { Knex } from 'knex';

export interface RejectRow {
  runId: number | null;
  source: string;
  entity: string;
  sourceId: string | null;
  parentSourceId: string | null;
  topic: string;
  partition: number;
  offset: string;
  reason: string;
  path: string | null;
  payload: unknown;
}

/** Keyed by the Kafka message, so a re-delivered bad record is recorded once. */
export async function insertRejects(trx: Knex, rows: RejectRow[]): Promise<void> {
  if (rows.length === 0) return;
  await trx('rejects').insert(rows.map((r) => ({
    run_id: r.runId, source: r.source, entity: r.entity, source_id: r.sourceId, parent_source_id: r.parentSourceId,
    topic: r.topic, partition: r.partition, kafka_offset: r.offset, reason: r.reason, path: r.path,
    payload: JSON.stringify(r.payload ?? null),
  }))).onConflict(['topic', 'partition', 'kafka_offset']).ignore();
}
