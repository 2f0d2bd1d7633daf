import type { Kafka } from 'kafkajs';
import type { Gauge } from 'prom-client';
import type { Logger } from '../core/log.ts';

export interface LagWatch { stop(): Promise<void> }

/**
 * Polls the group's committed offsets against each partition's high watermark and sets the lag
 * gauge. Batches update the gauge too, but only a poll sees a consumer that stopped receiving
 * batches — the case the "lag growing" alert is for.
 */
export async function watchConsumerLag(opts: {
  kafka: Kafka; groupId: string; topics: string[]; lag: Gauge<'entity' | 'partition'>; log: Logger; intervalMs?: number;
}): Promise<LagWatch> {
  const admin = opts.kafka.admin();
  await admin.connect();
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  async function poll(): Promise<void> {
    const committed = await admin.fetchOffsets({ groupId: opts.groupId, topics: opts.topics });
    const next = new Map<string, bigint>();
    for (const t of committed) for (const p of t.partitions) next.set(`${t.topic}:${p.partition}`, BigInt(p.offset));
    for (const topic of opts.topics) {
      const entity = topic.slice(topic.lastIndexOf('.') + 1);
      for (const p of await admin.fetchTopicOffsets(topic)) {
        // -1: the group committed nothing here yet; everything retained is still to read.
        const at = next.get(`${topic}:${p.partition}`) ?? -1n;
        const from = at < 0n ? BigInt(p.low) : at;
        opts.lag.set({ entity, partition: String(p.partition) }, Math.max(0, Number(BigInt(p.high) - from)));
      }
    }
  }

  let busy = false;
  const timer = setInterval(() => {
    if (stopped || busy) return;
    busy = true;
    running = poll()
      .catch((err: unknown) => opts.log.warn({ err }, 'could not read consumer lag'))
      .finally(() => { busy = false; });
  }, opts.intervalMs ?? 5000);
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await admin.disconnect();
    },
  };
}
