import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readNdjsonFile } from '../../extract/ndjson-export.ts';
import { envelopeMessages } from '../../extract/raw-envelope.ts';
import type { ExportRecord, RawMessage } from '../../extract/records.ts';
import { readZendeskExport } from '../../extract/zendesk-export.ts';
import { tempDir } from '../helpers.ts';

const dir = tempDir();
after(() => dir.remove());
const ctx = { runId: 7, source: 'zendesk', extractedAt: '2024-01-01T00:00:00.000Z', origin: 'file:x' };

/** The envelopes the extractor produced before it reused source bytes: serialized from the parsed record. */
function expected(rec: ExportRecord): unknown[] {
  const base = { runId: 7, source: 'zendesk', extractedAt: ctx.extractedAt };
  const v = rec.value as Record<string, unknown>;
  if (rec.entity !== 'tickets') return [{ ...base, entity: rec.entity, cursor: `${rec.entity}#${rec.index}`, record: v }];
  const { comments, ...ticket } = v;
  const list = Array.isArray(comments) ? comments : [];
  return [
    { ...base, entity: 'tickets', cursor: `tickets#${rec.index}`, record: ticket, meta: { commentCount: list.length } },
    ...list.map((c, position) => ({ ...base, entity: 'comments', cursor: `tickets#${rec.index}.comments#${position}`, record: c, meta: { ticketId: ticket.id, position } })),
  ];
}

async function records(name: string, tickets: (string | Buffer)[]): Promise<ExportRecord[]> {
  const out: ExportRecord[] = [];
  // The JSON layout (comments found by the scanner) and NDJSON (found by a pass over the line).
  const json = join(dir.path, `${name}.json`);
  writeFileSync(json, Buffer.concat([Buffer.from('{"tickets": [\n'), ...tickets.flatMap((t, i) => [i ? Buffer.from(',\n') : Buffer.alloc(0), Buffer.from(t)]), Buffer.from('\n]}')]));
  for await (const b of readZendeskExport(json)) out.push(...b);
  const nd = join(dir.path, `${name}.ndjson`);
  writeFileSync(nd, Buffer.concat(tickets.filter((t) => !t.includes('\n')).flatMap((t) => [Buffer.from(t), Buffer.from('\n')])));
  for await (const b of readNdjsonFile(nd, 'tickets')) out.push(...b);
  assert.deepEqual(out.filter((r) => r.invalid), []);
  return out;
}

async function check(name: string, tickets: (string | Buffer)[], compare = true): Promise<RawMessage[]> {
  const all: RawMessage[] = [];
  for (const rec of await records(name, tickets)) {
    const out: RawMessage[] = [];
    envelopeMessages(rec, ctx, out);
    if (compare) assert.deepEqual(out.map((m) => JSON.parse(m.value.toString('utf8'))), expected(rec), name);
    all.push(...out);
  }
  return all;
}

describe('raw envelopes (source bytes reused)', () => {
  test('a ticket is cut from its comments wherever the member is, and keys follow the ticket', async () => {
    const msgs = await check('placement', [
      '{"id": 1, "status": "open", "comments": [{"id": 10, "public": true, "comments": [1]}, {"id": 11, "body": "a \\"comments\\": [x]"}]}',
      '{"comments" : [ {"id": 12} ] , "id": 2, "tags": ["comments"]}',
      '{"id": 3, "comments": []}',
      '{"id": 4}',
      '{\n  "id": 5,\n  "comments": [\n    {"id": 13}\n  ]\n}',
    ]);
    const first = msgs.filter((m) => m.entity === 'comments' || m.sourceId === '1').slice(0, 3);
    assert.deepEqual(first.map((m) => [m.entity, m.key, m.sourceId, m.parentSourceId]), [
      ['tickets', '1', '1', null], ['comments', '1', '10', '1'], ['comments', '1', '11', '1'],
    ]);
    assert.equal(JSON.parse(msgs[0]!.value.toString()).record.comments, undefined);
  });

  test('bytes that cannot be cut are serialized from the parsed record instead', async () => {
    await check('fallback', [
      '{"id": 1, "comments": null}',
      '{"id": 2, "comments": [1, "x"]}',
      '{"id": 3, "comments": [{"id": 1}], "comments": [{"id": 2}, {"id": 3}]}',
      Buffer.concat([Buffer.from('{"id": 4, "subject": "caf'), Buffer.from([0xc3]), Buffer.from('", "comments": [{"id": 5}]}')]),
    ]);
  });

  test('NUL and lone surrogates escaped in the source are repaired and counted', async () => {
    const msgs = await check('repair', ['{"id": 1, "comments": [{"id": 2, "body": "a\\u0000b \\ud800 \\\\u0000 \\u00e9"}]}'], false);
    const comment = msgs.find((m) => m.entity === 'comments')!;
    assert.equal(comment.repaired, 2);
    assert.equal(JSON.parse(comment.value.toString()).record.body, 'ab \ufffd \\u0000 é');
  });

  test('a surrogate pair written as two escapes (an emoji in an ASCII-only export) is kept; halves alone are repaired', async () => {
    const msgs = await check('pairs', ['{"id": 1, "comments": [{"id": 2, "body": "\\ud83d\\ude00 \\uD83D\\uDE00 x\\ude00 \\ud83d"}]}'], false);
    const comment = msgs.find((m) => m.entity === 'comments')!;
    assert.equal(comment.repaired, 2);
    assert.equal(JSON.parse(comment.value.toString()).record.body, '😀 😀 x\ufffd \ufffd');
  });
});
