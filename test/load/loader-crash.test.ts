import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startSandbox } from '../sandbox/index.ts';
import { targetContent } from '../sandbox-readback.ts';
import { tempDir } from '../helpers.ts';
import { agentsOf, dataset, KEY, stagedDataset } from './fixture.ts';

/** Runs `deskport load --final` as its own process, the way an operator runs the stage. */
function loaderProcess(staged: Awaited<ReturnType<typeof stagedDataset>>, targetUrl: string, configFile: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'cli/cli.ts', '--config', configFile, 'load', '--final'], {
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME,
      DATABASE_URL: staged.deps.databaseUrl, KAFKA_BROKERS: staged.deps.brokers.join(','),
      DESKPORT_TARGET_URL: targetUrl, DESKPORT_TARGET_API_KEY: KEY, DESKPORT_LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('kill -9 of the loader', () => {
  const data = dataset(24, 5);
  const dir = tempDir();
  let reference: Awaited<ReturnType<typeof stagedDataset>>;
  let crashed: Awaited<ReturnType<typeof stagedDataset>>;
  const configFile = join(dir.path, 'deskport.json');
  before(async () => {
    // Short leases so a killed loader's rows are taken over quickly; small import batches so
    // the load takes many calls and the kills land in every phase.
    writeFileSync(configFile, JSON.stringify({ load: { leaseSeconds: 2 }, target: { importBatchSize: 2, rateLimitWindowSeconds: 2 } }));
    reference = await stagedDataset(data);
    crashed = await stagedDataset(data);
  });
  after(async () => {
    await reference.close();
    await crashed.close();
    dir.remove();
  });

  test('at random points, then a restart, leaves the target equal to an uninterrupted run', async () => {
    // 10 calls per 2-second window: the load takes many seconds whatever the loader's concurrency.
    const opts = { port: 0, apiKeys: [KEY], rateLimitPerMinute: 10, rateLimitWindowMs: 2000, seed: { agents: agentsOf(data) } };
    const calm = await startSandbox(opts);
    const victim = await startSandbox(opts);
    try {
      const ok = loaderProcess(reference, calm.url, configFile);
      assert.equal(await exited(ok), 0);

      // Deterministic "random" kill points (ms after start), spread over the whole load.
      let seed = 1234;
      const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      let kills = 0;
      for (let i = 0; i < 4; i++) {
        const child = loaderProcess(crashed, victim.url, configFile);
        const done = exited(child);
        const at = 1500 + Math.floor(next() * 4000);
        const outcome = await Promise.race([done.then(() => 'finished'), sleep(at).then(() => 'kill')]);
        if (outcome === 'finished') break;
        child.kill('SIGKILL');
        await done;
        kills++;
      }
      assert.ok(kills >= 2, `the loader was killed mid-way (${kills} times)`);
      const last = loaderProcess(crashed, victim.url, configFile);
      assert.equal(await exited(last), 0);

      const expected = await targetContent(calm.url);
      assert.equal(expected.tickets.length, data.tickets.length);
      const got = await targetContent(victim.url);
      const states = await crashed.deps.db('tickets').select('source_id', 'load_state', 'load_reason', 'load_attempts').whereNot('load_state', 'loaded');
      assert.deepEqual(got.tickets.map((t) => t.source), expected.tickets.map((t) => t.source), `ticket ids in the target; staging rows not loaded: ${JSON.stringify(states)}`);
      assert.deepEqual(got, expected);
      const counts = await crashed.deps.db('tickets').select('load_state').count('* as n').groupBy('load_state');
      assert.deepEqual(counts.map((s) => [s.load_state, Number(s.n)]), [['loaded', data.tickets.length]]);
    } finally {
      await calm.close();
      await victim.close();
    }
  });
});
