import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Loader } from '../../load/loader.ts';
import { TargetDirectory } from '../../load/target-directory.ts';
import { connectTarget } from '../../src/target.ts';
import { startSandbox } from '../sandbox/index.ts';
import { customerEmails, entities, type SandboxMessage, type SandboxTicket } from '../sandbox-readback.ts';
import { agentsOf, dataset, KEY, stagedDataset } from './fixture.ts';

/** The target's content as a comparable value: tickets by source id, customers, companies. */
async function targetContent(url: string) {
  const tickets = await entities<SandboxTicket>(url, 'tickets');
  const messages = await entities<SandboxMessage>(url, 'messages');
  const emails = await customerEmails(url);
  const perTicket = new Map<number, number>();
  for (const m of messages) perTicket.set(m.ticket.id, (perTicket.get(m.ticket.id) ?? 0) + 1);
  return {
    tickets: tickets.map((t) => ({ source: t._sandbox?.importId, subject: t.subject, customer: emails.get(t.customer.id), messages: perTicket.get(t.id) ?? 0, status: t.status.id }))
      .sort((a, b) => Number(a.source) - Number(b.source)),
    customers: [...emails.values()].sort(),
    companies: (await entities<{ name: string }>(url, 'companies')).map((c) => c.name).sort(),
  };
}

async function loadInto(staged: Awaited<ReturnType<typeof stagedDataset>>, url: string, runs = 1) {
  const config = { ...staged.config, target: { ...staged.config.target, url, apiKey: KEY } };
  const client = connectTarget(staged.deps, config);
  try {
    const directory = await TargetDirectory.read(client);
    for (let i = 0; i < runs; i++) await new Loader({ ...staged.deps, client, directory }, config).run({ runId: staged.runId, finalPass: true });
  } finally {
    await client.close();
  }
}

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
      await loadInto(clean, reference.url);
      await loadInto(faulty, chaos.url);
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
