import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../core/errors.ts';
import type { ExportRecord } from './records.ts';
import { EXPORT_ENTITIES } from './zendesk-export.ts';

const ORDER = ['organizations', 'users', 'groups', 'ticket_fields', 'tickets', 'kb_categories', 'kb_sections', 'kb_articles'];

/** `tickets.json`, `tickets.ndjson.gz`, `tickets-2024-01.jsonl`… → `tickets`; undefined when not an export entity. */
export function entityOfFile(name: string): string | undefined {
  const base = basename(name).toLowerCase().replace(/\.gz$/, '').replace(/\.(json|ndjson|jsonl)$/, '');
  return [...EXPORT_ENTITIES].sort((a, b) => b.length - a.length).find((e) => base === e || base.startsWith(`${e}-`) || base.startsWith(`${e}_`) || base.startsWith(`${e}.`));
}

export function isNdjsonFile(path: string): boolean {
  return /\.(ndjson|jsonl)(\.gz)?$/i.test(path);
}

/** The entity files of an NDJSON export directory, in dependency order. */
export async function ndjsonFiles(dir: string): Promise<{ entity: string; path: string }[]> {
  const names = (await readdir(dir)).filter((n) => entityOfFile(n) !== undefined).sort();
  if (names.length === 0) {
    throw new InputError(`the export directory ${dir} holds no entity files (organizations.json, users.json, tickets.json…)`, { path: dir });
  }
  return names.map((n) => ({ entity: entityOfFile(n)!, path: join(dir, n) })).sort((a, b) => ORDER.indexOf(a.entity) - ORDER.indexOf(b.entity));
}

/**
 * Streams one NDJSON file (one record per line, `.gz` gunzipped on the fly) in constant memory:
 * chunks are split on newlines, only the current partial line is kept. A line that is not JSON
 * is handed out as an invalid record (the caller rejects it and goes on); a last line cut off
 * without its newline is a truncated file: an InputError naming the byte offset.
 */
export async function* readNdjsonFile(path: string, entity: string, opts: { batchSize?: number; startIndex?: number } = {}): AsyncGenerator<ExportRecord[]> {
  const batchSize = opts.batchSize ?? 500;
  try {
    await stat(path);
  } catch (err) {
    throw new InputError(`cannot open the export file ${path} (${(err as NodeJS.ErrnoException).code})`, { cause: err, path });
  }
  let input: Readable = createReadStream(path, { highWaterMark: 256 * 1024 });
  if (path.endsWith('.gz')) input = input.pipe(createGunzip());
  let offset = 0; // byte offset (of the decompressed text) where `rest` starts
  let rest: Buffer = Buffer.alloc(0);
  let index = 0;
  let batch: ExportRecord[] = [];
  const handle = (line: Buffer, at: number): void => {
    const raw = line.at(-1) === 0x0d ? line.subarray(0, -1) : line;
    const text = raw.toString('utf8');
    if (text.trim() === '') return;
    try {
      batch.push({ entity, index: index++, value: JSON.parse(text), byteOffset: at, raw });
    } catch (err) {
      batch.push({ entity, index: index++, value: null, byteOffset: at, invalid: { reason: `line at byte ${at} is not valid JSON: ${(err as Error).message}`, raw: text.slice(0, 10_000) } });
    }
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let buf = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
      let nl: number;
      while ((nl = buf.indexOf(0x0a)) !== -1) {
        handle(buf.subarray(0, nl), offset);
        offset += nl + 1;
        buf = buf.subarray(nl + 1);
      }
      rest = Buffer.from(buf);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  } catch (err) {
    throw new InputError(`the export file ${path} cannot be read past byte ${offset + rest.length} after ${index} records: ${(err as Error).message}`, {
      cause: err, path, byteOffset: offset + rest.length, hint: 'The file may be truncated (an incomplete .gz); re-download the export.',
    });
  }
  if (rest.length > 0 && rest.toString('utf8').trim() !== '') {
    const text = rest.toString('utf8');
    try {
      const value: unknown = JSON.parse(text);
      batch.push({ entity, index: index++, value, byteOffset: offset, raw: rest });
    } catch (err) {
      if (batch.length > 0) yield batch;
      throw new InputError(
        `the export file ${path} ends in the middle of a record at byte ${offset} after ${index} complete records (last read: ${JSON.stringify(text.slice(0, 80))}…): ${(err as Error).message}`,
        { cause: err, path, byteOffset: offset, hint: 'The file is truncated; re-download the export.' },
      );
    }
  }
  if (batch.length > 0) yield batch;
}
