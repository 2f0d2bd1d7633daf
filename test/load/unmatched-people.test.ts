/**
 * Issue 16, points 2 and 4, end to end into the sandbox: a deleted source agent's tickets keep
 * who they were assigned to (tag + header line, reported in report.json, records.csv and the
 * post-checklist), a suspended agent whose address the target has is assigned as before, and a
 * phone-only caller's messages carry their name and phone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { collectChecklist, formatChecklist } from '../../cli/commands/post-checklist.ts';
import type { App } from '../../cli/app.ts';
import { formatReport } from '../../cli/report.ts';
import { MappingFileError, parseMappingText } from '../../core/mapping-file.ts';
import type { Config } from '../../core/config.ts';
import { preflight } from '../../load/preflight.ts';
import { buildRunReport, recordsCsv } from '../../serve/report-files.ts';
import { keptAssigneeCounts, runCounts, runReasons } from '../../staging/index.ts';
import { startSandbox } from '../sandbox/index.ts';
import { tempDir } from '../helpers.ts';
import { agentsOf, dataset, KEY, loadStaged, stagedDataset } from './fixture.ts';

const data = dataset(40);
const agents = data.users.filter((u) => u.role !== 'end-user');
const deleted = agents.find((u) => u.active === false)!;
const suspended = agents.find((u) => u.suspended)!;
const caller = data.users.find((u) => !u.email && u.phone)!;
const ticketsOf = (id: number) => data.tickets.filter((t) => t.assignee_id === id).map((t) => String(t.id));

describe('issue 16.2 and 16.4: people the target cannot sign as', () => {
  let staged: Awaited<ReturnType<typeof stagedDataset>>;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  const work = tempDir();
  const targetOf = (sourceId: string) => sandbox.store.list('tickets').find((t) => String(t._sandbox.importId) === sourceId)!;
  const firstMessage = (ticketId: number) => sandbox.store.list('messages').filter((m) => m.ticket.id === ticketId).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id - b.id)[0]!;
  const tagNames = (ticketId: number) => sandbox.store.get('tickets', ticketId)!.tags.map((r) => sandbox.store.get('tags', r.id)!.name);

  before(async () => {
    assert.ok(ticketsOf(deleted.id).length > 0 && ticketsOf(suspended.id).length > 0, 'the dataset has tickets of both');
    staged = await stagedDataset(data, { workDir: work.path });
    // The target as an operator set it up: the deleted agent was never invited; the suspended one was.
    sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, seed: { agents: agentsOf(data) } });
    await loadStaged(staged, sandbox.url);
  });
  after(async () => {
    await sandbox?.close();
    await staged?.close();
    work.remove();
  });

  test('issue 16.2: a deleted agent\'s tickets arrive unassigned with a <source>-assignee tag and a header line', () => {
    for (const id of ticketsOf(deleted.id)) {
      const t = targetOf(id);
      assert.equal(t.agent, null, `ticket ${id}: no agent invented`);
      assert.ok(tagNames(t.id).includes(`zendesk-assignee:${deleted.email}`), `ticket ${id} tags: ${tagNames(t.id)}`);
      assert.ok(firstMessage(t.id).htmlBody.includes(`Originally assigned to ${deleted.name} &lt;${deleted.email}&gt;`), firstMessage(t.id).htmlBody.slice(0, 300));
    }
    const tom = sandbox.store.list('users').find((u) => u.email === suspended.email)!;
    for (const id of ticketsOf(suspended.id)) {
      const t = targetOf(id);
      assert.equal(t.agent?.id, tom.id, `ticket ${id}: the suspended agent's address is an agent of the target, so it is assigned`);
      assert.ok(!tagNames(t.id).some((n) => n.startsWith('zendesk-assignee:')));
    }
  });

  test('issue 16.2: the report, records.csv and the post-checklist list those tickets', async () => {
    const { db } = staged.deps;
    const expected = ticketsOf(deleted.id);
    assert.deepEqual(await keptAssigneeCounts(db, staged.runId), [{ keptAs: 'both', assignedTo: null, count: expected.length }]);
    const doc = (await buildRunReport(db, staged.runId))!;
    assert.deepEqual(doc.keptAssignees.tickets.map((k) => [k.ticketSourceId, k.email, k.keptAs, k.tag]),
      expected.map((id) => [id, deleted.email, 'both', `zendesk-assignee:${deleted.email}`]));
    const csv = recordsCsv(doc.records).split('\n');
    assert.ok(csv[0]!.endsWith(',original_assignee'), csv[0]);
    for (const id of expected) {
      assert.ok(csv.some((l) => l.startsWith(`tickets,zendesk,${id},`) && l.includes(`${deleted.name} <${deleted.email}> (kept as tag+header)`)), `records.csv row of ticket ${id}`);
    }
    const text = formatReport({ runId: staged.runId, counts: await runCounts(db, staged.runId), reasons: await runReasons(db, staged.runId), calls: 1, seconds: 1, kept: await keptAssigneeCounts(db, staged.runId) });
    assert.ok(text.includes(`     ${expected.length}  tickets unassigned, original assignee kept as a tag and in the first message's header`), text);
    const config: Config = { ...staged.config, target: { ...staged.config.target, url: sandbox.url, apiKey: KEY } };
    const checklist = formatChecklist(await collectChecklist({ ...staged.deps, config } as unknown as App, staged.runId));
    assert.match(checklist, new RegExp(`${expected.length} ticket\\(s\\) were assigned in the source to someone with no agent in the target`));
    for (const id of expected) {
      const target = targetOf(id).id;
      assert.ok(checklist.includes(`- [ ] Ticket ${id} (${sandbox.url}/desk/tickets/${target}): was assigned to ${deleted.name} <${deleted.email}> — unassigned; original kept as a tag and in the first message's header`), checklist);
    }
  });

  test('issue 16.2: agents.unmatchedAssignee is validated with the mapping file, and a fallback agent must exist in the target', () => {
    assert.throws(() => parseMappingText('agents:\n  unmatchedAssignee: sometimes\n', 'm.yaml'), (err: unknown) =>
      err instanceof MappingFileError && /agents\.unmatchedAssignee: expected tag, header, both, none, or the email of an agent of the target \(line 2, column 22\)/.test(err.message));
    assert.equal(parseMappingText('agents:\n  unmatchedAssignee: Lead@Acme.example\n').agents?.unmatchedAssignee, 'Lead@Acme.example');
    const result = preflight({ ...staged.config.mapping, unmatchedAssignee: 'lead@acme.example' }, { agents: [], groups: [], fields: [] },
      { agentEmails: ['ana@acme.example'], inboxes: [], statuses: ['active'], fields: [] });
    assert.ok(result.errors.includes('agents.unmatchedAssignee: lead@acme.example is not an agent of the target'), result.errors.join('\n'));
  });

  test('issue 16.4: a phone-only caller\'s messages say who wrote them, with the phone', () => {
    const theirs = data.tickets.filter((t) => t.requester_id === caller.id);
    assert.ok(theirs.length > 0);
    for (const src of theirs) {
      const t = targetOf(String(src.id));
      const byCaller = src.comments.filter((c) => c.author_id === caller.id);
      const bodies = sandbox.store.list('messages').filter((m) => m.ticket.id === t.id).map((m) => m.htmlBody);
      const signed = bodies.filter((b) => b.includes(`Originally written by ${caller.name} (phone ${caller.phone}) on `));
      assert.equal(signed.length, byCaller.length, `ticket ${src.id}: every comment of the caller names them`);
    }
  });
});
