import { isUtf8 } from 'node:buffer';
import type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import { dlqTopic, endOffsets, groupCaughtUp, MAX_MESSAGE_BYTES, rawTopic, RAW_ENTITIES } from '../core/bus.ts';
import { mappingHash as mappingHashOf, type Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { counter, gauge, histogram } from '../core/metrics.ts';
import {
  insertRejects, settleFilteredComments, upsertBatch, upsertRefs, type Db, type RefRow, type RejectRow, type StagedRow,
} from '../staging/index.ts';
import type { CanonicalComment, CanonicalTicket } from '../staging/canonical.ts';
import { watchConsumerLag } from './consumer-lag.ts';
import { finishMapping, mapZendeskSource, type MapOutcome } from './map-record.ts';
import { sanitizeJsonBytes } from '../core/sanitize-json.ts';
import { neededRefKinds, REF_TOPIC, referencedIds, StagingRefs, type RefKind } from './refs.ts';

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
  // Lag per partition: high watermark minus the next offset to read, set after each batch and by
  // a poll (which sees a stalled consumer). Labels: entity and partition number, both bounded.
  const lag = gauge(registry, 'deskport_transform_consumer_lag_messages', 'Messages not yet consumed, per raw topic partition', ['entity', 'partition']);
  const rejectReasons = counter(registry, 'deskport_transform_rejects_total', 'Records rejected, by entity and kind of reason', ['entity', 'reason']);

  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer: Consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxBytesPerPartition: MAX_MESSAGE_BYTES });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });

  const mapping = config.mapping;
  // Each staged row records which mapping it was mapped with (a loader re-applies a changed one).
  const mappingHash = mappingHashOf(mapping);
  // Names the mapping file uses (groups, fields…) come from other topics; tickets wait for them.
  const neededKinds = neededRefKinds(mapping);
  const refs = new StagingRefs(db, config.source.name);
  const filtering = Object.keys(mapping.filters).length > 0;
  let admin: Admin | null = null;
  const caughtUpAt = new Map<RefKind, number>();

  /** True once the transform group consumed everything on the topic that feeds this kind of reference. */
  async function refTopicCaughtUp(kind: RefKind): Promise<boolean> {
    if (caughtUpAt.has(kind)) return true;
    if (!admin) {
      admin = kafka.admin();
      await admin.connect();
    }
    const topic = rawTopic(config.topicPrefix, config.source.name, REF_TOPIC[kind]);
    const done = await groupCaughtUp(admin, groupId, await endOffsets(admin, [topic]));
    if (done) caughtUpAt.set(kind, Date.now());
    return done;
  }

  /**
   * Resolves the names a ticket batch needs. False: some are not staged yet while their topic is
   * still being consumed; the caller pauses this partition and the batch comes again.
   */
  async function refsReady(tickets: CanonicalTicket[]): Promise<boolean> {
    if (neededKinds.size === 0 || tickets.length === 0) return true;
    const wanted = referencedIds(tickets, neededKinds);
    const missing = await refs.load(wanted);
    for (const kind of missing.keys()) {
      if (!(await refTopicCaughtUp(kind))) return false;
    }
    // The reference topic may have been staged between the lookup and the caught-up check
    // (another partition's batch): look again, now that what is staged is all there will be.
    if (missing.size > 0) await refs.load(wanted);
    return true;
  }

  async function handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, pause }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const end = batchSeconds.startTimer();
    const entity = batch.topic.slice(batch.topic.lastIndexOf('.') + 1);
    // The run id travels in each envelope; a batch can straddle two runs, so rows group by run.
    const rowsByRun = new Map<number, StagedRow[]>();
    const refsByRun = new Map<number, RefRow[]>();
    const addRow = (runId: number, row: StagedRow) => {
      const list = rowsByRun.get(runId);
      if (list) list.push(row);
      else rowsByRun.set(runId, [row]);
      recordsOut.inc({ entity: row.entity });
    };
    const rejects: RejectRow[] = [];
    const outcomes: { outcome: MapOutcome & { runId?: number }; offset: string; parsed: unknown }[] = [];
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
      const outcome = mapZendeskSource(parsed, mapping);
      // Staging keeps the message itself as the row's raw record (the envelope: record, meta, cursor).
      if (outcome.kind === 'staged') outcome.row.rawJson = rawJsonOf(message.value!);
      outcomes.push({ outcome, offset: message.offset, parsed });
    }
    const tickets = outcomes.flatMap(({ outcome: o }) => (o.kind === 'staged' && o.row.entity === 'tickets' ? [o.row.data as CanonicalTicket] : []));
    if (!(await refsReady(tickets))) {
      // Not resolved: nothing staged, nothing committed; the batch is fetched again after resume.
      const resume = pause();
      setTimeout(resume, 250).unref();
      end();
      return;
    }
    const ticketIds: string[] = [];
    for (const { outcome: raw, offset, parsed } of outcomes) {
      const outcome = finishMapping(raw, mapping, refs);
      if (outcome.kind === 'staged') {
        const runId = outcome.runId ?? 0;
        addRow(runId, outcome.row);
        for (const extra of outcome.extra ?? []) addRow(runId, extra);
        if (outcome.row.entity === 'tickets') ticketIds.push(outcome.row.data.sourceId);
        else if (outcome.row.entity === 'comments') ticketIds.push((outcome.row.data as CanonicalComment).ticketSourceId);
        staged++;
      } else if (outcome.kind === 'ref') {
        const runId = outcome.runId ?? 0;
        refsByRun.set(runId, [...(refsByRun.get(runId) ?? []), outcome.ref]);
        staged++;
      } else if (outcome.kind === 'rejected') {
        rejects.push({
          runId: outcome.runId ?? null, source: config.source.name, entity, sourceId: outcome.sourceId, parentSourceId: outcome.parentSourceId,
          topic: batch.topic, partition: batch.partition, offset, reason: outcome.reason, path: outcome.path,
          payload: (parsed as { record?: unknown })?.record ?? parsed,
        });
      }
    }
    await db.transaction(async (trx) => {
      for (const [runId, list] of rowsByRun) await upsertBatch(trx, runId, list, { mappingHash });
      for (const [runId, list] of refsByRun) await upsertRefs(trx, runId, list);
      await insertRejects(trx, rejects);
    });
    // Comments follow their ticket's filter verdict, whichever of the two was staged first.
    if (entity === 'tickets' || (entity === 'comments' && filtering)) await settleFilteredComments(db, config.source.name, ticketIds);
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
    for (const r of rejects) rejectReasons.inc({ entity, reason: r.reason.startsWith('message is not JSON') ? 'not_json' : 'invalid' });
    lag.set({ entity, partition: String(batch.partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last) - 1n)));
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
        const where = { topic: payload.batch.topic, partition: payload.batch.partition };
        // A consumer joined or left: the partition may move; what was not committed comes again.
        if ((err as { type?: string }).type === 'REBALANCE_IN_PROGRESS') log.info(where, 'consumer group rebalancing; the batch is re-delivered if its offsets were not committed');
        else log.error({ err, ...where }, 'transform batch failed; it will be re-delivered');
        throw err;
      }
    },
  });
  log.info({ groupId, topics }, 'transform consuming');
  const lagWatch = await watchConsumerLag({ kafka, groupId, topics, lag, log });

  return {
    groupId,
    topics,
    async close() {
      await lagWatch.stop();
      await consumer.disconnect();
      if (admin) await (admin as Admin).disconnect();
      await producer.disconnect();
    },
  };
}

/**
 * A message's bytes as a staged row's raw JSON: as they are, with escapes Postgres cannot store
 * repaired (the extractor already did; other producers may not have). Not UTF-8: undefined, and
 * the parsed record is serialized instead.
 */
function rawJsonOf(value: Buffer): Buffer | undefined {
  return isUtf8(value) ? sanitizeJsonBytes(value).bytes : undefined;
}
