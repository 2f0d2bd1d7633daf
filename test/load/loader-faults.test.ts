import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSandbox } from '../sandbox/index.ts';
import { targetContent } from '../sandbox-readback.ts';
import { agentsOf, dataset, KEY, loadStaged, stagedDataset } from './fixture.ts';

describe('loader against a faulty target', () => {
  const data = dataset(30);
  let clean: Awaited<ReturnType<typeof stagedDataset>>;
  let faulty: Awaited<ReturnType<typeof stagedDataset>>;
  before(async () => {
    clean = await stagedDataset(data);
    faulty = await stagedDataset(data);
  });
  after(async () => {
    await clean.close();
    await faulty.close();
  });

  test('5xx, dropped connections and responses lost after the write: no duplicate, nothing missing', async () => {
    const reference = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, seed: { agents: agentsOf(data) } });
    const chaos = await startSandbox({
      port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, seed: { agents: agentsOf(data) },
      faults: { seed: 42, error5xx: 0.08, drop: 0.05, lostAfterWrite: 0.1 },
    });
    try {
      await loadStaged(clean, reference.url);
      await loadStaged(faulty, chaos.url);
      const faults = chaos.store.calls().filter((c) => c.status === 'dropped' || c.status === 'lost' || c.status.startsWith('5'))
        .reduce((n, c) => n + c.count, 0);
      assert.ok(faults >= 5, `faults were injected (${faults})`);
      const expected = await targetContent(reference.url);
      assert.equal(expected.tickets.length, data.tickets.length);
      assert.deepEqual(await targetContent(chaos.url), expected);
      const states = await faulty.deps.db('tickets').select('load_state').count('* as n').groupBy('load_state');
      assert.deepEqual(states.map((s) => [s.load_state, Number(s.n)]), [['loaded', data.tickets.length]]);
    } finally {
      await reference.close();
      await chaos.close();
    }
  });
});
