import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../core/errors.ts';
import { commentSpans } from './raw-envelope.ts';
import type { CommentSpans, ExportRecord } from './records.ts';

const QUOTE = 0x22, BACKSLASH = 0x5c, LBRACE = 0x7b, RBRACE = 0x7d, LBRACKET = 0x5b, RBRACKET = 0x5d, COMMA = 0x2c, COLON = 0x3a;
const SPACE = 0x20, NL = 0x0a, CR = 0x0d, TAB = 0x09;
const COMMENTS_KEY = Buffer.from('"comments"');

/**
 * Reads a Zendesk JSON-layout export — one object whose keys hold arrays of records — by scanning
 * bytes for the boundaries of each array element (brackets, strings, escapes) and handing each
 * element to the native JSON.parse. A token-level JS parser (stream-json) runs at ~3 MB/s; this
 * runs at the speed of JSON.parse. Each record keeps its source bytes (`raw`), so the extractor
 * can produce them as they are instead of serializing the parsed value again. Memory: the read
 * chunks the current element spans, plus one batch. An element that is not valid JSON on its own
 * is an invalid record (rejected, the run goes on); a broken structure or a file that ends early
 * is an InputError naming the byte offset and the number of complete records before it.
 */
export async function* scanJsonExport(path: string, entities: Set<string>, opts: { batchSize?: number } = {}): AsyncGenerator<ExportRecord[]> {
  const batchSize = opts.batchSize ?? 500;
  let input: Readable = createReadStream(path, { highWaterMark: 1024 * 1024 });
  if (path.endsWith('.gz')) input = input.pipe(createGunzip());
  const scanner = new ExportScanner(path, entities);
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      scanner.feed(chunk);
      while (scanner.out.length >= batchSize) yield scanner.out.splice(0, batchSize);
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`the export file ${path} cannot be read near byte ${scanner.scanned} after ${scanner.records} complete records: ${(err as Error).message}`, {
      cause: err, path, byteOffset: scanner.scanned, hint: 'The file may be truncated (an incomplete .gz); re-download the export.',
    });
  }
  while (scanner.out.length > 0) yield scanner.out.splice(0, batchSize);
  scanner.end();
}

/**
 * The byte scanner behind scanJsonExport, fed one chunk at a time. The loop is a plain method
 * (not inside the generator) over locals, so V8 optimizes it; chunks an unfinished element
 * started in are kept as a list and joined once, when the element ends.
 */
class ExportScanner {
  readonly out: ExportRecord[] = [];
  records = 0;
  /** Absolute offset of the first byte not scanned yet. */
  scanned = 0;
  private stack: Uint8Array = new Uint8Array(64); // open containers: LBRACE / LBRACKET
  private depth = 0;
  private inString = false;
  private escaped = false;
  private expectKey = false; // at depth 1: the next string is a key
  private key: string | null = null;
  private keyStart = -1; // absolute offset of the key's opening quote
  private elemStart = -1; // absolute offset of the current element's first byte
  private scalarElem = false;
  private done = false;
  private readonly indexes = new Map<string, number>();
  /** Earlier chunks still needed (by the unfinished element or key), with the offset of the first. */
  private held: Buffer[] = [];
  private heldBase = 0;
  // An element's own `comments` member (tickets embed their comments), found while scanning so
  // the extractor can cut the ticket's bytes without a second pass: key offset, state, items.
  private key3 = -1; // absolute offset of a depth-3 key's opening quote
  private expect3 = false;
  private cm = 0; // 0: none pending; 1: read the key, value next; 2: in its array; 3: in it, not cuttable
  private cKey = -1;
  private cItem = -1;
  private cItems: [number, number][] = [];
  private cFound: { memberStart: number; valueEnd: number; items: [number, number][] } | null | undefined;

  constructor(private readonly path: string, private readonly entities: Set<string>) {}

