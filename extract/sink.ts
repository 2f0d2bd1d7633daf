import type { Message, Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import { rawTopic, type RawEnvelope } from '../src/bus.ts';
import { counter } from '../src/metrics.ts';
import { sanitizeJson } from './sanitize.ts';

/** Kafka key: the ticket id for tickets and everything under them (ordering per ticket), else the record's id. */
export function keyOf(env: RawEnvelope): string {
  if (env.entity === 'comments') return String(env.meta?.ticketId);
  const id = (env.record as { id?: unknown } | null)?.id;
  return id === undefined || id === null ? env.cursor : String(id);
}

/**
 * Produces envelopes to their raw topics in one batch and resolves only when Kafka acknowledged
 * it (acks=all), so the caller may then move its checkpoint. Text Postgres cannot store is
 * repaired here (sanitize.ts) and counted, never passed on to break a staging transaction.
 */
export class RecordSink {
  private readonly produced;
  private readonly repaired;

  constructor(private readonly producer: Producer, private readonly prefix: string, private readonly source: string, registry: Registry) {
    this.produced = counter(registry, 'deskport_extract_records_total', 'Records produced to Kafka', ['entity']);
    this.repaired = counter(registry, 'deskport_extract_text_repaired_total', 'Records whose text had NUL or lone surrogates replaced', ['entity']);
  }

  async send(envelopes: Iterable<RawEnvelope>): Promise<Record<string, number>> {
    const byTopic = new Map<string, Message[]>();
    const counts: Record<string, number> = {};
    for (const env of envelopes) {
      const topic = rawTopic(this.prefix, this.source, env.entity);
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      const { json, fixed } = sanitizeJson(JSON.stringify(env));
      if (fixed > 0) this.repaired.inc({ entity: env.entity });
      list.push({ key: keyOf(env), value: json });
      counts[env.entity] = (counts[env.entity] ?? 0) + 1;
    }
    if (byTopic.size === 0) return counts;
    await this.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    for (const [entity, n] of Object.entries(counts)) this.produced.inc({ entity }, n);
    return counts;
  }
}
