import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import streamJson from 'stream-json';
import AssemblerModule from 'stream-json/Assembler.js';
import { InputError } from '../src/errors.ts';

const { parser } = streamJson;
const Assembler = AssemblerModule;

/** A top-level record of a Zendesk JSON export: which array it came from, and its index. */
export interface ExportRecord {
  entity: string;
  index: number;
  value: unknown;
  /** NDJSON: where the record's line starts (in the decompressed text). */
  byteOffset?: number;
  /** A record that could not be read (an NDJSON line that is not JSON): rejected, the run goes on. */
  invalid?: { reason: string; raw: string };
}

export const EXPORT_ENTITIES = new Set(['organizations', 'users', 'groups', 'ticket_fields', 'tickets']);

interface Token { name: string; value?: unknown }

/**
 * Streams the records of a Zendesk-style JSON export — one object whose keys (`organizations`,
 * `users`, `tickets`, …) hold arrays — in constant memory, as batches of at most `batchSize`.
 * Backpressure: the parser's sink holds its write callback until the consumer took the batch,
 * so at most one batch plus one parser chunk is in memory. A `.gz` path is gunzipped on the fly.
 * Syntax errors become an InputError naming the byte offset and how many records came before.
 */
export async function* readZendeskExport(path: string, opts: { batchSize?: number } = {}): AsyncGenerator<ExportRecord[]> {
  const batchSize = opts.batchSize ?? 500;
  try {
    await stat(path);
  } catch (err) {
    throw new InputError(`cannot open the export file ${path} (${(err as NodeJS.ErrnoException).code})`, {
      cause: err, path, hint: 'Check source.path (DESKPORT_SOURCE_PATH).',
    });
  }

  let bytesRead = 0;
  let recordsRead = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytesRead += chunk.length;
      cb(null, chunk);
    },
  });

  // Hand-off between the stream sink and this generator: one batch at a time.
  let ready: ExportRecord[] | null = null;
  let release: (() => void) | null = null;
  let wake: (() => void) | null = null;
  let finished = false;
  let failure: unknown = null;

  let pending: ExportRecord[] = [];
  const walker = new TokenWalker((entity, index, value) => {
    pending.push({ entity, index, value });
    recordsRead++;
  });
  const sink = new Writable({
    objectMode: true,
    highWaterMark: 1024,
    write(token: Token, _enc, cb) {
      try {
        walker.push(token);
      } catch (err) {
        cb(err as Error);
        return;
      }
      if (pending.length < batchSize) return cb();
      ready = pending;
      pending = [];
      release = () => cb();
      wake?.();
    },
    final(cb) {
      if (pending.length > 0) {
        ready = pending;
        pending = [];
        release = () => cb();
        wake?.();
      } else cb();
    },
  });

  const stages: NodeJS.ReadWriteStream[] = [counter];
  if (path.endsWith('.gz')) stages.push(createGunzip());
  const done = pipeline(createReadStream(path, { highWaterMark: 256 * 1024 }), ...(stages as [Transform]), parser({ streamValues: false }), sink)
    .then(() => { finished = true; }, (err) => { failure = err; })
    .finally(() => wake?.());

  try {
    while (true) {
      if (ready === null && !finished && failure === null) {
        await new Promise<void>((resolve) => { wake = resolve; });
        wake = null;
      }
      if (ready !== null) {
        const batch: ExportRecord[] = ready;
        const next = release as (() => void) | null;
        ready = null;
        release = null;
        yield batch;
        next?.();
        continue;
      }
      if (failure !== null) {
        const err = failure as Error;
        throw new InputError(
          `the export file ${path} is not valid JSON near byte ${bytesRead} after ${recordsRead} complete records: ${err.message}`,
          { cause: err, path, byteOffset: bytesRead, hint: 'The file may be truncated; re-download the export.' },
        );
      }
      if (finished) break;
    }
    if (!walker.complete) {
      throw new InputError(`the export file ${path} ends in the middle of a JSON document after ${recordsRead} complete records`, {
        path, byteOffset: bytesRead, hint: 'The file may be truncated; re-download the export.',
      });
    }
  } finally {
    await done;
  }
}

/**
 * Walks parser tokens: inside the top-level object, each element of each array is assembled
 * into a value and handed out with its key. Elements of unknown keys are skipped.
 */
class TokenWalker {
  private depth = 0;
  private key: string | null = null;
  private index = 0;
  private asm: InstanceType<typeof Assembler> | null = null;
  private asmDepth = 0;
  complete = false;

  constructor(private readonly emit: (entity: string, index: number, value: unknown) => void) {}

  push(token: Token): void {
    if (this.asm) return this.feed(token);
    switch (token.name) {
      case 'startObject':
        if (this.depth === 0) this.depth = 1;
        else if (this.depth === 2) this.startElement(token);
        else throw new Error('unexpected nested object');
        return;
      case 'endObject':
        if (this.depth !== 1) throw new Error('unbalanced object');
        this.depth = 0;
        this.complete = true;
        return;
      case 'keyValue':
        if (this.depth === 1) this.key = String(token.value);
        return;
      case 'startArray':
        if (this.depth === 1) {
          this.depth = 2;
          this.index = 0;
        } else if (this.depth === 2) this.startElement(token);
        else throw new Error('the export must be a JSON object whose keys hold arrays of records');
        return;
      case 'endArray':
        if (this.depth === 2) this.depth = 1;
        return;
      default:
        if (this.depth === 0) throw new Error('the export must be a JSON object whose keys hold arrays of records');
        // A scalar value at depth 1 (e.g. "count": 3) is metadata; at depth 2 it is a malformed record.
        if (this.depth === 2) this.deliver(token.value);
    }
  }

  private startElement(token: Token): void {
    this.asm = new Assembler();
    this.asmDepth = 0;
    this.feed(token);
  }

  private feed(token: Token): void {
    const asm = this.asm!;
    asm.consume(token as Parameters<typeof asm.consume>[0]);
    if (token.name === 'startObject' || token.name === 'startArray') this.asmDepth++;
    else if (token.name === 'endObject' || token.name === 'endArray') this.asmDepth--;
    if (this.asmDepth === 0) {
      this.asm = null;
      this.deliver(asm.current);
    }
  }

  private deliver(value: unknown): void {
    const index = this.index++;
    if (this.key !== null && EXPORT_ENTITIES.has(this.key)) this.emit(this.key, index, value);
  }
}
