/**
 * Knowledge base end to end (R8): a generated export with a Help Center goes through Kafka and
 * staging into the sandbox; categories, sections and articles land with their nesting, titles,
 * attachments (bytes read back) and rewritten links; a re-run and in-doubt rows create nothing twice.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { BlobStore } from '../../staging/blob-store.ts';
import { Loader, type LoadSummary } from '../../load/loader.ts';
import { TargetDirectory } from '../../load/target-directory.ts';
import type { Config } from '../../core/config.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { kbChecklistFacts, runCounts, unrewrittenKbLinks, upsertAttachments } from '../../staging/index.ts';
import { generateZendeskData } from '../fixtures/zendesk-data.ts';
import { MISSING_ARTICLE_ID } from '../fixtures/zendesk-kb.ts';
import { startSandbox } from '../sandbox/index.ts';
import { entities } from '../sandbox-readback.ts';
import { tempDir } from '../helpers.ts';
import { agentsOf, KEY, stagedDataset } from '../load/fixture.ts';

interface Category { id: number; name: string; parent_id: number | null; helpDocsSites_id: number; oldURL: string }
interface Article { id: number; title: string; contents: string; status: string; categories: number[]; oldURL: string; slug: string }
interface FileRec { id: number; fileName: string; size: number; state: string }

const data = generateZendeskData({ seed: 11, tickets: 4, kb: true });
const kb = { categories: data.kb_categories!, sections: data.kb_sections!, articles: data.kb_articles! };

async function load(staged: Awaited<ReturnType<typeof stagedDataset>>, config: Config, url: string, target: Partial<Config['target']> = {}): Promise<LoadSummary> {
  const cfg: Config = { ...config, target: { ...config.target, url, apiKey: KEY, ...target } };
  const client = connectTarget(staged.deps, cfg);
  try {
    return await new Loader({ ...staged.deps, client, directory: await TargetDirectory.read(client) }, cfg).run({ runId: staged.runId, finalPass: true });
  } finally {
    await client.close();
  }
}

async function fileBytes(base: string, id: number): Promise<Buffer> {
  const res = await request(`${base}/_sandbox/files/${id}/content`);
  assert.equal(res.statusCode, 200);
  return Buffer.from(await res.body.arrayBuffer());
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('knowledge base: export → staging → Help Docs', () => {
  const dir = tempDir();
  let staged: Awaited<ReturnType<typeof stagedDataset>>;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let config: Config;
  const bytes = { guide: randomBytes(48_213), shot: randomBytes(20_480) };

  before(async () => {
    staged = await stagedDataset(data);
    config = { ...staged.config, source: { ...staged.config.source, blobDir: join(dir.path, 'blobs') } };
    // The export carries only attachment addresses; the API extractor would have fetched these.
    const store = new BlobStore(config.source.blobDir!);
    const rows = [];
    for (const [i, key] of [[0, 'guide'], [2, 'shot']] as const) {
      const a = kb.articles[i]!.attachments[0]!;
      const blob = await store.put(Readable.from([bytes[key]]));
      rows.push({
        source: 'zendesk', sourceId: `article:${a.id}`, kind: 'article' as const, ticketSourceId: null, commentSourceId: null,
        articleSourceId: String(a.article_id), sourceUrl: a.content_url, fileName: a.file_name, contentType: a.content_type,
        size: blob.size, sha256: blob.sha256, blobPath: blob.blobPath, inline: a.inline, fetchState: 'fetched' as const, reason: null,
        attempts: 1, runId: staged.runId,
      });
    }
    // One whose bytes went missing from the blob store: named in the body and the report.
    rows.push({ ...rows[0]!, sourceId: 'article:360004000099', articleSourceId: String(kb.articles[9]!.id), fileName: 'broken.bin',
      sourceUrl: 'https://acme.zendesk.com/hc/article_attachments/360004000099/broken.bin', blobPath: `00/00/${'0'.repeat(64)}`, inline: false });
    await upsertAttachments(staged.deps.db, rows);
    sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, seed: { agents: agentsOf(data) } });
  });
  after(async () => {
    await sandbox.close();
    await staged.close();
    dir.remove();
  });

  test('categories nest, articles land with titles, files and rewritten links', async () => {
    const summary = await load(staged, config, sandbox.url);
    assert.equal(summary.kb_categories.loaded, kb.categories.length + kb.sections.length);
    assert.equal(summary.kb_articles.loaded, kb.articles.length);
    assert.equal(summary.kb_articles.failed, 0);

    const cats = await entities<Category>(sandbox.url, 'helpdocscategories');
    assert.equal(cats.length, kb.categories.length + kb.sections.length);
    const byUrl = new Map(cats.map((c) => [c.oldURL, c]));
    for (const c of kb.categories) assert.equal(byUrl.get(c.html_url)?.parent_id ?? null, null, `${c.name} is top level`);
    for (const s of kb.sections) {
      const t = byUrl.get(s.html_url)!;
      assert.equal(t.name, s.name);
      const parentUrl = s.parent_section_id ? kb.sections.find((x) => x.id === s.parent_section_id)!.html_url : kb.categories.find((x) => x.id === s.category_id)!.html_url;
      assert.equal(t.parent_id, byUrl.get(parentUrl)!.id, `${s.name} nests under its parent`);
    }

    const arts = await entities<Article>(sandbox.url, 'helpdocarticles');
    assert.equal(arts.length, kb.articles.length);
    const art = new Map(arts.map((a) => [a.oldURL, a]));
    const target = (i: number) => art.get(kb.articles[i]!.html_url)!;
    const urlOf = async (i: number) => (await staged.deps.db('kb_articles').where({ source_id: String(kb.articles[i]!.id) }).first('target_url')).target_url as string;
    for (const [i, a] of kb.articles.entries()) {
      const t = target(i);
      assert.equal(t.title, a.title);
      assert.equal(t.status, a.draft ? 'Draft' : 'Published');
      assert.deepEqual(t.categories, [byUrl.get(kb.sections.find((s) => s.id === a.section_id)!.html_url)!.id]);
      // Every link to an article of this Help Center now points at the new address.
      for (const other of kb.articles) assert.ok(!t.contents.includes(`/articles/${other.id}`), `article ${i} still links to ${other.id}`);
    }
    assert.ok(target(0).contents.includes(`href="${await urlOf(1)}"`));
    assert.ok(target(0).contents.includes(`href="${await urlOf(2)}"`), 'a relative /hc/en-us/articles/<id> link');
    assert.ok(target(1).contents.includes(`href="${await urlOf(5)}"`), 'a /hc/articles/<id> link');
    assert.ok(target(2).contents.includes(`href="${await urlOf(4)}#navigation"`), 'the fragment is kept');
    assert.ok(target(3).contents.includes(`href="${await urlOf(8)}"`), 'the API URL of an article');
    assert.ok(target(6).contents.includes(`href="${await urlOf(7)}"`), 'a link in another locale');

    // Ticket links → the new Teamwork Desk ticket.
    const ticketTarget = async (id: number) => (await staged.deps.db('id_map').where({ entity: 'tickets', source_id: String(id) }).first('target_id')).target_id as string;
    const t0 = data.tickets[0]!.id;
    assert.ok(target(1).contents.includes(`href="${sandbox.url}/desk/tickets/${await ticketTarget(t0)}"`), '/agent/tickets/<id>');
    assert.ok(target(5).contents.includes(`href="${sandbox.url}/desk/tickets/${await ticketTarget(data.tickets[1]!.id)}"`), '/hc/requests/<id>');

    // An unknown article link is recorded, not rewritten; another host's link is left alone.
    const missingHref = `https://acme.zendesk.com/hc/en-us/articles/${MISSING_ARTICLE_ID}-old-export-guide`;
    assert.ok(target(3).contents.includes(`href="${missingHref}"`));
    assert.ok(target(4).contents.includes('href="https://support.zendesk.com/hc/en-us/articles/4408846795674"'));
    const unresolved = await unrewrittenKbLinks(staged.deps.db);
    assert.deepEqual(unresolved.map((l) => [l.articleSourceId, l.href]), [[String(kb.articles[3]!.id), missingHref]]);
    assert.match(unresolved[0]!.reason!, /not in the source data/);
    const report = await staged.deps.db('kb_articles').where({ source_id: String(kb.articles[3]!.id) }).first('load_reason');
    assert.match(report.load_reason, /1 link\(s\) left pointing at the source/);

    // Attachments: uploaded byte-identical; the body links the file, the inline image points at it.
    const files = await entities<FileRec>(sandbox.url, 'files');
    assert.equal(files.length, 2);
    const att = await staged.deps.db('attachments').where({ kind: 'article' }).whereNot({ file_name: 'broken.bin' }).orderBy('source_id').select();
    for (const [row, key] of [[att[0], 'guide'], [att[1], 'shot']] as const) {
      assert.ok(row.target_file_id, `${row.file_name} uploaded: ${row.upload_error}`);
      const back = await fileBytes(sandbox.url, Number(row.target_file_id));
      assert.equal(sha(back), sha(bytes[key]));
      assert.equal(sha(back), row.sha256);
    }
    assert.ok(target(0).contents.includes(`<a href="${att[0].target_url}">setup guide.pdf</a>`), 'listed attachment');
    assert.ok(target(2).contents.includes(`<img src="${att[1].target_url}"`), 'inline image rewritten');

    const counts = await runCounts(staged.deps.db, staged.runId);
    const line = (e: string) => counts.find((c) => c.entity === e)!;
    assert.deepEqual([line('kb_categories').extracted, line('kb_categories').loaded, line('kb_categories').missing], [6, 6, 0]);
    assert.deepEqual([line('kb_articles').extracted, line('kb_articles').loaded, line('kb_articles').missing], [10, 10, 0]);

    // Calls (R24): 1 site list + 1 per category + 1 per article + 2 per file (ref, confirm; the
    // upload itself is not a Desk call) + 1 PATCH per article whose links could not all be
    // rewritten at create time: the 6 that link forward, plus those whose backward link's
    // article was still being created next to them (articles load concurrently).
    const kbCalls = sandbox.store.calls().filter((c) => /helpdoc|\/files/.test(c.route));
    const patches = kbCalls.filter((c) => c.method === 'PATCH' && c.route.includes('helpdocarticles')).reduce((n, c) => n + c.count, 0);
    assert.equal(kbCalls.reduce((n, c) => n + c.count, 0) - patches, 1 + 6 + 10 + 2 * 2, JSON.stringify(kbCalls));
    assert.ok(patches >= 6 && patches <= 10, `${patches} link PATCHes`);

    // What the post-migration checklist reads: dates and labels kept in staging only.
    const facts = await kbChecklistFacts(staged.deps.db, staged.runId);
    assert.deepEqual([facts.unrewrittenLinks.length, facts.articlesWithSourceDatesOnly, facts.articlesWithLabels], [1, 10, 10]);
    assert.deepEqual(facts.attachmentsNotMigrated.map((f) => [f.articleSourceId, f.fileName]), [[String(kb.articles[9]!.id), 'broken.bin']]);
    assert.match(facts.attachmentsNotMigrated[0]!.reason, /not in the blob store/);
    assert.match(target(9).contents, /<p><em>Not migrated: broken\.bin \(the fetched bytes of broken\.bin are not in the blob store/);
    const note = await staged.deps.db('kb_articles').where({ source_id: String(kb.articles[9]!.id) }).first('load_reason');
    assert.match(note.load_reason, /attachment\(s\) not migrated: broken\.bin/);
    const staged0 = await staged.deps.db('kb_articles').where({ source_id: String(kb.articles[0]!.id) }).first('data');
    assert.deepEqual([staged0.data.createdAt, staged0.data.updatedAt, staged0.data.tags], [kb.articles[0]!.created_at, kb.articles[0]!.updated_at, ['howto', 'popular']]);
  });

  test('a re-run creates nothing twice and patches nothing', async () => {
    const before = { cats: (await entities(sandbox.url, 'helpdocscategories')).length, arts: await entities<Article>(sandbox.url, 'helpdocarticles'), files: (await entities(sandbox.url, 'files')).length };
    const writes = () => sandbox.store.callCount({ method: 'PATCH' }) + sandbox.store.callCount({ method: 'POST' });
    const writes0 = writes();
    const summary = await load(staged, config, sandbox.url);
    assert.equal(summary.kb_articles.loaded + summary.kb_categories.loaded, 0, 'nothing pending');
    assert.equal(writes(), writes0, 'no create, no upload, no PATCH');
    assert.equal((await entities(sandbox.url, 'helpdocscategories')).length, before.cats);
    assert.deepEqual(await entities<Article>(sandbox.url, 'helpdocarticles'), before.arts);
    assert.equal((await entities(sandbox.url, 'files')).length, before.files);
  });

  test('in-doubt articles and categories are looked up, not created twice', async () => {
    const db = staged.deps.db;
    const doubt = [String(kb.articles[0]!.id), String(kb.articles[7]!.id)];
    // As if the loader died after the creates reached the target but before it recorded them.
    await db('kb_articles').whereIn('source_id', doubt).update({ load_state: 'loading', claimed_at: db.raw("now() - interval '1 hour'"), load_attempts: 1 });
    await db('kb_categories').where({ source_id: `section:${kb.sections[3]!.id}` }).update({ load_state: 'pending', load_attempts: 1 });
    await db('id_map').whereIn('entity', ['kb_articles']).whereIn('source_id', doubt).delete();
    const before = { cats: (await entities(sandbox.url, 'helpdocscategories')).length, arts: (await entities(sandbox.url, 'helpdocarticles')).length };
    const summary = await load(staged, config, sandbox.url);
    assert.equal(summary.kb_articles.loaded, 2);
    assert.equal(summary.kb_categories.loaded, 1);
    assert.deepEqual({ cats: (await entities(sandbox.url, 'helpdocscategories')).length, arts: (await entities(sandbox.url, 'helpdocarticles')).length }, before);
    const states = await db('kb_articles').select('load_state').count('* as n').groupBy('load_state');
    assert.deepEqual(states.map((s) => [s.load_state, Number(s.n)]), [['loaded', kb.articles.length]]);
    const arts = await entities<Article>(sandbox.url, 'helpdocarticles');
    const mapped = await db('id_map').where({ entity: 'kb_articles' }).whereIn('source_id', doubt).select('target_id');
    assert.deepEqual(mapped.map((m) => Number(m.target_id)).sort(), arts.filter((a) => doubt.some((d) => a.oldURL.includes(`/articles/${d}-`))).map((a) => a.id).sort());
  });

  test('no Help Docs site: every KB row fails with a clear reason', async () => {
    const db = staged.deps.db;
    await db('kb_categories').update({ load_state: 'pending', load_attempts: 0 });
    await db('kb_articles').update({ load_state: 'pending', load_attempts: 0 });
    const summary = await load(staged, config, sandbox.url, { helpDocsSiteId: 999 });
    assert.equal(summary.kb_articles.failed, kb.articles.length);
    const reasons = await db('kb_articles').distinct('load_reason');
    assert.deepEqual(reasons.map((r) => r.load_reason), ['Help Docs site 999 (target.helpDocsSiteId) does not exist in the target']);
  });
});
