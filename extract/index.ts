import type { Kafka, Message } from 'kafkajs';
import type { Registry } from 'prom-client';
import { connectProducer, ensureTopics, rawTopic, RAW_ENTITIES, type RawEntity, type RawEnvelope } from '../src/bus.ts';
import type { Config } from '../src/config.ts';
import type { Logger } from '../src/log.ts';
import { counter } from '../src/metrics.ts';
import { addExtracted, getCheckpoint, setCheckpoint, type Db } from '../staging/index.ts';
import { readZendeskExport, type ExportRecord } from './zendesk-export.ts';

export interface ExtractDeps { db: Db; kafka: Kafka; log: Logger; registry: Registry }
export interface ExtractResult { records: number; messages: number; byEntity: Record<string, number> }

/** Checkpoint stream name: one per export file. Its cursor is `<runId>:<records done>`. */
function streamOf(path: string): string {
  return `export:${path}`;
}

/**
 * Reads the export file and produces one Kafka message per source record to
 * `<prefix>.raw.<source>.<entity>`: tickets and their comments keyed by ticket id (one partition
 * per ticket keeps its comments in order), everything else by its own id. The checkpoint moves
 * only after Kafka acknowledged a batch (acks=all), so a resumed run re-sends at most a batch.
 */
export async function runExtract(deps: ExtractDeps, config: Config, runId: number): Promise<ExtractResult> {
  const { db, kafka, log, registry } = deps;
  const source = config.source.name;
  const produced = counter(registry, 'deskport_extract_records_total', 'Records produced to Kafka', ['entity']);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, RAW_ENTITIES.map((e) => rawTopic(config.topicPrefix, source, e)));
  } finally {
    await admin.disconnect();
  }
  const producer = await connectProducer(kafka);

  const stream = streamOf(config.source.path);
  const checkpoint = await getCheckpoint(db, source, stream);
  // Resume inside the same run only; a new run re-reads the file (staging dedupes by source id).
  const [cpRun, cpDone] = (checkpoint ?? '').split(':').map(Number);
  let skip = cpRun === runId && Number.isFinite(cpDone) ? cpDone! : 0;
  if (skip > 0) log.info({ skip }, 'resuming extraction after the last acknowledged batch');

  const result: ExtractResult = { records: 0, messages: 0, byEntity: {} };
  let done = 0;
  try {
    for await (const batch of readZendeskExport(config.source.path)) {
      const fresh = skip >= batch.length ? [] : batch.slice(skip);
      skip = Math.max(0, skip - batch.length);
      done += batch.length;
      if (fresh.length === 0) continue;
      const byTopic = new Map<string, Message[]>();
      const counts: Record<string, number> = {};
      for (const rec of fresh) {
        for (const env of envelopes(rec, runId, source)) {
          const topic = rawTopic(config.topicPrefix, source, env.entity);
          const key = env.entity === 'comments' ? String(env.meta!.ticketId) : String((env.record as { id?: unknown })?.id ?? `${env.entity}#${rec.index}`);
          byTopic.set(topic, [...(byTopic.get(topic) ?? []), { key, value: JSON.stringify(env) }]);
          counts[env.entity] = (counts[env.entity] ?? 0) + 1;
        }
      }
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      await db.transaction(async (trx) => {
        await addExtracted(trx, runId, counts);
        await setCheckpoint(trx, source, stream, `${runId}:${done}`, runId);
      });
      for (const [entity, n] of Object.entries(counts)) {
        produced.inc({ entity }, n);
        result.byEntity[entity] = (result.byEntity[entity] ?? 0) + n;
        result.messages += n;
      }
      result.records += fresh.length;
    }
  } finally {
    await producer.disconnect();
  }
  log.info({ ...result.byEntity }, 'extraction finished');
  return result;
}

/**
 * One envelope per record; a ticket's embedded comments become comment records of their own
 * (with the ticket id and their position) and the ticket says how many it had.
 */
function* envelopes(rec: ExportRecord, runId: number, source: string): Generator<RawEnvelope> {
  const base = { runId, source, extractedAt: new Date().toISOString(), cursor: `${rec.entity}#${rec.index}` };
  const entity = rec.entity as RawEntity;
  const value = rec.value as Record<string, unknown> | null;
  if (entity !== 'tickets' || typeof value !== 'object' || value === null || Array.isArray(value)) {
    yield { ...base, entity, record: rec.value };
    return;
  }
  const { comments, ...ticket } = value;
  const list = Array.isArray(comments) ? comments : [];
  yield { ...base, entity, record: ticket, meta: { commentCount: list.length } };
  for (const [position, comment] of list.entries()) {
    yield { ...base, entity: 'comments', cursor: `${base.cursor}.comments#${position}`, record: comment, meta: { ticketId: ticket.id, position } };
  }
}