  private fail(at: number, what: string): never {
    throw new InputError(`the export file ${this.path} is not valid JSON near byte ${at} after ${this.records} complete records: ${what}`, {
      path: this.path, byteOffset: at, hint: 'The file may be truncated or damaged; re-download the export.',
    });
  }

  /** Bytes [start, end) (absolute); the current chunk starts at `base`. */
  private bytes(chunk: Buffer, base: number, start: number, end: number): Buffer {
    if (start >= base) return chunk.subarray(start - base, end - base);
    const parts = [...this.held, chunk.subarray(0, end - base)];
    return Buffer.concat(parts).subarray(start - this.heldBase);
  }

  private emit(chunk: Buffer, base: number, start: number, end: number, found = this.cFound): void {
    const entity = this.key ?? '';
    const index = this.indexes.get(entity) ?? 0;
    this.indexes.set(entity, index + 1);
    if (!this.entities.has(entity)) return;
    const raw = this.bytes(chunk, base, start, end);
    const text = raw.toString('utf8');
    this.records++;
    try {
      const value: unknown = JSON.parse(text);
      const spans: CommentSpans | null | undefined = found ? commentSpans(raw, found.memberStart - start, found.valueEnd - start, found.items.map(([a, b]) => [a - start, b - start])) : found;
      this.out.push({ entity, index, value, byteOffset: start, raw, comments: { spans } });
    } catch (err) {
      this.out.push({ entity, index, value: null, byteOffset: start, invalid: { reason: `record at byte ${start} is not valid JSON: ${(err as Error).message}`, raw: text.slice(0, 10_000) } });
    }
  }

