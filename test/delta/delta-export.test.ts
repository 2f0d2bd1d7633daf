import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runDelta } from '../../cli/commands/delta.ts';
import { agentSeed, fieldSeed } from '../../cli/demo.ts';
import { runPipeline } from '../../cli/pipeline.ts';
import { generateZendeskData, type ZendeskDataset } from '../fixtures/zendesk-data.ts';
import { startSandbox } from '../sandbox/index.ts';
import { entities, type SandboxTicket } from '../sandbox-readback.ts';
import { pipelineDeps, tempDir, testConfig } from '../helpers.ts';
import { assertSameAsSource } from './compare.ts';

const KEY = 'delta-export-key';
const sourceOf = (data: ZendeskDataset) => data.tickets.map((t) => ({ id: t.id, subject: t.subject, status: t.status, comments: t.comments }));

describe('deskport delta with an export-file source: a newer export', () => {
  const dir = tempDir();
  let deps: Awaited<ReturnType<typeof pipelineDeps>>;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  const data = generateZendeskData({ seed: 41, tickets: 10 });
  before(async () => {
    deps = await pipelineDeps();
    sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, seed: { agents: agentSeed(data.users), customfields: fieldSeed(data.ticket_fields) } });
  });
  after(async () => {
    await sandbox.close();
    await deps.drop();
    dir.remove();
  });

  const config = (path: string) => testConfig({ source: { path }, target: { url: sandbox.url, apiKey: KEY }, workDir: join(dir.path, 'work') });
  const writes = () => sandbox.store.calls().filter((c) => c.method !== 'GET').reduce((n, c) => n + c.count, 0);

  test('unchanged records are recognised by content hash; new and changed ones come over', async () => {
    const first = join(dir.path, 'export-1.json');
    writeFileSync(first, JSON.stringify(data));
    const cfg1 = config(first);
    await runPipeline(deps, cfg1, { kind: 'run' });
    await assertSameAsSource(deps.db, sandbox.url, sourceOf(data));

    // The newer export: one new ticket, a new comment on a migrated ticket, a changed status and subject.
    const next = structuredClone(data);
    const [commented, changed] = [next.tickets[2]!, next.tickets[5]!];
    const last = commented.comments.at(-1)!;
    commented.comments.push({ ...structuredClone(last), id: last.id + 7777, html_body: '<p>One more thing: the invoice is still wrong.</p>', body: 'One more thing', public: true, created_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), attachments: [] });
    changed.status = changed.status === 'solved' ? 'open' : 'solved';
    changed.subject = `${changed.subject} (updated)`;
    changed.priority = changed.priority === 'urgent' ? 'low' : 'urgent';
    changed.tags = [...changed.tags, 'escalated'];
    changed.custom_fields = changed.custom_fields.map((f) => (f.id === 360002000055 ? { ...f, value: 'ORD-4242' } : f));
    const fresh = { ...structuredClone(next.tickets[7]!), id: Math.max(...next.tickets.map((t) => t.id)) + 50, subject: 'From the newer export' };
    fresh.comments = fresh.comments.map((c, i) => ({ ...c, id: c.id + 900_000 + i, attachments: [] }));
    next.tickets.push(fresh);
    const second = join(dir.path, 'export-2.json');
    writeFileSync(second, JSON.stringify(next));

    const before = writes();
    const report = await runDelta(deps, config(second));
    assert.equal(report.created.tickets, 1);
    assert.equal(report.appended.comments, 1);
    assert.equal(report.appended.tickets, 1);
    assert.equal(report.updated.tickets, 1, `only the changed ticket: ${JSON.stringify(report.updated)}`);
    assert.equal(report.updated.fields, 5, 'status, subject, priority, tags, the custom field');
    assert.ok(writes() > before);
    await assertSameAsSource(deps.db, sandbox.url, sourceOf(next));
    assert.equal(sandbox.store.emails().length, 0, 'emailed nobody');
    const targetId = Number((await deps.db('id_map').where({ entity: 'tickets', source_id: String(changed.id) }).first('target_id')).target_id);
    const target = (await entities<SandboxTicket & { priority: { id: number }; customfields: { id: number; meta: { value: unknown } }[] }>(sandbox.url, 'tickets')).find((t) => t.id === targetId)!;
    const byId = async (kind: string) => new Map((await entities<{ id: number; name?: string; agentLabel?: string }>(sandbox.url, kind)).map((x) => [x.id, x.name ?? x.agentLabel]));
    assert.equal((await byId('ticketpriorities')).get(target.priority.id)?.toLowerCase(), changed.priority);
    const tagNames = await byId('tags');
    assert.deepEqual(target.tags.map((x) => tagNames.get(x.id)!.toLowerCase()).sort(), [...new Set([...changed.tags, 'migrated', 'src:zendesk'])].map((x) => x.toLowerCase()).sort());
    const fields = await byId('customfields');
    assert.equal(target.customfields.find((f) => fields.get(f.id) === 'Order number')?.meta.value, 'ORD-4242');

    // The same export again: every record hashes as before, nothing is written.
    const quiet = writes();
    const again = await runDelta(deps, config(second));
    assert.deepEqual([again.created.tickets, again.appended.comments, again.updated.tickets, again.updated.fields], [0, 0, 0, 0]);
    assert.equal(writes(), quiet, 'a delta over an unchanged export writes nothing');
    await assertSameAsSource(deps.db, sandbox.url, sourceOf(next));
  });

  test('issue 16.5: a delta after a mapping change brings the migrated tickets in line (inbox, tags) through the field-diff PATCH', async () => {
    const group = data.groups.find((g) => data.tickets.some((t) => t.group_id === g.id))!;
    const routed = new Set(data.tickets.filter((t) => t.group_id === group.id).map((t) => String(t.id)));
    const path = join(dir.path, 'export-2.json');
    const edited = testConfig({
      source: { path }, target: { url: sandbox.url, apiKey: KEY }, workDir: join(dir.path, 'work'),
      mapping: { inboxes: { default: 'Support', rules: [{ inbox: 'Billing', when: { group: group.name } }] }, extraTags: ['migrated', 'src:zendesk', 'wave-2'] },
    });
    const lines: string[] = [];
    const report = await runDelta(deps, edited, { say: (l) => lines.push(l) });
    const staged = await deps.db('tickets').where({ load_state: 'loaded' }).count<{ n: string }[]>('* as n');
    assert.equal(report.updated.tickets, Number(staged[0]!.n), 'every migrated ticket gets the new tag');
    assert.equal(report.updated.failed, 0);
    const inboxes = new Map(sandbox.store.list('inboxes').map((i) => [i.id, i.name]));
    const tags = new Map(sandbox.store.list('tags').map((t) => [t.id, t.name]));
    for (const row of await deps.db('id_map').where({ entity: 'tickets' }).select('source_id', 'target_id')) {
      const t = sandbox.store.get('tickets', Number(row.target_id))!;
      assert.equal(inboxes.get(t.inbox.id), routed.has(row.source_id) ? 'Billing' : 'Support', `ticket ${row.source_id}`);
      assert.ok(t.tags.some((r) => tags.get(r.id) === 'wave-2'), `ticket ${row.source_id} tagged`);
    }
    assert.equal(sandbox.store.emails().length, 0, 'emailed nobody');
    // Brought in line, the next delta finds nothing to change.
    const again = await runDelta(deps, edited);
    assert.deepEqual([again.updated.tickets, again.updated.fields], [0, 0]);
  });

  test('a delta before any run stops with a clear error and records nothing', async () => {
    const other = await pipelineDeps();
    try {
      await assert.rejects(runDelta(other, config(join(dir.path, 'export-1.json'))), (err: Error & { code?: string; hint?: string }) =>
        err.code === 'DESKPORT_NO_PREVIOUS_RUN' && /deskport run/.test(err.hint ?? ''));
      assert.equal((await other.db('runs').count<{ n: string }[]>('* as n'))[0]!.n, '0');
    } finally {
      await other.drop();
    }
  });
});
