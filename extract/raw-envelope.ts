import { isUtf8 } from 'node:buffer';
import type { RawEntity, RawEnvelope } from '../core/bus.ts';
import { sanitizeJson, sanitizeJsonBytes } from '../core/sanitize-json.ts';
import type { CommentSpans, ExportRecord, RawMessage } from './records.ts';

const QUOTE = 0x22, BACKSLASH = 0x5c, LBRACE = 0x7b, RBRACE = 0x7d, LBRACKET = 0x5b, RBRACKET = 0x5d, COMMA = 0x2c, COLON = 0x3a;
const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
const COMMENTS = Buffer.from('"comments"');

export interface EnvelopeContext { runId: number; source: string; extractedAt: string; origin: string }

/**
 * The messages of one export record: one per record, a ticket's embedded comments becoming
 * comment records of their own (with the ticket id and their position; the ticket says how many
 * it had). The envelope is written around the record's source bytes — the record is not
 * serialized again (JSON.stringify of every record cost as much as parsing it). Records whose
 * bytes cannot be reused as they are (not UTF-8, comments not where the parsed value has them)
 * are serialized from the parsed value, as before.
 */
export function envelopeMessages(rec: ExportRecord, ctx: EnvelopeContext, out: RawMessage[]): void {
  const entity = rec.entity as RawEntity;
  const value = rec.value as Record<string, unknown> | null;
  const cursor = `${entity}#${rec.index}`;
  const at = rec.byteOffset ?? rec.index;
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  const raw = rec.raw && isUtf8(rec.raw) ? rec.raw : undefined;
  if (entity !== 'tickets' || !isObject) {
    const id = isObject ? idString(value.id) : null;
    const head = envelopeHead(ctx, entity, cursor);
    const m = raw ? fromPieces(head, [raw], '}') : fromValue(head, rec.value, '}');
    out.push({ entity, key: id ?? cursor, ...m, sourceId: id, parentSourceId: null, origin: ctx.origin, position: String(at), runId: ctx.runId });
    return;
  }
  const ticketId = idString(value.id);
  const list = Array.isArray(value.comments) ? value.comments : [];
  const found = raw ? (rec.comments ? rec.comments.spans : findComments(raw)) : undefined;
  // The bytes agree with the parsed value: the comments member found once, with as many elements.
  const usable = raw && (found === undefined ? !('comments' in value) : found !== null && found.items.length === list.length);
  const key = ticketId ?? cursor;
  const ticketTail = `,"meta":{"commentCount":${list.length}}}`;
  const head = envelopeHead(ctx, entity, cursor);
  let m: { value: Buffer; repaired: number };
  if (usable) m = fromPieces(head, found ? [raw.subarray(0, found.cutStart), raw.subarray(found.cutEnd)] : [raw], ticketTail);
  else {
    const { comments: _omit, ...ticket } = value;
    m = fromValue(head, ticket, ticketTail);
  }
  out.push({ entity, key, ...m, sourceId: ticketId, parentSourceId: null, origin: ctx.origin, position: String(at), runId: ctx.runId });
  const ticketIdJson = JSON.stringify(value.id ?? null);
  for (let position = 0; position < list.length; position++) {
    const item = usable && found ? found.items[position]! : undefined;
    const chead = envelopeHead(ctx, 'comments', `${cursor}.comments#${position}`);
    const tail = `,"meta":{"ticketId":${ticketIdJson},"position":${position}}}`;
    const cm = item ? fromPieces(chead, [raw!.subarray(item[0], item[1])], tail) : fromValue(chead, list[position], tail);
    const commentId = idString((list[position] as { id?: unknown } | null)?.id);
    // A comment's position: its own byte offset, or one inside its ticket's bytes (no other record starts there).
    out.push({ entity: 'comments', key, ...cm, sourceId: commentId, parentSourceId: ticketId, origin: ctx.origin, position: String(at + (item ? item[0] : position + 1)), runId: ctx.runId });
  }
}

function idString(id: unknown): string | null {
  return typeof id === 'number' || typeof id === 'string' ? String(id) : null;
}

/** `{"runId":…,"record":` — the envelope's fields before the record, in RawEnvelope's order. */
function envelopeHead(ctx: EnvelopeContext, entity: string, cursor: string): string {
  return `{"runId":${ctx.runId},"source":${JSON.stringify(ctx.source)},"entity":"${entity}","extractedAt":"${ctx.extractedAt}","cursor":${JSON.stringify(cursor)},"record":`;
}