  feed(chunk: Buffer): void {
    const base = this.scanned;
    const n = chunk.length;
    let stack = this.stack;
    // Hot state in locals; rare events go through small methods (V8 keeps this loop optimized
    // only while it touches no field it has no type feedback for).
    let depth = this.depth, inString = this.inString, escaped = this.escaped, scalarElem = this.scalarElem;
    let elemStart = this.elemStart, expectKey = this.expectKey, done = this.done, keyStart = this.keyStart;
    let key3 = this.key3, expect3 = this.expect3, cm = this.cm, cItem = this.cItem;
    for (let i = 0; i < n; i++) {
      const b = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) {
          inString = false;
          if (keyStart >= 0) {
            this.onKey(chunk, base, keyStart, base + i);
            keyStart = -1;
          } else if (key3 >= 0) {
            if (base + i + 1 - key3 === COMMENTS_KEY.length) cm = this.onKey3(chunk, base, key3, base + i + 1, cm);
            key3 = -1;
          } else if (scalarElem && depth === 2) {
            this.emit(chunk, base, elemStart, base + i + 1);
            elemStart = -1;
            scalarElem = false;
          }
        }
        continue;
      }
      if (b === SPACE || b === NL || b === CR || b === TAB) continue;
      if (done) this.fail(base + i, 'unexpected data after the end of the document');
      // An element of a top-level array starts here.
      if (depth === 2 && elemStart < 0 && stack[1] === LBRACKET && b !== COMMA && b !== RBRACKET) {
        elemStart = base + i;
        scalarElem = b !== LBRACE && b !== LBRACKET;
        this.cFound = undefined;
        cm = 0;
        key3 = -1;
        if (b === QUOTE) { inString = true; continue; }
        if (scalarElem) continue;
      }
      if (scalarElem) {
        if (depth === 2 && (b === COMMA || b === RBRACKET)) {
          this.emit(chunk, base, elemStart, base + i);
          elemStart = -1;
          scalarElem = false;
        } else continue;
      }
      if (cm !== 0) {
        if (cm === 1 && depth === 3 && b !== COLON) {
          // The comments member's value: cuttable when an array (of objects, below).
          cm = b === LBRACKET ? this.commentsOpen() : this.commentsDone(-1, false);
        } else if (cm === 2 && depth === 4 && cItem < 0 && b !== COMMA && b !== RBRACKET) {
          if (b === LBRACE) cItem = base + i;
          else cm = 3;
        }
      }
      switch (b) {
        case QUOTE:
          inString = true;
          if (depth === 1 && expectKey) keyStart = base + i;
          else if (depth === 3 && expect3) key3 = base + i;
          break;
        case LBRACE:
        case LBRACKET:
          if (depth === 0 && b !== LBRACE) this.fail(base + i, 'the export must be a JSON object whose keys hold arrays of records');
          if (depth === stack.length) stack = this.grow();
          stack[depth++] = b;
          if (depth === 1) expectKey = true;
          else if (depth === 3) expect3 = b === LBRACE;
          break;
        case RBRACE:
        case RBRACKET: {
          const open = depth > 0 ? stack[--depth] : 0;
          if (open !== (b === RBRACE ? LBRACE : LBRACKET)) this.fail(base + i, `unbalanced ${String.fromCharCode(b)}`);
          if (cm >= 2) {
            if (depth === 4 && cItem >= 0) {
              this.commentItem(cItem, base + i + 1);
              cItem = -1;
            } else if (depth === 3) cm = this.commentsDone(base + i + 1, cm === 2);
          }
          if (depth === 2 && elemStart >= 0 && stack[1] === LBRACKET) {
            this.emit(chunk, base, elemStart, base + i + 1);
            elemStart = -1;
          } else if (depth === 0) done = true;
          break;
        }
        case COLON:
          if (depth === 1) expectKey = false;
          else if (depth === 3) expect3 = false;
          break;
        case COMMA:
          if (depth === 1) expectKey = true;
          else if (depth === 3) expect3 = stack[2] === LBRACE;
          break;
        default:
          if (depth === 0) this.fail(base + i, 'the export must be a JSON object whose keys hold arrays of records');
      }
    }
    this.depth = depth; this.inString = inString; this.escaped = escaped; this.scalarElem = scalarElem;
    this.elemStart = elemStart; this.expectKey = expectKey; this.done = done; this.keyStart = keyStart;
    this.key3 = key3; this.expect3 = expect3; this.cm = cm; this.cItem = cItem;
    this.scanned = base + n;
    this.hold(chunk, base, elemStart >= 0 ? elemStart : keyStart);
  }

  /** Keeps the chunks an unfinished element (or key) still needs. */
  private hold(chunk: Buffer, base: number, keepFrom: number): void {
    if (keepFrom < 0) this.held = [];
    else {
      if (keepFrom >= base) this.held = [];
      if (this.held.length === 0) this.heldBase = base;
      this.held.push(chunk);
    }
  }

  private grow(): Uint8Array {
    const bigger = new Uint8Array(this.stack.length * 2);
    bigger.set(this.stack);
    return (this.stack = bigger);
  }

  private onKey(chunk: Buffer, base: number, start: number, end: number): void {
    this.key = this.bytes(chunk, base, start + 1, end).toString('utf8');
  }

  /** A key of a top-level element's own member, as long as `"comments"`: the new comments state. */
  private onKey3(chunk: Buffer, base: number, start: number, end: number, cm: number): number {
    if (!this.bytes(chunk, base, start, end).equals(COMMENTS_KEY)) return cm;
    if (this.cFound !== undefined || cm !== 0) {
      this.cFound = null; // the key twice: the bytes cannot be cut
      return 0;
    }
    this.cKey = start;
    return 1;
  }

  private commentsOpen(): number {
    this.cItems = [];
    return 2;
  }

  private commentItem(start: number, end: number): void {
    this.cItems.push([start, end]);
  }

  private commentsDone(end: number, cuttable: boolean): number {
    this.cFound = cuttable ? { memberStart: this.cKey, valueEnd: end, items: this.cItems } : null;
    return 0;
  }

  /** At the end of the input: a document that is not complete is an error. */
  end(): void {
    if (this.done) return;
    const at = this.elemStart >= 0 ? this.elemStart : this.scanned;
    this.fail(at, this.depth === 0 ? 'the file is empty' : 'the file ends in the middle of the document (truncated)');
  }
}
