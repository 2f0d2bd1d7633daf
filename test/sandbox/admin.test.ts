// Admin surface (/_sandbox/*) and state-file persistence.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startSandbox } from './index.ts';
import { call } from './test-helpers.ts';

describe('admin surface', () => {
  it('state, entities, calls, emails, seed, reset, config', async () => {
    const sb = await startSandbox();
    try {
      await call(sb, 'POST', '/tags.json', { tag: { name: 'x' } });
      await call(sb, 'GET', '/tags.json');
      await call(sb, 'GET', '/tags.json', undefined, { auth: null });
      const calls = await call(sb, 'GET', '/_sandbox/calls', undefined, { auth: null });
      assert.equal(calls.json.total, 3);
      assert.deepEqual(calls.json.calls.map((c: { method: string; status: string }) => `${c.method} ${c.status}`).sort(), ['GET 200', 'GET 401', 'POST 201']);
      const state = await call(sb, 'GET', '/_sandbox/state', undefined, { auth: null });
      assert.equal(state.json.tables.tags.length, 1);
      assert.equal(state.json.tables.inboxes.length, 2);
      assert.equal((await call(sb, 'GET', '/_sandbox/entities/users', undefined, { auth: null })).json.count, 3);
      assert.equal((await call(sb, 'GET', '/_sandbox/entities/nope', undefined, { auth: null })).status, 404);
      const seeded = await call(sb, 'POST', '/_sandbox/seed', { agents: [{ firstName: 'Q', email: 'q@sandbox.example', status: 'invited' }], inboxes: [{ name: 'Sales', email: 'sales@sandbox.example' }] }, { auth: null });
      assert.equal(seeded.status, 200, seeded.text);
      assert.equal(sb.store.list('inboxes').length, 3);
      assert.equal((await call(sb, 'POST', '/_sandbox/seed', { inboxes: [{ name: 'x', email: 'bad' }] }, { auth: null })).status, 400);
      const cfg = await call(sb, 'PATCH', '/_sandbox/config', { rateLimitPerMinute: 7, resetStyle: 'epoch' }, { auth: null });
      assert.equal(cfg.json.rateLimitPerMinute, 7);
      assert.equal((await call(sb, 'GET', '/tags.json')).headers['x-rate-limit-limit'], '7');
      assert.equal((await call(sb, 'PATCH', '/_sandbox/config', { resetStyle: 'sometimes' }, { auth: null })).status, 400);
      await call(sb, 'POST', '/_sandbox/reset', {}, { auth: null });
      assert.equal(sb.store.list('tags').length, 0);
      assert.equal(sb.store.list('inboxes').length, 2);
      assert.equal(sb.store.callCount(), 0);
    } finally { await sb.close(); }
  });

  it('persists to a state file (atomic, write-behind) and resumes from it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sandbox-'));
    const stateFile = path.join(dir, 'state.json');
    try {
      const a = await startSandbox({ stateFile, persistDebounceMs: 10 });
      const t = await call(a, 'POST', '/tickets.json', { subject: 'persist me', message: 'm', inbox: { id: 1 }, customer: { email: 'p@x.io' }, notifyCustomer: false });
      const r = await call(a, 'POST', '/files/ref.json', { filename: 'a.txt', mimeType: 'text/plain' });
      await a.close();
      const snap = JSON.parse(await readFile(stateFile, 'utf8'));
      assert.equal(snap.tables.tickets[0].subject, 'persist me');
      const b = await startSandbox({ stateFile });
      try {
        assert.equal(b.store.get('tickets', t.json.ticket.id)!.subject, 'persist me');
        assert.equal(b.store.get('files', r.json.file.id)!.state, 'temp');
        const next = await call(b, 'POST', '/tags.json', { tag: { name: 'after-restart' } });
        assert.equal(next.status, 201);
      } finally { await b.close(); }
      const fresh = await startSandbox({ stateFile, resume: false });
      try { assert.equal(fresh.store.list('tickets').length, 0); } finally { await fresh.close(); }
    } finally { await rm(dir, { recursive: true, force: true }); }
  });
});
