import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runVerify } from '../../load/verify.ts';
import { runPipeline } from '../../cli/pipeline.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { verifyResults } from '../../staging/index.ts';
import { generateZendeskData } from '../fixtures/zendesk-data.ts';
import { pipelineDeps, tempDir, testConfig } from '../helpers.ts';
import { startSandbox } from '../sandbox/index.ts';
import { fieldSeed } from '../../cli/demo.ts';

const KEY = 'verify-test-key';

describe('deskport verify: read back from the target and compare with staging', () => {
  let deps: Awaited<ReturnType<typeof pipelineDeps>>;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  const dir = tempDir();
  let runId: number;
  const data = generateZendeskData({ seed: 21, tickets: 14 });
  const config = () => testConfig({ workDir: dir.path, source: { path: join(dir.path, 'export.json') }, target: { url: sandbox.url, apiKey: KEY } });
  const verify = async (opts: { sample?: number } = {}) => {
    const client = connectTarget(deps, config());
    try {
      return await runVerify({ ...deps, client }, config(), { runId, ...opts });
    } finally {
      await client.close();
    }
  };
  const targetOf = async (sourceId: string) => Number((await deps.db('id_map').where({ entity: 'tickets', source_id: sourceId }).first()).target_id);
  const loadedTickets = async () => (await deps.db('tickets').where({ load_state: 'loaded' }).select('source_id', 'expected_comments')
    .orderByRaw('length(source_id), source_id')) as { source_id: string; expected_comments: number }[];

  before(async () => {
    writeFileSync(join(dir.path, 'export.json'), JSON.stringify(data));
    deps = await pipelineDeps();
    sandbox = await startSandbox({
      port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000,
      seed: {
        agents: data.users.filter((u) => u.role !== 'end-user' && u.active && u.email).map((u) => ({ firstName: u.name, lastName: '', email: u.email! })),
        // The source's custom fields exist in the target, as an operator would have created them (R10).
        customfields: fieldSeed(data.ticket_fields),
      },
    });
    runId = (await runPipeline(deps, config(), { kind: 'run' })).runId;
  });
  after(async () => {
    await sandbox?.close();
    await deps?.drop();
    dir.remove();
  });

  test('a clean run reads back with no difference', async () => {
    const v = await verify();
    const loaded = await loadedTickets();
    assert.ok(loaded.length >= 10);
    assert.equal(v.status, 'done');
    assert.equal(v.checked, loaded.length);
    assert.deepEqual(await verifyResults(deps.db, v.id), [], 'no problems');
    assert.equal(v.ok, loaded.length);
    assert.deepEqual(Object.keys(v.unchecked), [], 'custom fields were compared too');
    assert.ok(v.calls >= 2 * loaded.length, `read back through the API (${v.calls} calls)`);
  });

  test('custom-field values land in the target\'s fields: drop-downs as the option of the same label', async () => {
    const store = sandbox.store.raw;
    const tagger = data.ticket_fields.find((f) => f.type === 'tagger')!;
    const targetField = store.list('customfields').find((f) => f.agentLabel === tagger.title)!;
    let checked = 0;
    for (const t of data.tickets) {
      const value = t.custom_fields.find((f) => f.id === tagger.id)?.value;
      if (typeof value !== 'string') continue;
      const label = tagger.custom_field_options!.find((o) => o.value === value)!.name;
      const target = store.get('tickets', await targetOf(String(t.id)))!;
      const set = target.customfields.find((f) => f.id === targetField.id)?.meta.value;
      assert.equal(store.get('customfieldoptions', set as number)?.name, label, `ticket ${t.id}: ${tagger.title}`);
      checked++;
    }
    assert.ok(checked >= 5, `${checked} tickets checked`);
  });

  test('--sample N reads back N tickets', async () => {
    const v = await verify({ sample: 3 });
    assert.equal(v.checked, 3);
    assert.equal(v.sample, 3);
    assert.equal(v.different, 0);
  });

  test('detects a changed subject, a missing comment and an altered attachment byte — and nothing else', async () => {
    const loaded = (await loadedTickets()).filter((t) => t.expected_comments >= 2);
    const [a, b, c] = loaded;
    assert.ok(a && b && c);
    const store = sandbox.store.raw;

    // An attachment on C's first message, with its checksum in staging (as attachment migration will record it).
    const bytes = Buffer.from('%PDF-1.4 deskport verify test bytes\n'.repeat(50));
    const cTarget = await targetOf(c.source_id);
    const cFirstComment = (await deps.db('comments').where({ ticket_source_id: c.source_id }).orderBy('position').first()).source_id;
    const firstMessage = store.list('messages').filter((m) => m.ticket.id === cTarget).sort((x, y) => x.id - y.id)[0]!;
    const file = store.insert('files', {
      fileName: 'invoice.pdf', mimeType: 'application/pdf', size: bytes.length, disposition: 'attachment', createdAt: firstMessage.createdAt,
      _sandbox: { uploadKey: '', uploaded: true, sha256: createHash('sha256').update(bytes).digest('hex'), sourceUrl: 'test' },
    } as never, null);
    store.blobs.set(file.id, Buffer.from(bytes));
    store.update('messages', firstMessage.id, { files: [{ id: file.id, type: 'files' }] }, null);
    store.update('tickets', cTarget, { files: [{ id: file.id, type: 'files' }] }, null);
    await deps.db('attachments').insert({
      source: 'zendesk', source_id: 'att-verify-1', kind: 'comment', ticket_source_id: c.source_id, comment_source_id: cFirstComment,
      source_url: 'https://example.invalid/invoice.pdf', file_name: 'invoice.pdf', fetch_state: 'fetched',
      size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    const withFile = await verify();
    assert.equal(withFile.different, 0, JSON.stringify(await verifyResults(deps.db, withFile.id)));
    assert.equal(withFile.unchecked.attachments, undefined, 'attachments were compared');

    // Now corrupt the target: A's subject, one of B's comments, one byte of C's file.
    store.update('tickets', await targetOf(a.source_id), { subject: 'tampered subject' }, null);
    const bTarget = await targetOf(b.source_id);
    const lost = store.list('messages').filter((m) => m.ticket.id === bTarget).sort((x, y) => x.id - y.id)[1]!;
    store.softDelete('messages', lost.id, null);
    store.blobs.get(file.id)![100] ^= 0x01;

    const v = await verify();
    const problems = await verifyResults(deps.db, v.id);
    assert.equal(v.different, 3);
    assert.deepEqual(problems.map((p) => p.sourceId).sort(), [a.source_id, b.source_id, c.source_id].sort());
    const of = (id: string) => problems.find((p) => p.sourceId === id)!;
    assert.deepEqual(of(a.source_id).diffs, [{ field: 'subject', expected: data.tickets.find((t) => String(t.id) === a.source_id)!.subject || '(no subject)', actual: 'tampered subject' }]);
    assert.equal(of(b.source_id).diffs[0]!.field, 'comments.count');
    assert.deepEqual([of(b.source_id).diffs[0]!.expected, of(b.source_id).diffs[0]!.actual], [b.expected_comments, b.expected_comments - 1]);
    assert.match(of(b.source_id).diffs[1]!.field, /^comments\[1\]\./, 'the first divergence is the lost comment');
    const cDiffs = of(c.source_id).diffs;
    assert.equal(cDiffs.length, 1);
    assert.match(cDiffs[0]!.field, /^comments\[0\]\.attachments\[invoice\.pdf\]\.sha256/);
    assert.equal(cDiffs[0]!.expected, createHash('sha256').update(bytes).digest('hex'));
  });
});
