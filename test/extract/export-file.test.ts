import assert from 'node:assert/strict';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, test } from 'node:test';
import { createGzip, gzipSync } from 'node:zlib';
import { runExtract } from '../../extract/index.ts';
import { createRun } from '../../staging/index.ts';
import { generateZendeskData, ndjsonChunks } from '../fixtures/zendesk-data.ts';
import { pipelineDeps, tempDir, testConfig } from '../helpers.ts';
import { ids, sorted, stageAll } from './helpers.ts';

const data = generateZendeskData({ seed: 5, tickets: 25 });
const dir = tempDir();
after(() => dir.remove());

async function writeNdjson(out: string, gzip: boolean): Promise<void> {
  mkdirSync(out, { recursive: true });
  for (const name of ['organizations', 'users', 'groups', 'ticket_fields', 'tickets'] as const) {
    const file = join(out, `${name}.json${gzip ? '.gz' : ''}`);
    const stages = gzip ? [createGzip()] : [];
    await pipeline(Readable.from(ndjsonChunks(data[name])), ...(stages as [ReturnType<typeof createGzip>]), createWriteStream(file));
  }
}

async function extract(path: string) {
  const deps = await pipelineDeps();
  const cfg = testConfig({ source: { path } });
  const runId = await createRun(deps.db, 'extract', cfg.source.name);
  return { deps, cfg, runId, run: () => runExtract(deps, cfg, runId) };
}

describe('export-file extractor', () => {
  for (const gzip of [false, true]) {
    test(`NDJSON export directory${gzip ? ' (gzip)' : ''} lands every record in staging`, async () => {
      const out = join(dir.path, `nd-${gzip}`);
      await writeNdjson(out, gzip);
      const x = await extract(out);
      try {
        const result = await x.run();
        assert.equal(result.byEntity.tickets, data.tickets.length);
        assert.equal(result.byEntity.comments, data.tickets.reduce((n, t) => n + t.comments.length, 0));
        if (!gzip) return; // staging is checked once, on the gzip variant
        await stageAll(x.deps, x.cfg);
        assert.deepEqual(await ids(x.deps.db, 'tickets'), sorted(data.tickets.map((t) => String(t.id))));
        assert.deepEqual(await ids(x.deps.db, 'comments'), sorted(data.tickets.flatMap((t) => t.comments.map((c) => String(c.id)))));
        assert.deepEqual(await ids(x.deps.db, 'people'), sorted(data.users.map((u) => String(u.id))));
      } finally {
        await x.deps.drop();
      }
    });
  }

  test('the JSON layout gzipped is read too', async () => {
    const file = join(dir.path, 'export.json.gz');
    writeFileSync(file, gzipSync(readFileSync('data/sample/zendesk-export.json')));
    const x = await extract(file);
    try {
      const result = await x.run();
      assert.equal(result.byEntity.tickets, 300);
      assert.equal(result.byEntity.comments, 1137);
    } finally {
      await x.deps.drop();
    }
  });

  test('an invalid NDJSON line is rejected with its reason and the run goes on', async () => {
    const out = join(dir.path, 'nd-bad');
    await writeNdjson(out, false);
    const lines = readFileSync(join(out, 'tickets.json'), 'utf8').split('\n');
    lines.splice(3, 0, '{"id": 99999, "subject": "cut');
    writeFileSync(join(out, 'tickets.json'), lines.join('\n'));
    const x = await extract(out);
    try {
      const result = await x.run();
      assert.equal(result.byEntity.tickets, data.tickets.length);
      assert.equal(result.rejected, 1);
      const rejects = await x.deps.db('rejects').select('entity', 'reason', 'payload');
      assert.equal(rejects.length, 1);
      assert.equal(rejects[0].entity, 'tickets');
      assert.match(rejects[0].reason, /line at byte \d+ is not valid JSON/);
      assert.match(rejects[0].payload.raw, /"cut$/);
    } finally {
      await x.deps.drop();
    }
  });

  test('a truncated NDJSON file stops with the byte offset and what was read before it', async () => {
    const out = join(dir.path, 'nd-trunc');
    await writeNdjson(out, false);
    const text = readFileSync(join(out, 'tickets.json'), 'utf8');
    const cut = Buffer.from(text).subarray(0, Math.floor(Buffer.byteLength(text) * 0.6));
    writeFileSync(join(out, 'tickets.json'), cut);
    const complete = cut.toString('utf8').split('\n').length - 1;
    const x = await extract(out);
    try {
      await assert.rejects(x.run(), (err: Error & { byteOffset?: number; code?: string }) => {
        assert.equal(err.code, 'DESKPORT_INPUT');
        assert.match(err.message, new RegExp(`ends in the middle of a record at byte ${err.byteOffset} after ${complete} complete records`));
        return true;
      });
      // What came before the cut was acknowledged and checkpointed, not lost.
      const extracted = await x.deps.db('run_entities').where({ run_id: x.runId, entity: 'tickets' }).first('extracted');
      assert.equal(extracted.extracted, complete);
    } finally {
      await x.deps.drop();
    }
  });

  test('a truncated gzip file stops with a clear error', async () => {
    const out = join(dir.path, 'nd-gz-trunc');
    await writeNdjson(out, true);
    const buf = readFileSync(join(out, 'tickets.json.gz'));
    writeFileSync(join(out, 'tickets.json.gz'), buf.subarray(0, Math.floor(buf.length / 2)));
    const x = await extract(out);
    try {
      await assert.rejects(x.run(), /cannot be read past byte \d+ after \d+ records: unexpected end of file/);
    } finally {
      await x.deps.drop();
    }
  });
});
