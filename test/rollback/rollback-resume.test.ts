import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Loader } from '../../load/loader.ts';
import { executeRollback, planCounts, planRollback, type RollbackSummary } from '../../load/rollback.ts';
import { TargetDirectory } from '../../load/target-directory.ts';
import type { Config } from '../../core/config.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { createRun, finishRun, importSourceFor } from '../../staging/index.ts';
import { agentsOf, dataset, stagedDataset } from '../load/fixture.ts';
import { startSandbox } from '../sandbox/index.ts';
import { KEY, liveContent } from './harness.ts';

type Staged = Awaited<ReturnType<typeof stagedDataset>>;

function targetConfig(staged: Staged, url: string): Config {
  return { ...staged.config, target: { ...staged.config.target, url, apiKey: KEY } };
}

/** One load as its own run (a `deskport load`), optionally of some tickets only. */
async function loadRun(staged: Staged, url: string, ticketIds?: string[]): Promise<number> {
  const config = targetConfig(staged, url);
  const runId = await createRun(staged.deps.db, 'load', config.source.name);
  const client = connectTarget(staged.deps, config);
  try {
    const directory = await TargetDirectory.read(client);
    await new Loader({ ...staged.deps, client, directory }, config).run({ runId, finalPass: !ticketIds, ...(ticketIds ? { ticketIds } : {}) });
  } finally {
    await client.close();
  }
  await finishRun(staged.deps.db, runId, 'done', {});
  return runId;
}

async function rollback(staged: Staged, url: string, runId: number, opts: { onProgress?: (label: string, done: number) => void } = {}): Promise<RollbackSummary> {
  const config = targetConfig(staged, url);
  const client = connectTarget(staged.deps, config);
  try {
    const plan = await planRollback(staged.deps.db, runId, { placeholderDomain: config.mapping.placeholderEmailDomain });
    return await executeRollback({ ...staged.deps, client }, plan, {
      importSource: config.target.importSource, concurrency: 2,
      ...(opts.onProgress ? { onProgress: (p) => opts.onProgress!(p.label, p.done) } : {}),
    });
  } finally {
    await client.close();
  }
}

describe('rollback interrupted by target faults, then run again', () => {
  const data = dataset(8, 11);
  // A requester without an email: the import itself creates their customer, at a placeholder address.
  const noEmail = data.users.find((u) => u.role === 'end-user' && u.email && data.tickets.some((t) => t.requester_id === u.id))!;
  noEmail.email = null;
  let staged: Staged;
  before(async () => { staged = await stagedDataset(data); });
  after(async () => { await staged.close(); });

  test('finishes the job; a record already gone counts as done; children go before parents', async () => {
    const sb = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, seed: { agents: agentsOf(data) } });
    try {
      const before0 = await liveContent(sb.url);
      const runId = await loadRun(staged, sb.url);
      const loaded = await liveContent(sb.url);
      assert.equal(loaded.tickets.length, data.tickets.length);
      assert.ok(loaded.customers.some((c) => c.endsWith(`zendesk-user-${noEmail.id}@customers.deskport.invalid`)), 'the import made a placeholder customer');
      const customers = Number((await staged.deps.db('id_map').where({ run_id: runId, entity: 'people', origin: 'created' }).count('* as n'))[0]!.n);
      assert.ok(customers > 0);

      // A delete the target did but staging never heard of (a crash between the two).
      const oneTicket = await staged.deps.db('id_map').where({ run_id: runId, entity: 'tickets' }).first('target_id');
      const gone = sb.store.get('tickets', Number(oneTicket.target_id))!;
      for (const m of gone.messages) sb.store.raw.softDelete('messages', m.id, null);
      sb.store.raw.softDelete('tickets', gone.id, null);

      // The key stops working after three tickets: every call after that is a 401.
      let revoked = false;
      const first = await rollback(staged, sb.url, runId, {
        onProgress: (label, done) => {
          if (label === 'tickets' && done >= 3 && !revoked) {
            revoked = true;
            sb.store.raw.apiKeys.delete(KEY);
          }
        },
      });
      assert.ok(first.failures.length > 0, 'the rollback saw the failures');
      assert.match(first.failures[0]!.reason, /401/);
      assert.equal(first.byKind.customers, undefined, 'no customer is touched while tickets of the run remain');
      assert.equal((await staged.deps.db('runs').where({ id: runId }).first()).status, 'rolling_back');
      const liveTickets = (await liveContent(sb.url)).tickets.length;
      assert.ok(liveTickets > 0 && liveTickets < data.tickets.length, `half-way: ${liveTickets} tickets left`);

      // Key back; some deletes are committed but their answer lost (the client retries, gets 404).
      sb.store.addApiKey(KEY, sb.store.list('users').find((u) => u.email === 'admin@sandbox.example')!.id);
      sb.store.configure({ faults: { seed: 3, byMethod: { DELETE: { lostAfterWrite: 0.5 } } } });
      const second = await rollback(staged, sb.url, runId);
      sb.store.configure({ faults: null } as never);
      assert.deepEqual(second.failures, []);
      assert.ok(second.byKind.tickets!.alreadyGone >= 1, 'the ticket deleted behind its back counts as done');
      assert.deepEqual({ ...(await liveContent(sb.url)), leftovers: null }, { ...before0, leftovers: null });
      const run = await staged.deps.db('runs').where({ id: runId }).first();
      assert.equal(run.status, 'rolled_back');
      assert.equal(run.rollback.importGeneration, 2, 'the generation moved on once, not once per attempt');
      assert.equal(await importSourceFor(staged.deps.db, { source: 'zendesk', importSource: 'X' }), 'X#2');
      const deleted = run.rollback.deleted.tickets + run.rollback.alreadyGone.tickets;
      assert.equal(deleted, data.tickets.length, JSON.stringify(run.rollback));
    } finally {
      await sb.close();
    }
  });
});

