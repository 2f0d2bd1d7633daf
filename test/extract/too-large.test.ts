import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runExtract } from '../../extract/index.ts';
import { MAX_RECORD_BYTES } from '../../extract/sink.ts';
import { createRun } from '../../staging/index.ts';
import { generateZendeskData } from '../fixtures/zendesk-data.ts';
import { pipelineDeps, tempDir, testConfig } from '../helpers.ts';
import { ids, sorted, stageAll } from './helpers.ts';

const dir = tempDir();
after(() => dir.remove());

test('a record larger than a raw topic takes is rejected with its id and the run goes on', async () => {
  const data = generateZendeskData({ seed: 9, tickets: 4 });
  const [t0, t1] = data.tickets.filter((t) => t.comments.length >= 2);
  assert.ok(t0 && t1);
  // One comment over the 16 MiB limit, one large but under it (several MiB go through as one message).
  const huge = t0.comments[1]!;
  huge.html_body = `<p>${'x'.repeat(MAX_RECORD_BYTES)}</p>`;
  const big = t1.comments[0]!;
  big.html_body = `<p>${'y'.repeat(6 * 1024 * 1024)}</p>`;
  const path = join(dir.path, 'export.json');
  writeFileSync(path, JSON.stringify(data));

  const deps = await pipelineDeps();
  try {
    const cfg = testConfig({ source: { path } });
    const runId = await createRun(deps.db, 'extract', cfg.source.name);
    const result = await runExtract(deps, cfg, runId);
    const comments = data.tickets.flatMap((t) => t.comments);
    assert.equal(result.rejected, 1);
    assert.equal(result.byEntity.tickets, data.tickets.length);
    assert.equal(result.byEntity.comments, comments.length - 1);
    const rejects = await deps.db('rejects').select('run_id', 'entity', 'source_id', 'parent_source_id', 'reason', 'topic');
    assert.deepEqual(rejects.map((r) => [Number(r.run_id), r.entity, r.source_id, r.parent_source_id, r.topic]), [[runId, 'comments', String(huge.id), String(t0.id), `file:${path}`]]);
    assert.match(rejects[0].reason, /^record is \d+ bytes, larger than the \d+ bytes a raw topic message can hold/);
    const extracted = await deps.db('run_entities').where({ run_id: runId, entity: 'comments' }).first('extracted');
    assert.equal(extracted.extracted, comments.length - 1);

    // Everything else reaches staging, the large comment included, whole.
    await stageAll(deps, cfg);
    assert.deepEqual(await ids(deps.db, 'comments'), sorted(comments.filter((c) => c !== huge).map((c) => String(c.id))));
    assert.deepEqual(await ids(deps.db, 'tickets'), sorted(data.tickets.map((t) => String(t.id))));
    const staged = await deps.db('comments').where({ source_id: String(big.id) }).first('raw');
    assert.equal(staged.raw.record.html_body.length, big.html_body.length);
  } finally {
    await deps.drop();
  }
});
