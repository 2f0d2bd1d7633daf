// Runs against DATABASE_URL / KAFKA_BROKERS when set, otherwise against the embedded
// services it starts (and stops) itself under .deskport/.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { KafkaMessage } from 'kafkajs';
import pg from 'pg';
import { ensureServices } from '../core/services/index.ts';
import type { Services } from '../core/services/index.ts';

let services: Services | undefined;

before(async () => {
  const started = Date.now();
  const debug = process.env.DESKPORT_SERVICES_DEBUG !== undefined;
  services = await ensureServices({ workDir: path.resolve('.deskport'), log: (msg) => debug && console.error(msg) });
  console.error(`services ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
});

after(async () => {
  await services?.stop();
});

function ready(): Services {
  assert.ok(services, 'services did not start');
  return services;
}

test('Postgres answers a query', async () => {
  const client = new pg.Client({ connectionString: ready().databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ answer: number }>('SELECT 41 + 1 AS answer');
    assert.equal(rows[0]?.answer, 42);
  } finally {
    await client.end();
  }
});

test('a message round-trips through Kafka', async () => {
  const kafka = new Kafka({ clientId: 'deskport-services-test', brokers: ready().brokers, logLevel: logLevel.NOTHING });
  const topic = `deskport-test-${randomUUID()}`;
  const key = `key-${randomUUID()}`;
  const value = JSON.stringify({ hello: 'wörld', at: Date.now() });

  const admin = kafka.admin();
  await admin.connect();
  try {
    // Partitions and replication left to broker defaults so this also works on a real cluster.
    await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [{ key, value }] });
    } finally {
      await producer.disconnect();
    }

    const received = await consumeOne(kafka, topic, 60_000);
    assert.equal(received.key?.toString(), key);
    assert.equal(received.value?.toString(), value);
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
});

async function consumeOne(kafka: Kafka, topic: string, timeoutMs: number): Promise<KafkaMessage> {
  const consumer = kafka.consumer({ groupId: `deskport-test-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    return await new Promise<KafkaMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message on ${topic} within ${timeoutMs / 1000}s`)), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve(message);
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err);
        });
    });
  } finally {
    await consumer.disconnect();
  }
}
