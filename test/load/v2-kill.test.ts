import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { ZendeskDataset } from '../fixtures/zendesk-data.ts';
import { startSandbox } from '../sandbox/index.ts';
import { entities, type SandboxMessage } from '../sandbox-readback.ts';
import { tempDir } from '../helpers.ts';
import { agentsOf, dataset, KEY, stagedDataset } from './fixture.ts';

/**
 * `deskport load` killed (SIGKILL) while it writes an oversize ticket through v2, then started
 * again: the ticket and every message exist once. Each message post is slowed down so the kill
 * lands between posts or inside one (the sandbox still finishes a call whose client died).
 */
describe('v2 fallback: kill -9 during the writes, then restart', () => {
  const dir = tempDir();
  const data: ZendeskDataset = dataset(3, 47);
  const big = data.tickets[0]!;
  while (big.comments.length < 12) big.comments.push({ ...structuredClone(big.comments[0]!), id: big.comments[0]!.id + 200_000 + big.comments.length });
  big.comments.forEach((c, i) => {
    c.html_body = `<p>part ${i}</p><p>${'filler text '.repeat(3000)}</p>`;
    c.attachments = [];
  });
  let staged: Awaited<ReturnType<typeof stagedDataset>>;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  before(async () => {
    staged = await stagedDataset(data);
    sandbox = await startSandbox({
      port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, seed: { agents: agentsOf(data) },
      faults: { seed: 3, byFamily: { messages: { delay: 1, delayMs: 250 } } },
    });
  });
  after(async () => {
    await sandbox.close();
    await staged.close();
    dir.remove();
  });

  test('no ticket or message twice', async () => {
    const config = join(dir.path, 'config.json');
    // 200 KB import cap: the big ticket (about 430 KB) goes through v2; a short lease lets the restart take its rows over.
    writeFileSync(config, JSON.stringify({ target: { importMaxBodyBytes: 200_000 }, load: { leaseSeconds: 2 } }));
    const env = {
      ...process.env, DATABASE_URL: staged.deps.databaseUrl, KAFKA_BROKERS: staged.deps.brokers.join(','), DESKPORT_CONFIG: config,
      DESKPORT_TOPIC_PREFIX: staged.config.topicPrefix, DESKPORT_SOURCE_PATH: staged.exportPath, DESKPORT_LOG_LEVEL: 'error',
      DESKPORT_WORK_DIR: join(dir.path, 'work'), DESKPORT_TARGET_URL: sandbox.url, DESKPORT_TARGET_API_KEY: KEY,
    };
    const load = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'cli/cli.ts', 'load', '--final'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => { err += d; });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { child, exited, err: () => err };
    };
    const posts = () => sandbox.store.callCount({ method: 'POST', route: '/desk/api/v2/tickets/:ticketId/messages.json' });

    const first = load();
    const deadline = Date.now() + 60_000;
    while (posts() < 4) {
      if (Date.now() > deadline) throw new Error(`the loader never reached the v2 messages: ${first.err()}`);
      await sleep(20);
    }
    await sleep(120); // inside the next (slowed) post
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, null, 'killed, not finished');
    const cut = posts();
    assert.ok(cut < big.comments.length - 1, 'killed part-way through the messages');

    await sleep(2500); // the dead loader's lease runs out
    const second = load();
    assert.equal(await second.exited, 0, second.err());

    const marker = `[deskport zendesk ticket ${big.id}]`;
    const messages = await entities<SandboxMessage>(sandbox.url, 'messages');
    const ticketIds = [...new Set(messages.filter((m) => m.htmlBody.includes(marker)).map((m) => m.ticket.id))];
    assert.equal(ticketIds.length, 1, 'the ticket exists once');
    const mine = messages.filter((m) => m.ticket.id === ticketIds[0]);
    const parts = mine.map((m) => /<p>part (\d+)<\/p>/.exec(m.htmlBody)?.[1]).sort((a, b) => Number(a) - Number(b));
    assert.deepEqual(parts, big.comments.map((_c, i) => String(i)), 'every comment once, none twice');
    const states = await staged.deps.db('tickets').select('load_state').count('* as n').groupBy('load_state');
    assert.deepEqual(states.map((s) => [s.load_state, Number(s.n)]), [['loaded', data.tickets.length]]);
    assert.equal(sandbox.store.emails().length, 0);
  });
});
