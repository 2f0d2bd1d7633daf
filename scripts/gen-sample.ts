/**
 * Writes generated Zendesk data as a Zendesk-style JSON export.
 *
 *   npx tsx scripts/gen-sample.ts --tickets 300 --seed 42 --out data/sample/zendesk-export.json
 *     [--layout json|ndjson] [--gzip] [--base-url https://acme.zendesk.com] [--now 2026-01-01T00:00:00Z]
 *     [--no-help-center]  (the sample has a small Help Center: kb_categories, kb_sections, kb_articles)
 *
 * json:   one document {"organizations":[...],...,"tickets":[...]} with one record per line.
 * ndjson: --out is a directory holding organizations.json, users.json, groups.json,
 *         ticket_fields.json and tickets.json, one object per line (tickets embed comments).
 * Output is streamed with backpressure, so large exports never sit in memory.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import {
  DEFAULT_BASE_URL, DEFAULT_NOW, ENTITY_NAMES, createZendeskGenerator, jsonExportChunks, ndjsonChunks,
} from '../test/fixtures/zendesk-data.ts';
import type { EntityName, ZdTicketWithComments, ZendeskSource } from '../test/fixtures/zendesk-data.ts';
import { KB_ENTITY_NAMES } from '../test/fixtures/zendesk-kb.ts';

export interface GenSampleOptions {
  tickets: number;
  seed: number;
  out: string;
  layout: 'json' | 'ndjson';
  gzip: boolean;
  baseUrl: string;
  now: Date;
  /** Add the small Help Center (test/fixtures/zendesk-kb.ts); the CLI does unless --no-help-center. */
  kb?: boolean;
}

export type ExportCounts = Record<EntityName | 'comments' | 'attachments', number> & Partial<Record<(typeof KB_ENTITY_NAMES)[number], number>>;

/** Parses argv; collects every problem before failing. */
export function parseGenSampleArgs(argv: string[]): GenSampleOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      tickets: { type: 'string', default: '300' },
      seed: { type: 'string', default: '42' },
      out: { type: 'string', default: 'data/sample/zendesk-export.json' },
      layout: { type: 'string', default: 'json' },
      gzip: { type: 'boolean', default: false },
      'base-url': { type: 'string', default: DEFAULT_BASE_URL },
      now: { type: 'string', default: DEFAULT_NOW.toISOString() },
      'no-help-center': { type: 'boolean', default: false },
    },
  });
  const problems: string[] = [];
  const int = (name: string, raw: string, min: number): number => {
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min) problems.push(`--${name} must be an integer >= ${min}, got "${raw}"`);
    return n;
  };
  const tickets = int('tickets', values.tickets, 0);
  const seed = int('seed', values.seed, -(2 ** 31));
  if (values.layout !== 'json' && values.layout !== 'ndjson') problems.push(`--layout must be json or ndjson, got "${values.layout}"`);
  const now = new Date(values.now);
  if (Number.isNaN(now.getTime())) problems.push(`--now must be an ISO date, got "${values.now}"`);
  try {
    new URL(values['base-url']);
  } catch {
    problems.push(`--base-url must be a URL, got "${values['base-url']}"`);
  }
  if (problems.length > 0) throw new Error(`invalid arguments:\n  ${problems.join('\n  ')}`);
  return {
    tickets, seed, now,
    out: values.out,
    layout: values.layout as 'json' | 'ndjson',
    gzip: values.gzip,
    baseUrl: values['base-url'],
    kb: !values['no-help-center'],
  };
}

export async function genSample(opts: GenSampleOptions): Promise<{ counts: ExportCounts; files: string[] }> {
  const source = createZendeskGenerator({ seed: opts.seed, tickets: opts.tickets, baseUrl: opts.baseUrl, now: opts.now, kb: opts.kb ?? false });
  const counts = emptyCounts();
  const counted: ZendeskSource = { ...source, tickets: countTickets(source.tickets, counts) };
  const gz = opts.gzip ? '.gz' : '';
  const files: string[] = [];
  if (opts.layout === 'json') {
    const file = opts.gzip && !opts.out.endsWith('.gz') ? `${opts.out}.gz` : opts.out;
    await mkdir(dirname(file), { recursive: true });
    await writeChunks(file, jsonExportChunks(counted), opts.gzip);
    files.push(file);
  } else {
    await mkdir(opts.out, { recursive: true });
    for (const name of ENTITY_NAMES) {
      const file = join(opts.out, `${name}.json${gz}`);
      await writeChunks(file, ndjsonChunks(counted[name]), opts.gzip);
      files.push(file);
    }
    for (const name of source.kb_articles ? KB_ENTITY_NAMES : []) {
      const file = join(opts.out, `${name}.json${gz}`);
      await writeChunks(file, ndjsonChunks(source[name] ?? []), opts.gzip);
      files.push(file);
    }
  }
  for (const name of ENTITY_NAMES) if (name !== 'tickets') counts[name] = source[name].length;
  for (const name of source.kb_articles ? KB_ENTITY_NAMES : []) counts[name] = source[name]?.length ?? 0;
  return { counts, files };
}

function emptyCounts(): ExportCounts {
  return { organizations: 0, users: 0, groups: 0, ticket_fields: 0, tickets: 0, comments: 0, attachments: 0 };
}

/** Re-iterable wrapper that counts tickets, comments and attachments as they stream past. */
function countTickets(tickets: Iterable<ZdTicketWithComments>, counts: ExportCounts): Iterable<ZdTicketWithComments> {
  return {
    *[Symbol.iterator]() {
      for (const t of tickets) {
        counts.tickets += 1;
        counts.comments += t.comments.length;
        for (const c of t.comments) counts.attachments += c.attachments.length;
        yield t;
      }
    },
  };
}

/** Readable.from pulls the next chunk only when the sink drains: memory ≈ one ~64 KiB chunk. */
async function writeChunks(file: string, chunks: Iterable<string>, gzip: boolean): Promise<void> {
  const source = Readable.from(chunks, { objectMode: false });
  if (gzip) await pipeline(source, createGzip(), createWriteStream(file));
  else await pipeline(source, createWriteStream(file));
}

async function main(): Promise<void> {
  const opts = parseGenSampleArgs(process.argv.slice(2));
  const started = Date.now();
  const { counts, files } = await genSample(opts);
  console.log(`wrote ${files.join(', ')} (${opts.layout}${opts.gzip ? ', gzip' : ''}, seed ${opts.seed}) in ${Date.now() - started} ms`);
  for (const [name, n] of Object.entries(counts)) console.log(`  ${name.padEnd(14)} ${n}`);
}

// Run only when executed, not when imported (tests import genSample).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