describe('rollback of one run among several', () => {
  const data = dataset(8, 11);
  let staged: Staged;
  before(async () => { staged = await stagedDataset(data); });
  after(async () => { await staged.close(); });

  test('keeps the customers and companies that tickets of another run still use', async () => {
    const sb = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, seed: { agents: agentsOf(data) } });
    try {
      const ids = data.tickets.map((t) => String(t.id));
      const run1 = await loadRun(staged, sb.url, ids.slice(0, 4));
      const run2 = await loadRun(staged, sb.url);
      const run2Tickets = await staged.deps.db('id_map').where({ run_id: run2, entity: 'tickets' }).pluck('target_id');
      assert.ok(run2Tickets.length > 0);

      const plan = await planRollback(staged.deps.db, run1);
      const customers = planCounts(plan).find((c) => c.label === 'customers')!;
      assert.ok(customers.keep > 0, `a customer of run 1 is used by run 2: ${JSON.stringify(customers)}`);
      const summary = await rollback(staged, sb.url, run1);
      assert.deepEqual(summary.failures, []);

      // Run 2's tickets are untouched and their customers are all still live.
      const live = await liveContent(sb.url);
      assert.equal(live.tickets.length, run2Tickets.length);
      assert.ok(live.tickets.every((t) => t.customer !== undefined), 'every remaining ticket has a live customer');
      assert.equal(live.companies.length, Number((await staged.deps.db('id_map').where({ entity: 'companies' }).count('* as n'))[0]!.n),
        'companies still mapped are exactly the live ones');
    } finally {
      await sb.close();
    }
  });

  test('refuses a run still running (unless --force) and a load whose outcome is in doubt', async () => {
    const { db } = staged.deps;
    const run2 = Number((await db('runs').max('id as id'))[0]!.id);
    await db('runs').where({ id: run2 }).update({ status: 'running' });
    await assert.rejects(planRollback(db, run2), (err: Error & { code?: string }) => err.code === 'DESKPORT_RUN_RUNNING' && /still running/.test(err.message));
    assert.ok((await planRollback(db, run2, { force: true })).kinds.length > 0);
    await db('runs').where({ id: run2 }).update({ status: 'done' });

    const one = await db('tickets').where({ load_state: 'loaded' }).first('source_id');
    await db('tickets').where({ source_id: one.source_id }).update({ load_state: 'pending', load_attempts: 2 });
    await assert.rejects(planRollback(db, run2), (err: Error & { code?: string }) => err.code === 'DESKPORT_LOAD_IN_DOUBT' && /1 tickets/.test(err.message));
    await db('tickets').where({ source_id: one.source_id }).update({ load_state: 'loaded', load_attempts: 1 });
    await assert.rejects(planRollback(db, 999), (err: Error & { code?: string }) => err.code === 'DESKPORT_NO_RUN');
  });
});