/** Head + the record's source bytes + tail. Escapes Postgres cannot store are repaired (sanitize.ts). */
function fromPieces(head: string, pieces: Buffer[], tail: string): { value: Buffer; repaired: number } {
  let repaired = 0;
  const parts: Buffer[] = [Buffer.from(head)];
  for (const p of pieces) {
    const { bytes, fixed } = sanitizeJsonBytes(p);
    repaired += fixed;
    parts.push(bytes);
  }
  parts.push(Buffer.from(tail));
  return { value: Buffer.concat(parts), repaired };
}

function fromValue(head: string, record: unknown, tail: string): { value: Buffer; repaired: number } {
  const { json, fixed } = sanitizeJson(JSON.stringify(record === undefined ? null : record));
  return { value: Buffer.from(head + json + tail), repaired: fixed };
}

/** A whole envelope serialized (the API extractor's records, which arrive parsed). */
export function messageOfEnvelope(env: RawEnvelope): { value: Buffer; repaired: number } {
  const { json, fixed } = sanitizeJson(JSON.stringify(env));
  return { value: Buffer.from(json), repaired: fixed };
}

/**
 * Where a ticket object's top-level `comments` member is in its bytes: the range to cut out
 * (with one of its neighbouring commas) and each element's range. undefined: no such member;
 * null: one the bytes cannot be cut at (not an array, an element that is not an object, or
 * the key twice).
 */
export function findComments(raw: Buffer): CommentSpans | null | undefined {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let expectKey = false;
  let keyStart = -1;
  let isComments = false; // the member being read is `comments`
  let memberStart = -1; // where its key starts
  let result: { memberStart: number; valueEnd: number; items: [number, number][] } | null | undefined;
  let items: [number, number][] | null = null;
  let itemStart = -1;
  const n = raw.length;
  for (let i = 0; i < n; i++) {
    const b = raw[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (b === BACKSLASH) escaped = true;
      else if (b === QUOTE) {
        inString = false;
        if (keyStart >= 0) {
          isComments = i + 1 - keyStart === COMMENTS.length && raw.compare(COMMENTS, 0, COMMENTS.length, keyStart, i + 1) === 0;
          if (isComments && result !== undefined) return null; // the key twice
          if (isComments) memberStart = keyStart;
        }
      }
      continue;
    }
    if (isSpace(b)) continue;
    if (depth === 1 && isComments && keyStart < 0 && items === null && b !== COLON) {
      // The first byte of the comments value.
      if (b !== LBRACKET) return null;
      items = [];
    }
    if (depth === 2 && items !== null && itemStart < 0 && b !== COMMA && b !== RBRACKET) {
      if (b !== LBRACE) return null;
      itemStart = i;
    }
    switch (b) {
      case QUOTE:
        inString = true;
        keyStart = depth === 1 && expectKey ? i : -1;
        break;
      case LBRACE:
      case LBRACKET:
        depth++;
        if (depth === 1) expectKey = true;
        break;
      case RBRACE:
      case RBRACKET:
        depth--;
        if (depth === 2 && itemStart >= 0) {
          items!.push([itemStart, i + 1]);
          itemStart = -1;
        } else if (depth === 1 && items !== null) {
          result = { memberStart, valueEnd: i + 1, items };
          items = null;
          isComments = false;
        }
        break;
      case COLON:
        if (depth === 1) { expectKey = false; keyStart = -1; }
        break;
      case COMMA:
        if (depth === 1) { expectKey = true; isComments = false; }
        break;
    }
  }
  return result ? commentSpans(raw, result.memberStart, result.valueEnd, result.items) : result;
}


/** The range to cut: the member with the comma after it, or (the last member) the comma before it. */
export function commentSpans(raw: Buffer, memberStart: number, valueEnd: number, items: [number, number][]): CommentSpans {
  let j = valueEnd;
  while (j < raw.length && isSpace(raw[j]!)) j++;
  if (raw[j] === COMMA) return { cutStart: memberStart, cutEnd: j + 1, items };
  let k = memberStart - 1;
  while (k > 0 && isSpace(raw[k]!)) k--;
  return { cutStart: raw[k] === COMMA ? k : memberStart, cutEnd: valueEnd, items };
}
