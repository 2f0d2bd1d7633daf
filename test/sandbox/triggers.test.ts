// Triggers as Teamwork's samples write them (teamwork-desk-api.md §11): create and PATCH with
// {"trigger": {...}, "included": {...}, "applyToExistingTickets"}, list and read back; `state`
// active | inactive only; an empty `included` list leaves actions and conditions alone.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startSandbox } from './index.ts';
import type { Sandbox } from './index.ts';
import { call, errSources } from './test-helpers.ts';

let sb: Sandbox;
before(async () => { sb = await startSandbox({ rateLimitPerMinute: 100_000 }); });
after(async () => { await sb.close(); });
beforeEach(() => sb.store.reset({ triggers: [{ name: 'Assign VIPs' }, { name: 'Old one', state: 'inactive' }] }));

const action = { id: null, type: 5, tags: [{ id: 1 }] };

describe('triggers', () => {
  it('lists with the wire state and type, filters by state, reads one', async () => {
    const all = await call(sb, 'GET', '/triggers.json');
    assert.equal(all.status, 200);
    assert.deepEqual(all.json.triggers.map((t: { name: string; state: string; type: string }) => [t.name, t.state, t.type]), [['Assign VIPs', 'active', 'Automatic'], ['Old one', 'inactive', 'Automatic']]);
    assert.equal(all.json.triggers[0].triggerState, undefined, 'no sandbox field names on the wire');
    const active = await call(sb, 'GET', `/triggers.json?filter=${encodeURIComponent(JSON.stringify({ state: { $eq: 'active' } }))}`);
    assert.deepEqual(active.json.triggers.map((t: { name: string }) => t.name), ['Assign VIPs']);
    const one = await call(sb, 'GET', `/triggers/${all.json.triggers[0].id}.json`);
    assert.equal(one.json.trigger.name, 'Assign VIPs');
  });

  it('creates as the sample does; name, state and type are required', async () => {
    const ok = await call(sb, 'POST', '/triggers.json', {
      trigger: { name: 'Email domain conditions', description: 'd', inboxes: [{ id: 1 }], state: 'active', type: 'Manual', agentHasAccess: true },
      included: { triggeractions: [action], conditions: [{ id: null, field: 2, operator: 1, value: '@x.com', matchRequirement: 'ANY' }] },
      applyToExistingTickets: false,
    });
    assert.equal(ok.status, 201);
    assert.equal(ok.json.trigger.type, 'Manual');
    assert.equal(sb.store.get('triggers', ok.json.trigger.id)!.triggeractions.length, 1);
    const bad = await call(sb, 'POST', '/triggers.json', { trigger: {} });
    assert.equal(bad.status, 400);
    assert.deepEqual(errSources(bad).sort(), ['trigger.name', 'trigger.state', 'trigger.type']);
  });

  it('PATCH state to inactive and back; "deleted" or any other word is refused; an empty included keeps the actions', async () => {
    const t = sb.store.list('triggers')[0]!;
    sb.store.raw.update('triggers', t.id, { triggeractions: [action] }, null);
    const off = await call(sb, 'PATCH', `/triggers/${t.id}.json`, { trigger: { name: t.name, state: 'inactive', type: 'Automatic' }, included: {}, applyToExistingTickets: false });
    assert.equal(off.status, 200);
    assert.equal(off.json.trigger.state, 'inactive');
    assert.equal(sb.store.get('triggers', t.id)!.triggeractions.length, 1, 'actions kept');
    for (const state of ['deleted', 'paused', 'disabled']) {
      const r = await call(sb, 'PATCH', `/triggers/${t.id}.json`, { trigger: { state } });
      assert.equal(r.status, 400, state);
      assert.deepEqual(errSources(r), ['trigger.state']);
    }
    assert.equal((await call(sb, 'PATCH', `/triggers/${t.id}.json`, { trigger: { state: 'active' }, applyToExistingTickets: true })).json.trigger.state, 'active');
    assert.equal(sb.store.get('triggers', t.id)!._sandbox.appliedToExisting, 1, 'applying to existing tickets is counted');
    assert.equal((await call(sb, 'PATCH', '/triggers/999.json', { trigger: { state: 'active' } })).status, 404);
  });
});
