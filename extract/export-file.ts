import { stat } from 'node:fs/promises';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { addExtracted, getCheckpoint, insertRejects, setCheckpoint, type Db, type RejectRow } from '../staging/index.ts';
import { isNdjsonFile, entityOfFile, ndjsonFiles, readNdjsonFile } from './ndjson-export.ts';
import { envelopeMessages } from './raw-envelope.ts';
import type { ExportRecord, RawMessage } from './records.ts';
import type { RecordSink } from './sink.ts';
import { readZendeskExport } from './zendesk-export.ts';
import { InputError } from '../core/errors.ts';

/** Checkpoint stream name: one per export file. Its cursor is `<runId>:<records done>`. */
function streamOf(path: string): string {
  return `export:${path}`;
}

/** The record batches of an export: a JSON document, an NDJSON file, or a directory of NDJSON files (each may be .gz). */
async function* readExport(path: string, batchSize: number): AsyncGenerator<ExportRecord[]> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new InputError(`cannot open the export ${path} (${err.code})`, { cause: err, path, hint: 'Check source.path (DESKPORT_SOURCE_PATH).' });
  });
  if (info.isDirectory()) {
    for (const f of await ndjsonFiles(path)) yield* readNdjsonFile(f.path, f.entity, { batchSize });
  } else if (isNdjsonFile(path)) {
    const entity = entityOfFile(path);
    if (!entity) throw new InputError(`cannot tell which entity the NDJSON file ${path} holds; name it tickets.ndjson, users.ndjson…`, { path });
    yield* readNdjsonFile(path, entity, { batchSize });
  } else {
    yield* readZendeskExport(path, { batchSize });
  }
}

/** Batches whose acknowledgement may be awaited at once: Kafka, staging and parsing overlap. */
const IN_FLIGHT = 3;
/** Bytes of messages per flush (one checkpoint each). */
const FLUSH_BYTES = 2 * 1024 * 1024;

/**
 * Reads an export and produces its records. Parsing the next batches overlaps Kafka's
 * acknowledgement of the previous ones (at most IN_FLIGHT + 1 batches in memory); a batch's
 * checkpoint is stored only after its own acknowledgement and every earlier batch's checkpoint,
 * so a resumed run (same run id) re-sends at most the batches in flight and never skips one.
 * Records that cannot be read, or are too large for a raw topic, go to the rejects table with
 * their reason; the run goes on.
 */
export async function extractExportFile(deps: { db: Db; log: Logger }, config: Config, runId: number, sink: RecordSink) {
  const { db, log } = deps;
  const source = config.source.name;
  const path = config.source.path;
  const stream = streamOf(path);
  const checkpoint = await getCheckpoint(db, source, stream);
  // Resume inside the same run only; a new run re-reads the file (staging dedupes by source id).
  const [cpRun, cpDone] = (checkpoint ?? '').split(':').map(Number);
  let skip = cpRun === runId && Number.isFinite(cpDone) ? cpDone! : 0;
  if (skip > 0) log.info({ skip }, 'resuming extraction after the last acknowledged batch');

  const result = { records: 0, messages: 0, byEntity: {} as Record<string, number>, rejected: 0 };
  let done = 0;
  const inflight: Promise<void>[] = [];
  let previous: Promise<void> = Promise.resolve();
  const flush = async (messages: RawMessage[], unreadable: RejectRow[], doneAfter: number, records: number, before: Promise<void>): Promise<void> => {
    const sent = sink.sendMessages(messages);
    // Both awaited before anything is stored: a failure of either stops this checkpoint.
    const [{ counts, rejects }] = await Promise.all([sent, before]);
    await db.transaction(async (trx) => {
      await addExtracted(trx, runId, counts);
      await insertRejects(trx, [...unreadable, ...rejects]);
      await setCheckpoint(trx, source, stream, `${runId}:${doneAfter}`, runId);
    });
    for (const [entity, n] of Object.entries(counts)) {
      result.byEntity[entity] = (result.byEntity[entity] ?? 0) + n;
      result.messages += n;
    }
    result.records += records;
    result.rejected += unreadable.length + rejects.length;
  };
  // Pending: read but not yet handed to Kafka. Small read batches let parsed records die young
  // (cheap garbage collection); their messages are gathered into flushes of FLUSH_BYTES.
  let messages: RawMessage[] = [];
  let rejects: RejectRow[] = [];
  let records = 0;
  let bytes = 0;
  const handOver = async (): Promise<void> => {
    if (inflight.length >= IN_FLIGHT) await inflight.shift();
    previous = flush(messages, rejects, done, records, previous);
    // Awaited in order here or below; a failure surfaces there (each flush also awaits the one before).
    previous.catch(() => undefined);
    inflight.push(previous);
    messages = [];
    rejects = [];
    records = 0;
    bytes = 0;
  };
  try {
    for await (const batch of readExport(path, 200)) {
      const fresh = skip >= batch.length ? [] : batch.slice(skip);
      skip = Math.max(0, skip - batch.length);
      done += batch.length;
      if (fresh.length === 0) continue;
      const ctx = { runId, source, extractedAt: new Date().toISOString(), origin: `file:${path}` };
      const first = messages.length;
      for (const rec of fresh) {
        if (rec.invalid) {
          rejects.push({
            runId, source, entity: rec.entity, sourceId: null, parentSourceId: null, topic: `file:${path}`, partition: -1,
            offset: String(rec.byteOffset ?? rec.index), reason: rec.invalid.reason, path: null, payload: { raw: rec.invalid.raw },
          });
          continue;
        }
        envelopeMessages(rec, ctx, messages);
      }
      for (let i = first; i < messages.length; i++) bytes += messages[i]!.value.length;
      records += fresh.length;
      if (bytes >= FLUSH_BYTES || records >= 1000) await handOver();
    }
  } catch (err) {
    // What was read before the failure is still produced and checkpointed.
    if (records > 0) await handOver();
    throw err;
  } finally {
    // Let acknowledged batches record their checkpoints even when reading failed after them.
    await Promise.allSettled(inflight);
  }
  if (records > 0) await handOver();
  await previous;
  return result;
}
