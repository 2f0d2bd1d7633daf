// Fault injection: deterministic by seed; drop, 5xx, delay, 429 storm, lost-after-write.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSandbox } from './index.ts';
import type { FaultOptions, Sandbox } from './index.ts';
import { call } from './test-helpers.ts';

async function outcomes(sb: Sandbox, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    try {
      const r = await call(sb, i % 2 ? 'POST' : 'GET', '/tags.json', i % 2 ? { tag: { name: `t${i}` } } : undefined);
      out.push(String(r.status));
    } catch (err) {
      out.push(`error:${(err as { code?: string }).code ?? 'x'}`);
    }
  }
  return out;
}

const faults: FaultOptions = { seed: 42, error5xx: 0.2, drop: 0.15, lostAfterWrite: 0.2 };

describe('faults', () => {
  it('same seed + same request sequence → same faults; another seed differs', async () => {
    const runs: string[][] = [];
    for (const seed of [42, 42, 7]) {
      const sb = await startSandbox({ rateLimitPerMinute: 100_000, faults: { ...faults, seed } });
      try { runs.push(await outcomes(sb, 60)); } finally { await sb.close(); }
    }
    assert.deepEqual(runs[0], runs[1]);
    assert.notDeepEqual(runs[0], runs[2]);
    const kinds = new Set(runs[0]!.map((s) => (s.startsWith('error') ? 'error' : s[0])));
    assert.ok(kinds.has('5') && kinds.has('error') && kinds.has('2'), [...kinds].join());
  });

  it('lost response after write: the socket dies but the write is committed', async () => {
    const sb = await startSandbox({ faults: { seed: 1, lostAfterWrite: 1 } });
    try {
      await assert.rejects(call(sb, 'POST', '/tags.json', { tag: { name: 'ghost' } }));
      assert.equal(sb.store.list('tags').filter((t) => t.name === 'ghost').length, 1);
      assert.equal(sb.store.callCount({ status: 'lost' }), 1);
      assert.equal((await call(sb, 'GET', '/tags.json')).status, 200, 'reads are not lost');
    } finally { await sb.close(); }
  });

  it('per-method/per-family overrides, delays, storms by request ordinal and by admin call', async () => {
    const sb = await startSandbox({ faults: { seed: 3, byMethod: { POST: { error5xx: 1 } }, byFamily: { inboxes: { delay: 1, delayMs: 120 } }, storms: [{ fromRequest: 4, requests: 2 }] } });
    try {
      assert.ok([500, 502, 503, 504].includes((await call(sb, 'POST', '/tags.json', { tag: { name: 'x' } })).status));
      assert.equal(sb.store.list('tags').length, 0, '5xx did no work');
      const t0 = Date.now();
      assert.equal((await call(sb, 'GET', '/inboxes.json')).status, 200);
      assert.ok(Date.now() - t0 >= 100);
      assert.equal((await call(sb, 'GET', '/tags.json')).status, 200);
      assert.equal((await call(sb, 'GET', '/tags.json')).status, 429);
      assert.equal((await call(sb, 'GET', '/tags.json')).status, 429);
      assert.equal((await call(sb, 'GET', '/tags.json')).status, 200);
      await call(sb, 'POST', '/_sandbox/storm', { durationMs: 60_000 }, { auth: null });
      assert.equal((await call(sb, 'GET', '/tags.json')).status, 429);
      await call(sb, 'PATCH', '/_sandbox/config', { faults: null }, { auth: null });
      assert.equal((await call(sb, 'GET', '/tags.json')).status, 200);
    } finally { await sb.close(); }
  });

  it('dropped connections destroy the socket without a response', async () => {
    const sb = await startSandbox({ faults: { seed: 1, drop: 1 } });
    try {
      await assert.rejects(call(sb, 'GET', '/tags.json'), (err: { code?: string }) => /UND_ERR_SOCKET|ECONNRESET/.test(err.code ?? ''));
      assert.equal(sb.store.callCount({ status: 'dropped' }), 1);
    } finally { await sb.close(); }
  });
});
