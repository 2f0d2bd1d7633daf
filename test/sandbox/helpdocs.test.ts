// Help Docs (sites, categories, site-scoped articles, PATCH erasure) and custom fields.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startSandbox } from './index.ts';
import type { Sandbox } from './index.ts';
import { call, errSources } from './test-helpers.ts';

let sb: Sandbox;
before(async () => { sb = await startSandbox({ rateLimitPerMinute: 100_000 }); });
after(async () => { await sb.close(); });
beforeEach(() => sb.store.reset());

describe('help docs', () => {
  it('categories and site-scoped articles: create, get, list, PATCH semantics, delete', async () => {
    const site = (await call(sb, 'GET', '/helpdocssites.json')).json.helpdocssites[0];
    assert.ok(site);
    assert.equal((await call(sb, 'POST', '/helpdocssites.json', { helpdocssite: { name: 'x' } })).status, 405);
    const cat = await call(sb, 'POST', '/helpdocscategories.json', { helpdocscategory: { name: 'Getting started', helpDocsSites_id: site.id } });
    assert.equal(cat.status, 201);
    assert.equal(cat.json.helpdocscategory.slug, 'getting-started');
    assert.equal((await call(sb, 'POST', '/helpdocscategories.json', { helpdocscategory: { name: 'x', helpDocsSites_id: 99 } })).status, 400);
    const byFilter = await call(sb, 'GET', `/helpdocscategories.json?filter=${encodeURIComponent(JSON.stringify({ 'sites.id': site.id }))}`);
    assert.equal(byFilter.json.helpdocscategories.length, 1);
    const catId = cat.json.helpdocscategory.id;
    const A = `/helpdocssites/${site.id}/helpdocarticles`;

    const art = await call(sb, 'POST', `${A}.json`, { helpdocarticle: { title: 'Welcome', contents: '<p>hi</p>', status: 'Published', categories: [catId], oldURL: 'https://old/kb/1' } });
    assert.equal(art.status, 201, art.text);
    const id = art.json.helpdocarticle.id;
    assert.equal((await call(sb, 'GET', `${A}/${id}.json`)).json.helpdocarticle.title, 'Welcome');
    assert.equal((await call(sb, 'GET', `/helpdocssites/helpdocarticles.json?filter=${encodeURIComponent('{"oldURL":"https://old/kb/1"}')}`)).json.helpdocarticles.length, 1);

    const patched = await call(sb, 'PATCH', `${A}/${id}.json`, { helpdocarticle: { description: 'd' } });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.json.helpdocarticle.categories, [catId], 'omitted fields are kept');
    const erased = await call(sb, 'PATCH', `${A}/${id}.json`, { helpdocarticle: { categories: null } });
    assert.equal(erased.status, 400);
    assert.deepEqual(errSources(erased), ['categories']);
    const noTitle = await call(sb, 'PATCH', `${A}/${id}.json`, { helpdocarticle: { title: '' } });
    assert.deepEqual(errSources(noTitle), ['title']);

    const inUse = await call(sb, 'DELETE', `/helpdocscategories/${catId}.json`);
    assert.equal(inUse.status, 400);
    assert.equal((await call(sb, 'DELETE', `${A}/${id}.json`)).status, 204);
    assert.equal((await call(sb, 'GET', `${A}/${id}.json`)).status, 404);
    assert.equal((await call(sb, 'DELETE', `/helpdocscategories/${catId}.json`)).status, 204);
  });

  it('article validation: lowercase wrapper, categories required, editMethod html only', async () => {
    const site = sb.store.list('helpdocssites')[0]!;
    const cat = (await call(sb, 'POST', '/helpdocscategories.json', { helpdocscategory: { name: 'C', helpDocsSites_id: site.id } })).json.helpdocscategory;
    const A = `/helpdocssites/${site.id}/helpdocarticles.json`;
    const wrongKey = await call(sb, 'POST', A, { helpDocArticle: { title: 'x', categories: [cat.id] } });
    assert.deepEqual(errSources(wrongKey).sort(), ['categories', 'title']);
    const noCats = await call(sb, 'POST', A, { helpdocarticle: { title: 'x' } });
    assert.deepEqual(errSources(noCats), ['categories']);
    const md = await call(sb, 'POST', A, { helpdocarticle: { title: 'x', categories: [cat.id], editMethod: 'markdown', contents: '# x' } });
    assert.equal(md.status, 400);
    assert.equal(md.json.errors[0].source, 'contents');
    assert.equal(md.json.errors[0].detail, 'must be set');
    assert.equal((await call(sb, 'POST', A, { helpdocarticle: { title: 'x', categories: [cat.id + 100] } })).status, 400);
    assert.equal((await call(sb, 'POST', `/helpdocssites/999/helpdocarticles.json`, { helpdocarticle: { title: 'x', categories: [cat.id] } })).status, 404);
  });
});

describe('custom fields', () => {
  it('v1 create (dropdown + options), v2 options, list by inbox with included options, value on ticket', async () => {
    const f = await call(sb, 'POST', '/desk/v1/customfields.json', {
      agentLabel: 'Plan', customerLabel: 'Plan', kind: 'dropdown', options: [{ name: 'Free', displayOrder: 0 }, { name: 'Pro', displayOrder: 1 }], inboxes: [1], enabled: true,
    });
    assert.equal(f.status, 201, f.text);
    const fieldId = f.json.customfield.id;
    const opt = await call(sb, 'POST', '/customfieldoptions.json', { customfieldoption: { customfield: { id: fieldId }, name: 'Enterprise' } });
    assert.equal(opt.status, 201);
    assert.equal((await call(sb, 'POST', '/customfieldoptions.json', { customfieldoption: { customfield: { id: fieldId }, name: 'pro' } })).status, 400);
    const listed = await call(sb, 'GET', `/customfields.json?includes=customfieldoptions&filter=${encodeURIComponent('{"inboxes.id":{"$in":[1]}}')}`);
    assert.equal(listed.json.customfields.length, 1);
    assert.deepEqual(listed.json.included.customfieldoptions.map((o: { name: string }) => o.name), ['Free', 'Pro', 'Enterprise']);
    assert.equal((await call(sb, 'GET', `/customfields.json?filter=${encodeURIComponent('{"inboxes.id":{"$in":[2]}}')}`)).json.customfields.length, 0);
    const base = { subject: 's', message: 'm', customer: { email: 'c@x.io' }, notifyCustomer: false };
    const ok = await call(sb, 'POST', '/tickets.json', { ...base, inbox: { id: 1 }, customfields: [{ id: fieldId, meta: { value: opt.json.customfieldoption.id } }] });
    assert.equal(ok.status, 201, ok.text);
    const wrongInbox = await call(sb, 'POST', '/tickets.json', { ...base, inbox: { id: 2 }, customfields: [{ id: fieldId, meta: { value: opt.json.customfieldoption.id } }] });
    assert.equal(wrongInbox.status, 400);
    const bad = await call(sb, 'POST', '/desk/v1/customfields.json', { kind: 'hologram' });
    assert.deepEqual(errSources(bad).sort(), ['agentLabel', 'kind']);
  });
});
