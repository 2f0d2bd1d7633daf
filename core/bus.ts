import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { ServiceUnavailableError } from './errors.ts';
import type { Logger } from './log.ts';

/** The entities a source produces, one topic each. */
export const RAW_ENTITIES = [
  'organizations', 'users', 'groups', 'ticket_fields', 'tickets', 'comments',
  // API extraction only: ticket forms and the Help Center (R8); transform ignores what it does not map yet.
  'ticket_forms', 'kb_categories', 'kb_sections', 'kb_articles',
] as const;
export type RawEntity = (typeof RAW_ENTITIES)[number];

export function rawTopic(prefix: string, source: string, entity: string): string {
  return `${prefix}.raw.${source}.${entity}`;
}

export function dlqTopic(prefix: string): string {
  return `${prefix}.dlq`;
}

/** The envelope around each source record on a raw topic. */
export interface RawEnvelope {
  runId: number;
  source: string;
  entity: RawEntity;
  extractedAt: string;
  /** Position of the record in its source, for resuming and for error messages. */
  cursor: string;
  record: unknown;
  /** What the extractor knows beside the record (a comment's ticket and position, a ticket's comment count). */
  meta?: Record<string, unknown>;
}

export function createKafka(brokers: string[], log: Logger, clientId = 'deskport'): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    retry: { retries: 8, initialRetryTime: 200 },
    logCreator: () => ({ level, log: entry }) => {
      const { message, ...extra } = entry;
      // kafkajs logs retriable responses (a coordinator still loading…) as errors and retries
      // them itself; what it finally gives up on reaches us as a thrown error.
      // A group rebalancing (a consumer joined or left) is routine: kafkajs rejoins by itself.
      const routine = typeof extra.error === 'string' && extra.error.startsWith('The group is rebalancing');
      if (level <= logLevel.ERROR && !routine) log.warn({ kafka: extra }, message);
      else log.debug({ kafka: extra }, message);
    },
  });
}

/** The largest record a raw topic takes (a comment body can be megabytes). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * Creates the topics if missing (partitions let transform scale out by consumer group), then
 * waits until every partition has a leader. A fresh broker answers "unknown topic" for a moment
 * after creating one, so metadata is polled here rather than trusting kafkajs' waitForLeaders.
 */
export async function ensureTopics(admin: Admin, topics: string[], numPartitions = 4, timeoutMs = 30_000): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    try {
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((topic) => ({
          topic, numPartitions, replicationFactor: 1,
          // Kafka's 1 MB default is below one Teamwork Desk message (up to 5 MB of HTML).
          configEntries: [{ name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) }],
        })),
      });
    } catch (err) {
      // Another process created them first: fine.
      if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      if (meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable) throw err;
    }
    if (Date.now() > deadline) throw new ServiceUnavailableError('Kafka', `topics have no leader after ${timeoutMs / 1000} s: ${topics.join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function connectProducer(kafka: Kafka): Promise<Producer> {
  // Idempotent producer: a retried send cannot write a message twice; acks=all is set per send.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  try {
    await producer.connect();
  } catch (err) {
    throw new ServiceUnavailableError('Kafka', 'cannot connect to the brokers', { cause: err, hint: 'Check KAFKA_BROKERS, or unset it to use the embedded broker.' });
  }
  return producer;
}

/** Latest offset of every partition of the topics: where a consumer has to reach to be caught up. */
export async function endOffsets(admin: Admin, topics: string[]): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) out.set(`${topic}:${p.partition}`, BigInt(p.high));
  }
  return out;
}

/** True when the group's committed offsets reached `targets` on every partition. */
export async function groupCaughtUp(admin: Admin, groupId: string, targets: Map<string, bigint>): Promise<boolean> {
  const topics = [...new Set([...targets.keys()].map((k) => k.slice(0, k.lastIndexOf(':'))))];
  const committed = await admin.fetchOffsets({ groupId, topics });
  const have = new Map<string, bigint>();
  for (const t of committed) for (const p of t.partitions) have.set(`${t.topic}:${p.partition}`, BigInt(p.offset));
  for (const [key, high] of targets) {
    if (high === 0n) continue;
    if ((have.get(key) ?? -1n) < high) return false;
  }
  return true;
}
