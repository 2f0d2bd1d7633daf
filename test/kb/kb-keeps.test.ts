/**
 * Issue 16.3 (R8), into the sandbox: article labels reach the target article (description by
 * default, a footer line, or nowhere); every uploaded article attachment is linked from its
 * article at the download address the upload answered; links to Help Center sections and
 * categories are rewritten to the new Help Docs categories, and what cannot be stays listed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { kbLabelsMode, type Config } from '../../core/config.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { Loader } from '../../load/loader.ts';
import { TargetDirectory } from '../../load/target-directory.ts';
import { downloadUrlOf } from '../../load/v2-api.ts';
import { BlobStore } from '../../staging/blob-store.ts';
import { kbChecklistFacts, upsertAttachments } from '../../staging/index.ts';
import { generateZendeskData } from '../fixtures/zendesk-data.ts';
import { startSandbox } from '../sandbox/index.ts';
import { tempDir } from '../helpers.ts';
import { agentsOf, KEY, stagedDataset } from '../load/fixture.ts';

const data = generateZendeskData({ seed: 11, tickets: 4, kb: true });
const kb = { categories: data.kb_categories!, sections: data.kb_sections!, articles: data.kb_articles! };
const guide = kb.articles[0]!.attachments[0]!;
const shot = kb.articles[2]!.attachments[0]!;
const base = new URL(kb.articles[0]!.html_url).origin;
const GONE_SECTION = 360002999999;
// Article 0 also links its attachment in the text; article 4 links sections and categories in every form.
kb.articles[0]!.body += `<p>Or open <a href="${guide.content_url}">the guide</a> directly.</p>`;
kb.articles[4]!.body += `<p>More in <a href="${kb.sections[2]!.html_url}">Payments</a>, <a href="/hc/fr/categories/${kb.categories[1]!.id}-facturation">Facturation</a>,`
  + ` <a href="${base}/api/v2/help_center/en-us/sections/${kb.sections[3]!.id}.json">Power users</a> and <a href="${base}/hc/en-us/sections/${GONE_SECTION}-old">an old section</a>.</p>`;

interface Article { id: number; title: string; contents: string; description: string; oldURL: string }

describe('issue 16.3: the knowledge base keeps its labels, attachments and section links', () => {
  const dir = tempDir();
  let staged: Awaited<ReturnType<typeof stagedDataset>>;
  let config: Config;

  async function loadInto(sandbox: Awaited<ReturnType<typeof startSandbox>>, mapping: Partial<Config['mapping']> = {}) {
    const cfg: Config = { ...config, mapping: { ...config.mapping, ...mapping }, target: { ...config.target, url: sandbox.url, apiKey: KEY } };
    const client = connectTarget(staged.deps, cfg);
    try {
      return await new Loader({ ...staged.deps, client, directory: await TargetDirectory.read(client) }, cfg).run({ runId: staged.runId, finalPass: true });
    } finally {
      await client.close();
    }
  }
  const articleOf = (sandbox: Awaited<ReturnType<typeof startSandbox>>, i: number) =>
    sandbox.store.list('helpdocarticles').find((a) => a.oldURL === kb.articles[i]!.html_url) as unknown as Article;
  /** What the storage answered as the stored object's address: `<Location>` of its PostResponse. */
  const locationOf = (sandbox: Awaited<ReturnType<typeof startSandbox>>, fileName: string) => {
    const f = sandbox.store.raw.list('files').find((x) => x.fileName === fileName)!;
    return `${sandbox.url}/_s3/tw-desk/${encodeURIComponent(f._sandbox.uploadKey)}`;
  };

  before(async () => {
    staged = await stagedDataset(data);
    config = { ...staged.config, source: { ...staged.config.source, blobDir: join(dir.path, 'blobs') } };
    const store = new BlobStore(config.source.blobDir!);
    const rows = [];
    for (const a of [guide, shot]) {
      const blob = await store.put(Readable.from([randomBytes(a.size)]));
      rows.push({
        source: 'zendesk', sourceId: `article:${a.id}`, kind: 'article' as const, ticketSourceId: null, commentSourceId: null,
        articleSourceId: String(a.article_id), sourceUrl: a.content_url, fileName: a.file_name, contentType: a.content_type,
        size: blob.size, sha256: blob.sha256, blobPath: blob.blobPath, inline: a.inline, fetchState: 'fetched' as const, reason: null,
        attempts: 1, runId: staged.runId,
      });
    }
    await upsertAttachments(staged.deps.db, rows);
  });
  after(async () => {
    await staged.close();
    dir.remove();
  });

  test('issue 16.3: labels, attachments at their returned download address, section and category links (defaults)', async () => {
    const sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, seed: { agents: agentsOf(data) } });
    try {
      const summary = await loadInto(sandbox);
      assert.equal(summary.kb_articles.loaded, kb.articles.length);
      // (a) Labels in the description by default.
      for (const [i, a] of kb.articles.entries()) assert.equal(articleOf(sandbox, i).description, `Labels: ${a.label_names.join(', ')}`);
      // (b) Every uploaded file linked from its article, at the address the upload answered.
      const { db } = staged.deps;
      const att = new Map((await db('attachments').where({ kind: 'article' }).select('file_name', 'target_url')).map((r) => [r.file_name, r.target_url]));
      assert.equal(att.get(guide.file_name), locationOf(sandbox, guide.file_name));
      assert.equal(att.get(shot.file_name), locationOf(sandbox, shot.file_name));
      const a0 = articleOf(sandbox, 0).contents;
      assert.ok(a0.includes(`Or open <a href="${att.get(guide.file_name)}">the guide</a>`), 'the link in the text points at the file');
      assert.ok(a0.includes(`<p><strong>Attachments</strong></p><ul><li><a href="${att.get(guide.file_name)}">${guide.file_name}</a></li></ul>`), a0);
      const a2 = articleOf(sandbox, 2).contents;
      assert.ok(a2.includes(`<img src="${att.get(shot.file_name)}"`), 'the inline image shows the file');
      assert.ok(!a2.includes('<strong>Attachments</strong>'), 'an inline image the body shows is not listed again');
      // (c) Section and category links → the new Help Docs categories.
      const catUrl = async (id: string) => (await db('kb_categories').where({ source_id: id }).first('target_url')).target_url as string;
      const site = sandbox.store.list('helpdocssites')[0]!;
      const payments = sandbox.store.list('helpdocscategories').find((c) => c.name === kb.sections[2]!.name)!;
      assert.equal(await catUrl(`section:${kb.sections[2]!.id}`), `https://${site.subdomain}.teamwork.com/${payments.slug}`);
      const a4 = articleOf(sandbox, 4).contents;
      assert.ok(a4.includes(`<a href="${await catUrl(`section:${kb.sections[2]!.id}`)}">Payments</a>`), a4);
      assert.ok(a4.includes(`<a href="${await catUrl(`category:${kb.categories[1]!.id}`)}">Facturation</a>`), a4);
      assert.ok(a4.includes(`<a href="${await catUrl(`section:${kb.sections[3]!.id}`)}">Power users</a>`), 'the API URL of a section');
      const gone = `${base}/hc/en-us/sections/${GONE_SECTION}-old`;
      assert.ok(a4.includes(`<a href="${gone}">`), 'a section the source does not have stays as it was');
      const facts = await kbChecklistFacts(db, staged.runId);
      const left = facts.unrewrittenLinks.find((l) => l.href === gone)!;
      assert.deepEqual([left.kind, left.reason], ['section', `section ${GONE_SECTION} is not in the source data`]);
      assert.equal(facts.articleAttachmentsLinked, 2);
    } finally {
      await sandbox.close();
    }
  });

  test('issue 16.3: kb.labels footer and none; the old target.kbLabelsInDescription flag still works as an alias', async () => {
    assert.equal(kbLabelsMode({ mapping: config.mapping, target: { ...config.target, kbLabelsInDescription: false } }), 'none');
    assert.equal(kbLabelsMode({ mapping: config.mapping, target: { ...config.target, kbLabelsInDescription: true } }), 'description');
    assert.equal(kbLabelsMode({ mapping: { ...config.mapping, kbLabels: 'footer' }, target: { ...config.target, kbLabelsInDescription: true } }), 'footer');
    for (const mode of ['footer', 'none'] as const) {
      const { db } = staged.deps;
      // The same knowledge base again, into a fresh site.
      await db('kb_categories').update({ load_state: 'pending', load_attempts: 0, target_url: null });
      await db('kb_articles').update({ load_state: 'pending', load_attempts: 0, target_url: null, target_contents: null });
      await db('id_map').whereIn('entity', ['kb_categories', 'kb_articles']).delete();
      await db('attachments').where({ kind: 'article' }).update({ target_file_id: null, target_url: null });
      const sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, seed: { agents: agentsOf(data) } });
      try {
        await loadInto(sandbox, { kbLabels: mode });
        for (const [i, a] of kb.articles.entries()) {
          const t = articleOf(sandbox, i);
          assert.equal(t.description, '', `${mode}: nothing in the description`);
          const footer = `<p><em>Labels: ${a.label_names.join(', ')}</em></p>`;
          assert.equal(t.contents.endsWith(footer), mode === 'footer', `${mode}: article ${i} ends ${t.contents.slice(-80)}`);
        }
      } finally {
        await sandbox.close();
      }
    }
  });

  test('issue 16.3: the download address is read from the answers, never made up when one is given', () => {
    const upload = 'https://s3.dualstack.us-east-1.amazonaws.com/tw-desk/';
    const key = 'desk/abc/setup guide.pdf';
    assert.equal(downloadUrlOf({ file: { id: 1, url: 'https://acme.teamwork.com/desk/files/1/download' } }, '', upload, key), 'https://acme.teamwork.com/desk/files/1/download');
    // Teamwork's documented sample answers a relative Location.
    assert.equal(downloadUrlOf({ file: { id: 1 } }, '<PostResponse><Location>/tw-desk/desk/abc/setup%20guide.pdf</Location></PostResponse>', upload, key),
      'https://s3.dualstack.us-east-1.amazonaws.com/tw-desk/desk/abc/setup%20guide.pdf');
    assert.equal(downloadUrlOf({ file: { id: 1 } }, '<PostResponse><Location>https://tw-desk.s3.amazonaws.com/desk%2Fabc%2Fx.pdf</Location></PostResponse>', upload, key),
      'https://tw-desk.s3.amazonaws.com/desk%2Fabc%2Fx.pdf');
    assert.equal(downloadUrlOf(null, '', upload, key), 'https://s3.dualstack.us-east-1.amazonaws.com/tw-desk/desk/abc/setup%20guide.pdf');
  });
});
