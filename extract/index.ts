import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { connectProducer, ensureTopics, rawTopic, RAW_ENTITIES } from '../core/bus.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { Db } from '../staging/index.ts';
import { extractExportFile } from './export-file.ts';
import { RecordSink } from './sink.ts';
import { extractZendeskApi } from './zendesk-api/index.ts';

export interface ExtractDeps { db: Db; kafka: Kafka; log: Logger; registry: Registry }
export interface ExtractResult {
  records: number;
  messages: number;
  byEntity: Record<string, number>;
  /** API extraction: calls made, by endpoint, and attachment outcomes. */
  calls?: number;
  callsByEndpoint?: Record<string, number>;
  attachments?: { fetched: number; failed: number };
  rejected?: number;
}

/**
 * The extract stage's one door: reads the configured source (an export file, or the Zendesk
 * API) and produces one Kafka message per source record to `<prefix>.raw.<source>.<entity>`.
 * Each source keeps its own checkpoints in staging, moved only after Kafka acknowledged.
 */
export async function runExtract(deps: ExtractDeps, config: Config, runId: number): Promise<ExtractResult> {
  const { kafka, log } = deps;
  const source = config.source.name;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, RAW_ENTITIES.map((e) => rawTopic(config.topicPrefix, source, e)));
  } finally {
    await admin.disconnect();
  }
  const producer = await connectProducer(kafka);
  const sink = new RecordSink(producer, config.topicPrefix, source, deps.registry, deps.db);
  try {
    let result: ExtractResult;
    if (config.source.kind === 'zendesk-api') {
      const r = await extractZendeskApi(deps, config, runId, sink);
      const messages = Object.values(r.byEntity).reduce((a, b) => a + b, 0);
      result = { records: messages, messages, byEntity: r.byEntity, calls: r.calls, callsByEndpoint: r.callsByEndpoint, attachments: r.attachments };
    } else {
      result = await extractExportFile(deps, config, runId, sink);
    }
    log.info({ ...result.byEntity, calls: result.calls, attachments: result.attachments }, 'extraction finished');
    return result;
  } finally {
    await producer.disconnect();
  }
}
