import { createHash } from 'node:crypto';
import type { Message, Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import { MAX_MESSAGE_BYTES, rawTopic, type RawEnvelope } from '../core/bus.ts';
import { counter } from '../core/metrics.ts';
import { insertRejects, type Db, type RejectRow } from '../staging/index.ts';
import { messageOfEnvelope } from './raw-envelope.ts';
import type { RawMessage } from './records.ts';

/** Kafka key: the ticket id for tickets and everything under them (ordering per ticket), else the record's id. */
export function keyOf(env: RawEnvelope): string {
  if (env.entity === 'comments') return String(env.meta?.ticketId);
  const id = (env.record as { id?: unknown } | null)?.id;
  return id === undefined || id === null ? env.cursor : String(id);
}


/**
 * The largest message value+key a raw topic takes: its max.message.bytes bounds a whole record
 * batch, so the batch header and the record's own framing must fit beside it.
 */
export const MAX_RECORD_BYTES = MAX_MESSAGE_BYTES - 1024;
/** Bytes per produce request: several requests per batch keep kafkajs' encoding buffers small. */
const SEND_BYTES = 2 * 1024 * 1024;

/**
 * Produces messages to their raw topics and resolves only when Kafka acknowledged every one
 * (acks=all), so the caller may then move its checkpoint. A record larger than the topics take
 * cannot be produced: it becomes a reject (its id, its ticket, the reason) and the rest goes on.
 */
export class RecordSink {
  private readonly produced;
  private readonly repaired;
  private readonly tooLarge;
  /**
   * Produce requests go one at a time: kafkajs' idempotent producer breaks with concurrent sends
   * (OUT_OF_ORDER_SEQUENCE_NUMBER, even silently lost messages: kafkajs issues #598, #1005).
   * Callers may still prepare the next batch while one is in flight.
   */
  private sending: Promise<unknown> = Promise.resolve();

  constructor(private readonly producer: Producer, private readonly prefix: string, private readonly source: string, registry: Registry, private readonly db?: Db) {
    this.produced = counter(registry, 'deskport_extract_records_total', 'Records produced to Kafka', ['entity']);
    this.repaired = counter(registry, 'deskport_extract_text_repaired_total', 'Records whose text had NUL or lone surrogates replaced', ['entity']);
    this.tooLarge = counter(registry, 'deskport_extract_records_too_large_total', 'Records larger than a raw topic takes, rejected', ['entity']);
  }

  /**
   * Envelopes that arrive parsed (the API extractor): serialized, then produced. Rejects (too
   * large) are written to staging here, before the caller's checkpoint moves.
   */
  async send(envelopes: Iterable<RawEnvelope>): Promise<Record<string, number>> {
    const messages: RawMessage[] = [];
    for (const env of envelopes) {
      const key = keyOf(env);
      const id = (env.record as { id?: unknown } | null)?.id;
      const sourceId = typeof id === 'number' || typeof id === 'string' ? String(id) : null;
      messages.push({
        entity: env.entity, key, ...messageOfEnvelope(env), runId: env.runId, sourceId,
        parentSourceId: env.entity === 'comments' ? key : null, origin: `api:${rawTopic(this.prefix, this.source, env.entity)}`,
        // A reject row is unique per (origin, position): the record's numeric id, else a number derived from its cursor.
        position: sourceId && /^\d{1,15}$/.test(sourceId) ? sourceId : String(parseInt(createHash('sha1').update(env.cursor).digest('hex').slice(0, 12), 16)),
      });
    }
    const { counts, rejects } = await this.sendMessages(messages);
    if (rejects.length > 0) {
      if (!this.db) throw new Error('RecordSink: a record was too large and no staging database was given for its reject');
      await insertRejects(this.db, rejects);
    }
    return counts;
  }

  /** Produces the messages; returns the counts produced per entity and the rejects for the caller to store. */
  async sendMessages(messages: RawMessage[]): Promise<{ counts: Record<string, number>; rejects: RejectRow[] }> {
    const counts: Record<string, number> = {};
    const rejects: RejectRow[] = [];
    const requests: Map<string, Message[]>[] = [];
    let request = new Map<string, Message[]>();
    let bytes = 0;
    for (const m of messages) {
      const size = m.value.length + Buffer.byteLength(m.key);
      if (size > MAX_RECORD_BYTES) {
        rejects.push({
          runId: m.runId, source: this.source, entity: m.entity, sourceId: m.sourceId, parentSourceId: m.parentSourceId,
          topic: m.origin, partition: -1, offset: m.position, path: null,
          reason: `record is ${size} bytes, larger than the ${MAX_RECORD_BYTES} bytes a raw topic message can hold (max.message.bytes ${MAX_MESSAGE_BYTES})`,
          payload: { head: m.value.toString('utf8', 0, 10_000) },
        });
        this.tooLarge.inc({ entity: m.entity });
        continue;
      }
      if (bytes + size > SEND_BYTES && bytes > 0) {
        requests.push(request);
        request = new Map();
        bytes = 0;
      }
      const topic = rawTopic(this.prefix, this.source, m.entity);
      let list = request.get(topic);
      if (!list) request.set(topic, (list = []));
      list.push({ key: m.key, value: m.value });
      bytes += size;
      counts[m.entity] = (counts[m.entity] ?? 0) + 1;
      if (m.repaired > 0) this.repaired.inc({ entity: m.entity });
    }
    if (bytes > 0) requests.push(request);
    // One caller's requests go out together, in order, after those queued before them.
    const send = this.sending.catch(() => undefined).then(async () => {
      for (const r of requests) {
        await this.producer.sendBatch({ acks: -1, topicMessages: [...r].map(([topic, msgs]) => ({ topic, messages: msgs })) });
      }
    });
    this.sending = send;
    await send;
    for (const [entity, n] of Object.entries(counts)) this.produced.inc({ entity }, n);
    return { counts, rejects };
  }
}
