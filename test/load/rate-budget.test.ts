import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LoadSummary } from '../../load/loader.ts';
import { parseReset } from '../../load/rate-budget.ts';
import { startSandbox } from '../sandbox/index.ts';
import { entities } from '../sandbox-readback.ts';
import { agentsOf, dataset, KEY, loadStaged, stagedDataset } from './fixture.ts';

describe('X-Rate-Limit-Reset, read both ways', () => {
  test('a small value is seconds until the reset, a large one an epoch', () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    assert.equal(parseReset('30', now)?.toISOString(), '2026-11-25T12:00:30.000Z');
    assert.equal(parseReset('1795694430', now)?.toISOString(), new Date(1795694430 * 1000).toISOString());
    assert.equal(parseReset('', now), null);
    assert.equal(parseReset('soon', now), null);
  });
});

function runLoader(staged: Awaited<ReturnType<typeof stagedDataset>>, url: string, windowSeconds: number): Promise<LoadSummary> {
  return loadStaged(staged, url, { target: { rateLimitWindowSeconds: windowSeconds, importBatchSize: 1 }, finalPass: false });
}

describe('the shared rate budget', () => {
  test('two loaders in parallel stay under the account limit together', async () => {
    const data = dataset(16, 3);
    const staged = await stagedDataset(data);
    // 12 calls per 2-second window: small enough that two loaders trusting only themselves would trip it.
    const sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 12, rateLimitWindowMs: 2000, seed: { agents: agentsOf(data) } });
    try {
      const started = Date.now();
      const [a, b] = await Promise.all([runLoader(staged, sandbox.url, 2), runLoader(staged, sandbox.url, 2)]);
      const seconds = (Date.now() - started) / 1000;
      const calls = sandbox.store.callCount();
      // Two loaders that did not share the budget would each spend 12 per window: about half their
      // calls refused. Shared, at most a stray call at a window's edge is (the reset header has
      // whole-second resolution, half of this test's 2-second window).
      const refused = sandbox.store.callCount({ status: 429 });
      assert.ok(refused <= Math.max(1, calls * 0.01), `${refused} of ${calls} calls refused`);
      assert.ok(a.calls > 3 && b.calls > 3, `both loaders worked (${a.calls}, ${b.calls} calls)`);
      assert.equal(a.tickets.loaded + b.tickets.loaded, data.tickets.length);
      assert.ok(seconds >= (Math.ceil(calls / 12) - 1) * 2, `${calls} calls in ${seconds.toFixed(1)} s stay within 12 per 2 s`);
      assert.equal((await entities(sandbox.url, 'tickets')).length, data.tickets.length);
    } finally {
      await sandbox.close();
      await staged.close();
    }
  });

  test('a 429 storm with Retry-After slows the loader but loses nothing', async () => {
    const data = dataset(8, 4);
    const staged = await stagedDataset(data);
    const sandbox = await startSandbox({
      // A one-second window keeps the Retry-After waits short.
      port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, rateLimitWindowMs: 1000, retryAfterHeader: true, seed: { agents: agentsOf(data) },
      faults: { seed: 9, storms: [{ fromRequest: 5, requests: 6 }] },
    });
    try {
      const started = Date.now();
      const summary = await runLoader(staged, sandbox.url, 1);
      assert.ok(Date.now() - started >= 1000, 'the loader waited as told');
      assert.ok(sandbox.store.callCount({ status: 429 }) >= 1, 'the storm happened');
      assert.equal(summary.tickets.loaded, data.tickets.length);
      assert.equal((await entities(sandbox.url, 'tickets')).length, data.tickets.length);
    } finally {
      await sandbox.close();
      await staged.close();
    }
  });
});
