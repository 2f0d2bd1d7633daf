/**
 * The Zendesk API extractor's Help Center path: categories, sections and articles from the
 * fixture server reach staging (with their article attachments fetched), then load into the
 * sandbox with the attachment's bytes intact and the article-to-article links rewritten.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { runExtract } from '../../extract/index.ts';
import { Loader } from '../../load/loader.ts';
import { TargetDirectory } from '../../load/target-directory.ts';
import type { Config } from '../../core/config.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { createRun, runCounts, unrewrittenKbLinks } from '../../staging/index.ts';
import { attachmentSha256 } from '../fixtures/zendesk-server/dataset.ts';
import { startZendeskServer, type ZendeskServer } from '../fixtures/zendesk-server/index.ts';
import { startSandbox } from '../sandbox/index.ts';
import { entities } from '../sandbox-readback.ts';
import { pipelineDeps, tempDir, testConfig } from '../helpers.ts';
import { stageAll, sorted } from '../extract/helpers.ts';

const EMAIL = 'admin@acme.example';
const TOKEN = 'fixture-api-token';
const KEY = 'kb-api-key';

describe('Help Center through the Zendesk API extractor', () => {
  const dir = tempDir();
  let server: ZendeskServer;
  let deps: Awaited<ReturnType<typeof pipelineDeps>>;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let config: Config;
  let runId: number;
  before(async () => {
    server = await startZendeskServer({ seed: 5, tickets: 10, maxAttachmentBytes: 20_000, bigTicketComments: 3, email: EMAIL, apiToken: TOKEN });
    deps = await pipelineDeps();
    sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000 });
    config = testConfig({
      source: { kind: 'zendesk-api', url: server.url, email: EMAIL, apiToken: TOKEN, pageSize: 100, blobDir: `${dir.path}/blobs`, retryBaseMs: 20 },
      target: { url: sandbox.url, apiKey: KEY },
    });
    runId = await createRun(deps.db, 'run', config.source.name);
    await runExtract(deps, config, runId);
    await stageAll(deps, config);
  });
  after(async () => {
    await sandbox.close();
    await deps.drop();
    await server.close();
    dir.remove();
  });

  test('categories, sections and articles are staged; article attachments fetched', async () => {
    const x = server.dataset.expected;
    const cats = await deps.db('kb_categories').select('source_id', 'kind', 'parent_source_id').orderBy('source_id');
    assert.deepEqual(sorted(cats.map((c) => c.source_id)), sorted([...x.kbCategories.map((id) => `category:${id}`), ...x.kbSections.map((id) => `section:${id}`)]));
    for (const s of server.dataset.kb.sections) {
      assert.equal(cats.find((c) => c.source_id === `section:${s.id}`)!.parent_source_id, `category:${s.category_id}`);
    }
    const arts = await deps.db('kb_articles').select('source_id', 'data').orderBy('source_id');
    assert.deepEqual(arts.map((a) => a.source_id), sorted(x.kbArticles));
    const fr = arts.find((a) => a.data.locale === 'fr')!;
    assert.equal(fr.data.title, 'Réinitialiser le mot de passe');
    assert.deepEqual(arts.find((a) => a.source_id === x.kbArticles[0])!.data.tags, ['howto', 'popular']);
    assert.equal(arts.filter((a) => a.data.draft).length, 1);
    const att = await deps.db('attachments').where({ kind: 'article' }).select();
    assert.equal(att.length, 1);
    assert.equal(att[0].fetch_state, 'fetched');
  });

  test('they load into Help Docs with the attachment byte-identical and links rewritten', async () => {
    const client = connectTarget(deps, config);
    try {
      const summary = await new Loader({ ...deps, client, directory: await TargetDirectory.read(client) }, config).run({ runId, finalPass: true });
      assert.equal(summary.kb_articles.loaded, 6);
      assert.equal(summary.kb_categories.loaded, 5);
    } finally {
      await client.close();
    }
    const src = [...server.dataset.kb.articleAttachments.values()].flat()[0]!;
    const row = await deps.db('attachments').where({ kind: 'article' }).first();
    const res = await request(`${sandbox.url}/_sandbox/files/${row.target_file_id}/content`);
    const back = Buffer.from(await res.body.arrayBuffer());
    assert.equal(createHash('sha256').update(back).digest('hex'), attachmentSha256(Number(src.id), Number(src.size)));
    const arts = await entities<{ contents: string; oldURL: string }>(sandbox.url, 'helpdocarticles');
    assert.equal(arts.length, 6);
    for (const a of arts) assert.ok(!a.contents.includes('/hc/en-us/articles/'), `a source link is left in ${a.oldURL}`);
    assert.deepEqual(await unrewrittenKbLinks(deps.db, runId), []);
    const counts = await runCounts(deps.db, runId);
    assert.deepEqual(counts.filter((c) => c.entity.startsWith('kb_')).map((c) => [c.entity, c.extracted, c.loaded, c.missing]), [['kb_categories', 5, 5, 0], ['kb_articles', 6, 6, 0]]);
  });
});
