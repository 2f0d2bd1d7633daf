import { stat } from 'node:fs/promises';
import type { RawEntity, RawEnvelope } from '../src/bus.ts';
import type { Config } from '../src/config.ts';
import type { Logger } from '../src/log.ts';
import { addExtracted, getCheckpoint, insertRejects, setCheckpoint, type Db, type RejectRow } from '../staging/index.ts';
import { isNdjsonFile, entityOfFile, ndjsonFiles, readNdjsonFile } from './ndjson-export.ts';
import type { RecordSink } from './sink.ts';
import { readZendeskExport, type ExportRecord } from './zendesk-export.ts';
import { InputError } from '../src/errors.ts';

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

/**
 * Reads an export and produces its records. Parsing the next batch overlaps Kafka's
 * acknowledgement of the previous one (at most two batches in memory); the checkpoint moves
 * only after the acknowledgement, so a resumed run (same run id) re-sends at most one batch.
 * Records that cannot be read go to the rejects table with their reason; the run goes on.
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
  let inflight: Promise<void> | null = null;
  const flush = async (envs: RawEnvelope[], rejects: RejectRow[], doneAfter: number, records: number): Promise<void> => {
    const counts = await sink.send(envs);
    await db.transaction(async (trx) => {
      await addExtracted(trx, runId, counts);
      await insertRejects(trx, rejects);
      await setCheckpoint(trx, source, stream, `${runId}:${doneAfter}`, runId);
    });
    for (const [entity, n] of Object.entries(counts)) {
      result.byEntity[entity] = (result.byEntity[entity] ?? 0) + n;
      result.messages += n;
    }
    result.records += records;
    result.rejected += rejects.length;
  };
  try {
    for await (const batch of readExport(path, 1000)) {
      const fresh = skip >= batch.length ? [] : batch.slice(skip);
      skip = Math.max(0, skip - batch.length);
      done += batch.length;
      if (fresh.length === 0) continue;
      const envs: RawEnvelope[] = [];
      const rejects: RejectRow[] = [];
      for (const rec of fresh) {
        if (rec.invalid) {
          rejects.push({
            runId, source, entity: rec.entity, sourceId: null, parentSourceId: null, topic: `file:${path}`, partition: -1,
            offset: String(rec.byteOffset ?? rec.index), reason: rec.invalid.reason, path: null, payload: { raw: rec.invalid.raw },
          });
          continue;
        }
        envelopes(rec, runId, source, envs);
      }
      if (inflight) await inflight;
      inflight = flush(envs, rejects, done, fresh.length);
    }
  } finally {
    // Let the last acknowledged batch record its checkpoint even when reading failed after it.
    if (inflight) await inflight;
  }
  return result;
}

/**
 * One envelope per record; a ticket's embedded comments become comment records of their own
 * (with the ticket id and their position) and the ticket says how many it had.
 */
function envelopes(rec: ExportRecord, runId: number, source: string, out: RawEnvelope[]): void {
  const base = { runId, source, extractedAt: new Date().toISOString(), cursor: `${rec.entity}#${rec.index}` };
  const entity = rec.entity as RawEntity;
  const value = rec.value as Record<string, unknown> | null;
  if (entity !== 'tickets' || typeof value !== 'object' || value === null || Array.isArray(value)) {
    out.push({ ...base, entity, record: rec.value });
    return;
  }
  const { comments, ...ticket } = value;
  const list = Array.isArray(comments) ? comments : [];
  out.push({ ...base, entity, record: ticket, meta: { commentCount: list.length } });
  for (const [position, comment] of list.entries()) {
    out.push({ ...base, entity: 'comments', cursor: `${base.cursor}.comments#${position}`, record: comment, meta: { ticketId: ticket.id, position } });
  }
}
