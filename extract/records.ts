// The types extract's readers, scanner, envelope builder and sink pass each other; kept apart so
// those modules import each other one way only.
import type { RawEntity } from '../core/bus.ts';

/** A top-level record of a Zendesk JSON export: which array it came from, and its index. */
export interface ExportRecord {
  entity: string;
  index: number;
  value: unknown;
  /** NDJSON: where the record's line starts (in the decompressed text). */
  byteOffset?: number;
  /** The record's bytes as they are in the source (the extractor produces them without re-serializing). */
  raw?: Buffer;
  /** JSON layout: where a ticket's embedded comments are in `raw`, found by the scanner (raw-envelope.ts). */
  comments?: { spans: CommentSpans | null | undefined };
  /** A record that could not be read (an NDJSON line that is not JSON): rejected, the run goes on. */
  invalid?: { reason: string; raw: string };
}

/** A ticket's comments member in its bytes: the range to cut out of the ticket, and each comment's range. */
export interface CommentSpans { cutStart: number; cutEnd: number; items: [number, number][] }

/** One raw-topic message, ready to produce, and what names its record in a reject. */
export interface RawMessage {
  entity: RawEntity;
  key: string;
  value: Buffer;
  /** Escapes Postgres cannot store that were repaired while it was built (sanitize.ts). */
  repaired: number;
  runId: number;
  sourceId: string | null;
  parentSourceId: string | null;
  /** Where the record came from, for its reject row: a `file:<path>` or `api:<topic>`, and a numeric position in it. */
  origin: string;
  position: string;
}
