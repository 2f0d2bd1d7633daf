import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_BODY_CHARS } from '../../load/import-payload.ts';
import { startSandbox } from '../sandbox/index.ts';
import { customerEmails, entities, type SandboxMessage, type SandboxTicket } from '../sandbox-readback.ts';
import { agentsOf, dataset, KEY, loadStaged, stagedDataset } from './fixture.ts';

describe('bad input gets a defined outcome', () => {
  const data = dataset(12, 8);
  // A customer without an email, a deleted agent as assignee and author, a body over the limit.
  const noEmail = data.users.find((u) => u.role === 'end-user')!;
  noEmail.email = null;
  const deletedAgent = data.users.find((u) => u.role === 'agent' && u.active)!;
  deletedAgent.active = false;
  const [t1, t2, t3] = data.tickets;
  t1!.requester_id = noEmail.id;
  t1!.comments[0]!.author_id = noEmail.id;
  t2!.assignee_id = deletedAgent.id;
  t2!.comments.at(-1)!.author_id = deletedAgent.id;
  t2!.comments.at(-1)!.public = true;
  t3!.comments[0]!.html_body = `<p>${'x'.repeat(MAX_BODY_CHARS)}</p>`;
  let staged: Awaited<ReturnType<typeof stagedDataset>>;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  before(async () => {
    staged = await stagedDataset(data);
    // The deleted agent is not in the target, as after a real deletion.
    sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, seed: { agents: agentsOf(data) } });
    await loadStaged(staged, sandbox.url);
  });
  after(async () => {
    await sandbox.close();
    await staged.close();
  });

  const targetTicket = async (sourceId: number) => (await entities<SandboxTicket & { agent: { id: number } | null }>(sandbox.url, 'tickets')).find((t) => t._sandbox?.importId === sourceId);

  test('a customer without an email: skipped as a customer, the ticket migrates under a placeholder address', async () => {
    const person = await staged.deps.db('people').where({ source_id: String(noEmail.id) }).first();
    assert.equal(person.load_state, 'skipped');
    assert.match(person.load_reason, /no email/);
    const t = await targetTicket(t1!.id);
    assert.ok(t);
    assert.equal((await customerEmails(sandbox.url)).get(t.customer.id), `zendesk-user-${noEmail.id}@customers.deskport.invalid`);
  });

  test('a deleted agent as assignee: the ticket is unassigned, their message signed by the fallback agent with a header', async () => {
    const t = await targetTicket(t2!.id);
    assert.ok(t);
    assert.equal(t.agent, null);
    const messages = (await entities<SandboxMessage>(sandbox.url, 'messages')).filter((m) => m.ticket.id === t.id).sort((a, b) => a.id - b.id);
    assert.equal(messages.length, t2!.comments.length);
    assert.match(messages.at(-1)!.htmlBody, new RegExp(`Originally written by ${deletedAgent.name}`));
    const agent = await staged.deps.db('people').where({ source_id: String(deletedAgent.id) }).first();
    assert.equal(agent.load_state, 'skipped');
  });

  test('a body over the target limit: the ticket goes through v2 instead (issue 7), the body split, nothing lost', async () => {
    const row = await staged.deps.db('tickets').where({ source_id: String(t3!.id) }).first();
    assert.equal(row.load_state, 'loaded');
    assert.equal(await targetTicket(t3!.id), undefined, 'not through the import');
    const marker = `[deskport zendesk ticket ${t3!.id}]`;
    const messages = await entities<SandboxMessage>(sandbox.url, 'messages');
    const ticketId = messages.find((m) => m.htmlBody.includes(marker))?.ticket.id;
    assert.ok(ticketId, 'created through v2');
    const mine = messages.filter((m) => m.ticket.id === ticketId).sort((a, b) => a.id - b.id);
    assert.equal(mine.length, t3!.comments.length + 1, 'the long comment in two messages');
    assert.equal(mine.slice(0, 2).map((m) => m.htmlBody.match(/x+/g)!.reduce((n, run) => n + (run.length > 100 ? run.length : 0), 0)).reduce((a, b) => a + b), MAX_BODY_CHARS);
    const loaded = await staged.deps.db('tickets').where({ load_state: 'loaded' }).count('* as n');
    assert.equal(Number(loaded[0]!.n), data.tickets.length);
  });
});
