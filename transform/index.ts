import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import { dlqTopic, rawTopic, RAW_ENTITIES } from '../src/bus.ts';
import type { Config } from '../src/config.ts';
import type { Logger } from '../src/log.ts';
import { counter, histogram } from '../src/metrics.ts';
import { insertRejects, upsertBatch, type Db, type RejectRow, type StagedRow } from '../staging/index.ts';
import { mapZendeskEnvelope } from './map-record.ts';

export interface TransformDeps { db: Db; kafka: Kafka; log: Logger; registry: Registry }
export interface TransformHandle {
  groupId: string;
  topics: string[];
  close(): Promise<void>;
}

export function transformGroupId(config: Config): string {
  return `${config.topicPrefix}.transform.${config.source.name}`;
}

/**
 * Consumes the raw topics with a consumer group, validates and maps every record, and writes
 * each batch to staging in one transaction. Offsets are committed only after that transaction
 * committed, so a crash re-delivers (harmless: upserts) and never loses. Bad records go to the
 * rejects table and the DLQ topic with their reason.
 */
export async function startTransform(deps: TransformDeps, config: Config): Promise<TransformHandle> {
  const { db, kafka, log, registry } = deps;
  const groupId = transformGroupId(config);
  const topics = RAW_ENTITIES.map((e) => rawTopic(config.topicPrefix, config.source.name, e));
  const recordsIn = counter(registry, 'deskport_transform_records_in_total', 'Raw records consumed', ['entity']);
  const recordsOut = counter(registry, 'deskport_transform_records_staged_total', 'Canonical rows written to staging', ['entity']);
  const rejected = counter(registry, 'deskport_transform_records_rejected_total', 'Records rejected by validation', ['entity']);
  const batchSeconds = histogram(registry, 'deskport_transform_batch_duration_seconds', 'Time to map and stage one batch');

  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer: Consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });

  async function handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const end = batchSeconds.startTimer();
    const entity = batch.topic.slice(batch.topic.lastIndexOf('.') + 1);
    // The run id travels in each envelope; a batch can straddle two runs, so rows group by run.
    const rowsByRun = new Map<number, StagedRow[]>();
    const rejects: RejectRow[] = [];
    let staged = 0;
    for (const message of batch.messages) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(message.value?.toString('utf8') ?? 'null');
      } catch (err) {
        parsed = undefined;
        rejects.push({
          runId: null, source: config.source.name, entity, sourceId: message.key?.toString() ?? null, parentSourceId: null,
          topic: batch.topic, partition: batch.partition, offset: message.offset, reason: `message is not JSON: ${(err as Error).message}`,
          path: null, payload: { raw: message.value?.toString('utf8').slice(0, 10_000) ?? null },
        });
        continue;
      }
      const outcome = mapZendeskEnvelope(parsed, config.mapping);
      if (outcome.kind === 'staged') {
        const runId = outcome.runId ?? 0;
        rowsByRun.set(runId, [...(rowsByRun.get(runId) ?? []), outcome.row]);
        recordsOut.inc({ entity: outcome.row.entity });
        staged++;
      } else if (outcome.kind === 'rejected') {
        rejects.push({
          runId: outcome.runId ?? null, source: config.source.name, entity, sourceId: outcome.sourceId, parentSourceId: outcome.parentSourceId,
          topic: batch.topic, partition: batch.partition, offset: message.offset, reason: outcome.reason, path: outcome.path,
          payload: (parsed as { record?: unknown })?.record ?? parsed,
        });
      }
    }
    await db.transaction(async (trx) => {
      for (const [runId, list] of rowsByRun) await upsertBatch(trx, runId, list);
      await insertRejects(trx, rejects);
    });
    if (rejects.length > 0) {
      await producer.send({
        topic: dlqTopic(config.topicPrefix), acks: -1,
        messages: rejects.map((r) => ({ key: r.sourceId, value: JSON.stringify({ reason: r.reason, path: r.path, topic: r.topic, partition: r.partition, offset: r.offset, payload: r.payload }) })),
      });
    }
    // Committed only now that staging has the batch: the committed offset is the next to read.
    const last = batch.messages.at(-1)!.offset;
    resolveOffset(last);
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
    await heartbeat();
    recordsIn.inc({ entity }, batch.messages.length);
    if (rejects.length > 0) rejected.inc({ entity }, rejects.length);
    end();
    log.debug({ entity, messages: batch.messages.length, staged, rejected: rejects.length }, 'batch staged');
  }

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 2,
    eachBatch: async (payload) => {
      try {
        await handleBatch(payload);
      } catch (err) {
        log.error({ err, topic: payload.batch.topic, partition: payload.batch.partition }, 'transform batch failed; it will be re-delivered');
        throw err;
      }
    },
  });
  log.info({ groupId, topics }, 'transform consuming');

  return {
    groupId,
    topics,
    async close() {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
