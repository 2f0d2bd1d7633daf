import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Loader } from '../../load/loader.ts';
import { TargetDirectory } from '../../load/target-directory.ts';
import { runPipeline } from '../../cli/pipeline.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { preflightAgainstTarget } from '../../load/preflight.ts';
import { remapStaged } from '../../transform/remap.ts';
import { starterMapping } from '../../transform/init.ts';
import { parseMappingText } from '../../core/mapping-file.ts';
import { generateZendeskData } from '../fixtures/zendesk-data.ts';
import { pipelineDeps, tempDir, testConfig } from '../helpers.ts';
import { entities } from '../sandbox-readback.ts';
import { startSandbox } from '../sandbox/index.ts';

const KEY = 'mapping-test-key';

interface SbTicket { id: number; inbox: { id: number }; tags: { id: number }[]; _sandbox?: { importId?: number } }

describe('a full run shaped by a mapping file: filters, routing, groups → tags, remap, preflight', () => {
  const dir = tempDir();
  const data = generateZendeskData({ seed: 21, tickets: 40 });
  const sorted = [...data.tickets].sort((a, b) => a.created_at.localeCompare(b.created_at));
  const cutoff = sorted[10]!.created_at.slice(0, 10);
  const excludedId = sorted[30]!.id;
  // A customer seen only on tickets after the cutoff, all of which the filter excludes by id.
  const mentions = (t: (typeof data.tickets)[number]) => [t.requester_id, ...(t.email_cc_ids ?? []), ...(t.collaborator_ids ?? []), ...t.comments.map((c) => c.author_id)];
  const ticketsMentioning = (id: number) => data.tickets.filter((t) => mentions(t).includes(id));
  const loner = data.users.filter((u) => u.role === 'end-user' && u.email && ticketsMentioning(u.id).length > 0)
    .map((u) => ({ u, tickets: ticketsMentioning(u.id) }))
    .filter((x) => x.tickets.every((t) => t.created_at >= sorted[11]!.created_at))
    .sort((a, b) => a.tickets.length - b.tickets.length)[0]!;
  const excludedIds = [...new Set([excludedId, ...loner.tickets.map((t) => t.id)])];
  const billingGroup = data.groups.find((g) => data.tickets.some((t) => t.group_id === g.id))!;
  const exportPath = join(dir.path, 'export.json');
  const mappingPath = join(dir.path, 'mapping.yaml');
  writeFileSync(exportPath, JSON.stringify(data));
  writeFileSync(mappingPath, [
    'inboxes:',
    '  default: Support',
    '  rules:',
    `    - { inbox: Billing, when: { group: ${JSON.stringify(billingGroup.name)} } }`,
    'filters:',
    `  createdFrom: ${cutoff}`,
    `  ticketIds: { exclude: [${excludedIds.join(', ')}] }`,
    'enrich:',
    '  groups: tag',
    'tags:',
    '  extra: [migrated]',
  ].join('\n'));
  const byCutoff = data.tickets.filter((t) => t.created_at < `${cutoff}T00:00:00Z`);
  const byId = data.tickets.filter((t) => excludedIds.includes(t.id) && t.created_at >= `${cutoff}T00:00:00Z`);
  const kept = data.tickets.filter((t) => !byCutoff.includes(t) && !byId.includes(t));
  let deps: Awaited<ReturnType<typeof pipelineDeps>>;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let config: ReturnType<typeof testConfig>;

  before(async () => {
    deps = await pipelineDeps();
    sandbox = await startSandbox({
      port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000,
      seed: { agents: data.users.filter((u) => u.role !== 'end-user' && u.active && u.email).map((u) => ({ firstName: u.name, lastName: '', email: u.email! })) },
    });
    config = testConfig({ source: { path: exportPath }, target: { url: sandbox.url, apiKey: KEY }, mapping: { file: mappingPath } });
  });
  after(async () => {
    await sandbox?.close();
    await deps?.drop();
    dir.remove();
  });

  test('the report accounts for every excluded record with its rule; excluded tickets are not in the target', async () => {
    assert.ok(byCutoff.length > 0 && byId.length >= 1 && kept.length > 0);
    const report = await runPipeline(deps, config, { kind: 'run' });
    const row = (e: string) => report.counts.find((c) => c.entity === e)!;
    assert.equal(row('tickets').loaded, kept.length);
    assert.equal(row('tickets').skipped, byCutoff.length + byId.length);
    for (const c of report.counts) {
      assert.equal(c.missing, 0, `${c.entity} missing`);
      assert.equal(c.failed, 0, `${c.entity} failed`);
    }
    const reason = (entity: string, text: string) => report.reasons.find((r) => r.entity === entity && r.state === 'skipped' && r.reason === text)?.count ?? 0;
    assert.equal(reason('tickets', `filter: created_at before ${cutoff}`), byCutoff.length);
    assert.equal(reason('tickets', `filter: ticket id in excluded [${excludedIds.join(', ')}]`), byId.length);
    const commentsOf = (list: typeof data.tickets) => list.reduce((n, t) => n + t.comments.length, 0);
    assert.equal(reason('comments', `parent ticket skipped: filter: created_at before ${cutoff}`), commentsOf(byCutoff));
    assert.equal(reason('comments', `parent ticket skipped: filter: ticket id in excluded [${excludedIds.join(', ')}]`), commentsOf(byId));
    assert.equal(row('comments').loaded, commentsOf(kept));

    const tickets = await entities<SbTicket>(sandbox.url, 'tickets');
    const imported = new Set(tickets.map((t) => t._sandbox?.importId));
    assert.equal(tickets.length, kept.length);
    for (const t of [...byCutoff, ...byId]) assert.ok(!imported.has(t.id), `excluded ticket ${t.id} is not in the target`);

    // Routing: the group's tickets in Billing, the rest in the default inbox; group tags.
    const inboxes = await entities<{ id: number; name: string }>(sandbox.url, 'inboxes');
    const inboxName = new Map(inboxes.map((i) => [i.id, i.name]));
    const tags = new Map((await entities<{ id: number; name: string }>(sandbox.url, 'tags')).map((t) => [t.id, t.name]));
    const bySource = new Map(tickets.map((t) => [t._sandbox?.importId, t]));
    for (const src of kept) {
      const t = bySource.get(src.id)!;
      assert.equal(inboxName.get(t.inbox.id), src.group_id === billingGroup.id ? 'Billing' : 'Support', `ticket ${src.id} inbox`);
      const names = t.tags.map((x) => tags.get(x.id));
      assert.ok(names.includes('migrated'));
      const group = data.groups.find((g) => g.id === src.group_id);
      if (group) assert.ok(names.includes(`group:${group.name}`), `ticket ${src.id} has its group tag`);
    }
    const staged = await deps.db('tickets').whereNotNull('inbox').count<{ n: string }[]>('* as n');
    assert.equal(Number(staged[0]!.n), data.tickets.length, 'every staged ticket records its routed inbox');

    // Customers mentioned only on excluded tickets are not created in the target for nothing.
    const onKept = new Set(kept.flatMap(mentions));
    const onlyExcluded = new Set([...byCutoff, ...byId].flatMap(mentions).filter((id) => !onKept.has(id)));
    const customers = data.users.filter((u) => u.role === 'end-user' && u.email && onlyExcluded.has(u.id));
    assert.ok(customers.some((u) => u.id === loner.u.id), 'the dataset has customers seen only on excluded tickets');
    assert.equal(reason('people', 'customer appears only on tickets excluded by the mapping\'s filters'), customers.length);
    const created = new Set((await entities<{ externalId?: string }>(sandbox.url, 'customers')).map((c) => c.externalId));
    for (const u of customers) assert.ok(!created.has(`zendesk:${u.id}`), `customer ${u.id} of excluded tickets only is not in the target`);
  });

  test('a changed mapping is re-applied to staged records without re-extracting', async () => {
    writeFileSync(mappingPath, 'inboxes:\n  default: Support\nfilters:\n  ticketIds: { exclude: [' + excludedId + '] }\n');
    const cfg = testConfig({ source: { path: '/nonexistent/export.json' }, target: { url: sandbox.url, apiKey: KEY }, mapping: { file: mappingPath } });
    const summary = await remapStaged(deps.db, cfg);
    assert.equal(summary.byEntity.tickets!.rows, data.tickets.length);
    assert.equal(summary.byEntity.tickets!.noRaw, 0);
    const states = async (table: string) => Object.fromEntries((await deps.db(table).groupBy('load_state').select('load_state').count<any[]>('* as n')).map((r) => [r.load_state, Number(r.n)]));
    const nowIncluded = [...byCutoff, ...byId.filter((t) => t.id !== excludedId)];
    assert.deepEqual(await states('tickets'), { loaded: kept.length, pending: nowIncluded.length, skipped: 1 });
    const stillSkipped = await deps.db('people').where({ load_state: 'skipped' }).where('load_reason', 'like', '%excluded by the mapping%').count<{ n: string }[]>('* as n');
    assert.equal(Number(stillSkipped[0]!.n), 0, 'customers of once-excluded tickets are pending again');
    const commentsPending = nowIncluded.reduce((n, t) => n + t.comments.length, 0);
    assert.equal((await states('comments')).pending, commentsPending);
    const client = connectTarget(deps, cfg);
    try {
      const summaryLoad = await new Loader({ ...deps, client, directory: await TargetDirectory.read(client) }, cfg).run({ runId: 1, finalPass: true });
      assert.equal(summaryLoad.tickets.loaded, nowIncluded.length);
    } finally {
      await client.close();
    }
    assert.equal((await entities(sandbox.url, 'tickets')).length, kept.length + nowIncluded.length);
    const customers = await entities<{ externalId?: string }>(sandbox.url, 'customers');
    assert.ok(customers.some((c) => c.externalId === `zendesk:${loner.u.id}`), 'the once-excluded customer is created now');
  });

  test('preflight lists every missing reference at once', async () => {
    const cfg = testConfig({
      target: { url: sandbox.url, apiKey: KEY },
      mapping: {
        fallbackAgentEmail: 'nobody@nowhere.example',
        agentOverrides: { 'x@acme.example': 'ghost@acme.example' },
        inboxes: { default: 'Nope', rules: [{ inbox: 'Billing', when: { group: 'No such group' } }] },
        customFields: [{ source: 'Missing field' }],
        statusMap: { open: 'Active' },
      },
    });
    const client = connectTarget(deps, cfg);
    try {
      const r = await preflightAgainstTarget(deps.db, cfg, await TargetDirectory.read(client), client);
      const has = (re: RegExp) => assert.ok(r.errors.some((e) => re.test(e)), `${re} in\n${r.errors.join('\n')}`);
      has(/^agents\.fallback: nobody@nowhere\.example is not an agent of the target$/);
      has(/^agents\.overrides\.x@acme\.example: ghost@acme\.example is not an agent/);
      has(/^inboxes\.default: the target has no inbox "Nope"$/);
      has(/^inboxes\.rules\[0\]\.when\.group: the source has no group "No such group"$/);
      has(/^customFields\[0\]\.source: the source has no custom field "Missing field"$/);
      has(/custom field "Product area" .*the target has no field "Product area"/);
      const inactive = data.users.filter((u) => u.role !== 'end-user' && !u.active);
      for (const u of inactive) assert.ok(!r.unmatchedAgents.some((a) => a.email === u.email?.toLowerCase()), 'inactive agents are not reported');
    } finally {
      await client.close();
    }
  });

  test('init writes a starter mapping from staging that parses', async () => {
    const text = await starterMapping(deps.db, config);
    const parsed = parseMappingText(text, 'starter');
    for (const g of data.groups.filter((x) => !x.deleted)) assert.ok(parsed.inboxes!.rules.some((r) => r.when.group === g.name), `group ${g.name}`);
    assert.ok(parsed.customFields!.some((f) => f.source === 'Product area'));
    assert.equal(parsed.statuses!.map!.pending, 'Waiting on customer');
  });
});
