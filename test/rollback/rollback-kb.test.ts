import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { executeRollback, planRollback } from '../../load/rollback.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { createRun, finishRun, markLoaded } from '../../staging/index.ts';
import type { CanonicalEntity } from '../../staging/canonical.ts';
import { pipelineDeps, testConfig } from '../helpers.ts';
import { startSandbox } from '../sandbox/index.ts';
import { KEY } from './harness.ts';

/** A v2 write as the KB loader makes it. */
async function post(url: string, path: string, body: unknown): Promise<number> {
  const res = await request(`${url}/desk/api/v2${path}`, {
    method: 'POST', body: JSON.stringify(body),
    headers: { authorization: `Basic ${Buffer.from(`${KEY}:x`).toString('base64')}`, 'content-type': 'application/json' },
  });
  const json = (await res.body.json()) as Record<string, { id: number }>;
  if (res.statusCode >= 300) throw new Error(`${path}: ${res.statusCode} ${JSON.stringify(json)}`);
  return Object.values(json)[0]!.id;
}

describe('rollback of Help Docs a run created', () => {
  let deps: Awaited<ReturnType<typeof pipelineDeps>>;
  let sb: Awaited<ReturnType<typeof startSandbox>>;
  before(async () => {
    deps = await pipelineDeps();
    sb = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000 });
  });
  after(async () => {
    await sb?.close();
    await deps?.drop();
  });

  test('deletes articles, then categories deepest first; leaves a category that existed', async () => {
    const { db } = deps;
    const site = sb.store.list('helpdocssites')[0]!.id;
    const existing = await post(sb.url, '/helpdocscategories.json', { helpdocscategory: { name: 'Existing', helpDocsSites_id: site } });
    const runId = await createRun(db, 'run', 'zendesk');
    // Staged as the KB loader leaves them: a section under a category, an article in the section.
    const parent = await post(sb.url, '/helpdocscategories.json', { helpdocscategory: { name: 'Billing', helpDocsSites_id: site } });
    const child = await post(sb.url, '/helpdocscategories.json', { helpdocscategory: { name: 'Invoices', helpDocsSites_id: site, parent_id: parent } });
    const article = await post(sb.url, `/helpdocssites/${site}/helpdocarticles.json`, {
      helpdocarticle: { title: 'Where is my invoice?', contents: '<p>Here.</p>', editMethod: 'html', status: 'Published', categories: [child] },
    });
    const stage = (table: string, sourceId: string, data: Record<string, unknown>) => db(table).insert({
      source: 'zendesk', source_id: sourceId, run_id: runId, data: JSON.stringify(data), content_hash: 'h', load_state: 'loading',
    });
    await stage('kb_categories', '1', { parentSourceId: null });
    await stage('kb_categories', '2', { parentSourceId: '1' });
    await stage('kb_categories', '9', { parentSourceId: null });
    await stage('kb_articles', '100', { categorySourceId: '2' });
    const mark = (entity: string, sourceId: string, targetId: number, origin?: 'matched') =>
      markLoaded(db, { entity: entity as CanonicalEntity, source: 'zendesk', runId, items: [{ sourceId, targetId: String(targetId), ...(origin ? { origin } : {}) }] });
    // Marked in creation order, so a delete in id_map order would hit the parent first.
    await mark('kb_categories', '1', parent);
    await mark('kb_categories', '2', child);
    await mark('kb_categories', '9', existing, 'matched');
    await mark('kb_articles', '100', article);
    await finishRun(db, runId, 'done', {});

    const config = testConfig({ target: { url: sb.url, apiKey: KEY } });
    const client = connectTarget(deps, config);
    try {
      const plan = await planRollback(db, runId);
      const summary = await executeRollback({ ...deps, client }, plan, { importSource: config.target.importSource });
      assert.deepEqual(summary.failures, []);
      assert.equal(summary.byKind.articles!.deleted, 1);
      assert.equal(summary.byKind.categories!.deleted, 2);
      assert.equal(summary.byKind.categories!.released, 1);
    } finally {
      await client.close();
    }
    assert.deepEqual(sb.store.list('helpdocarticles').map((a) => a.id), []);
    assert.deepEqual(sb.store.list('helpdocscategories').map((c) => c.id), [existing]);
    assert.deepEqual(await db('kb_categories').orderBy('source_id').pluck('load_state'), ['pending', 'pending', 'pending']);
    assert.deepEqual(await db('kb_articles').pluck('load_state'), ['pending']);
    assert.equal(Number((await db('id_map').count('* as n'))[0]!.n), 0);
  });
});
