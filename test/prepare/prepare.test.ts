/**
 * Issue 22 and issue 16.1/16.8, as an operator meets them, against a half-prepared target (two
 * custom fields, the type "Task" and the status "On-hold" missing, two automatic triggers active):
 * check blocks naming each gap and its fix; run refuses (exit 2) and writes nothing; the prepare
 * dry run lists exactly those changes and changes nothing; prepare --apply makes each of them
 * once although answers are lost, and notes them in the mapping file without touching the
 * operator's lines; check then passes; the full run puts every custom-field value into a real
 * field and none into a body; restore-target puts the triggers back as they were.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../core/config.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { entities, type SandboxMessage } from '../sandbox-readback.ts';
import { freshDatabase, services, tempDir } from '../helpers.ts';
import { cliEnv, hasStack, runCli } from '../cli/helpers.ts';
import { FIRING_TRIGGERS, imperfectSeed, MISSING_FIELDS, MISSING_STATUS, MISSING_TYPE, QUIET_TRIGGERS } from './imperfect-target.ts';
import { targetShape } from './target-shape.ts';

const KEY = 'prepare-test-key';

/** The operator's own mapping, comments and flow maps included: prepare may add lines, never change these. */
const MAPPING = `# Acme → Teamwork Desk, reviewed by Jo on 2026-11-30 (keep this line)
version: 1

statuses:
  map: { new: Active, open: Active, pending: Waiting on customer, hold: On-hold, solved: Solved, closed: Closed }   # as agreed with support
  default: Active
types:
  map: {question: Question, incident: Incident, problem: Problem, task: Task}

customFields:
  # Product area keeps the source's labels
  - source: Product area
    target: Product area
  - source: Legacy ID (old CRM)
    drop: true        # retired

tags:
  extra: [migrated, src:zendesk]
`;

describe('prepare the target: check → run refused → prepare → prepare --apply → check → run → restore-target', () => {
  const work = tempDir();
  let sandbox: Sandbox;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let env: Record<string, string>;
  const mappingFile = `${work.path}/mapping.yaml`;
  const writes = () => sandbox.store.calls().filter((c) => c.method !== 'GET').reduce((n, c) => n + c.count, 0);

  before(async () => {
    const svc = await services();
    sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 6000, seed: await imperfectSeed() });
    database = await freshDatabase();
    writeFileSync(mappingFile, MAPPING);
    env = cliEnv({ databaseUrl: database.url, brokers: svc.brokers, workDir: work.path, extra: { DESKPORT_TARGET_URL: sandbox.url, DESKPORT_TARGET_API_KEY: KEY, DESKPORT_MAPPING: mappingFile } });
  });
  after(async () => {
    await sandbox?.close();
    await database?.drop();
    work.remove();
  });

  test('check blocks on the missing type, status and fields, naming each and its fix, and offers prepare (16.1)', async () => {
    const res = await runCli(['check'], env);
    assert.equal(res.code, 2, res.stdout + res.stderr);
    assert.match(res.stdout, /4 problems to fix before migrating:/);
    assert.match(res.stdout, /✗ ticket status "On-hold" \(statuses\.map\.hold; 12 staged tickets\): the target has no such ticket status; create it in Teamwork Desk \(npx deskport prepare can\), or map it to a status the target has/);
    assert.match(res.stdout, /✗ ticket type "Task" \(types\.map\.task; 24 staged tickets\): the target has no such ticket type; create it in Teamwork Desk \(npx deskport prepare can\)/);
    for (const f of MISSING_FIELDS) assert.match(res.stdout, new RegExp(`✗ custom field "${f}" \\(source \\d+\\): the target has no field "${f}"; create it \\(npx deskport prepare can\\)`));
    assert.match(res.stdout, /triggers: 2 automatic triggers are active and would act on the imported tickets: "Auto-assign new tickets" \(\d+\), "Email the customer on close" \(\d+\)/);
    assert.match(res.stdout, /npx deskport prepare can make 6 changes in the target: 1 ticket status, 1 ticket type, 2 custom fields, 2 triggers to pause \(it lists them first; --apply makes them\)\./);
    assert.equal(writes(), 0, 'check writes nothing');
  });

  test('run refuses with exit 2, listing the problems, and writes nothing to the target (16.8)', async () => {
    const res = await runCli(['run'], env);
    assert.equal(res.code, 2, res.stdout + res.stderr);
    assert.match(res.stderr, /deskport: run refused: 4 blocking problems \(the same as npx deskport check lists\); nothing was written to the target:/);
    assert.match(res.stderr, /✗ ticket type "Task"/);
    assert.match(res.stderr, /hint: .*pass --force to run anyway: the report then records it/);
    assert.ok(!hasStack(res.stderr));
    assert.equal(writes(), 0, 'nothing was written');
    assert.equal(sandbox.store.list('tickets').length, 0);
    const run = await database.db('runs').where({ kind: 'run' }).orderBy('id', 'desc').first();
    assert.equal(run.status, 'refused');
  });

  test('the dry run lists exactly the fields, the type, the status and the two triggers, and changes nothing', async () => {
    const shapeBefore = await targetShape(sandbox.url);
    const callsBefore = writes();
    const res = await runCli(['prepare'], env);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const listed = res.stdout.split('\n').filter((l) => l.startsWith('  + '));
    assert.equal(listed.length, 6, res.stdout);
    const expect = [
      /^ {2}\+ create ticket status "On-hold" \(12 staged tickets\)$/,
      /^ {2}\+ create ticket type "Task" \(inboxes: Support; 24 staged tickets\)$/,
      /^ {2}\+ create custom field "Product area" \(dropdown; options: Cloud Sync, Mobile App, REST API, Team Dashboard, Sonstiges \/ Other; inboxes: Support\) for source field "Product area" \(\d+\)$/,
      /^ {2}\+ create custom field "VIP customer" \(checkbox; inboxes: Support\) for source field "VIP customer" \(\d+\)$/,
      /^ {2}\+ pause trigger "Auto-assign new tickets" \(\d+, Automatic\): state active → inactive; npx deskport restore-target puts it back$/,
      /^ {2}\+ pause trigger "Email the customer on close" \(\d+, Automatic\): state active → inactive; npx deskport restore-target puts it back$/,
    ];
    for (const re of expect) assert.equal(listed.filter((l) => re.test(l)).length, 1, `${re} in\n${listed.join('\n')}`);
    assert.match(res.stdout, /dry run: nothing was changed\. To make these changes: npx deskport prepare --apply/);
    assert.equal(writes(), callsBefore, 'no write call');
    assert.deepEqual(await targetShape(sandbox.url), shapeBefore, 'the target is as it was');
    assert.equal(Number((await database.db('target_changes').count<{ n: string }[]>('* as n'))[0]!.n), 0, 'nothing recorded');
    assert.equal(readFileSync(mappingFile, 'utf8'), MAPPING, 'the mapping file is untouched');
  });

  test('prepare --apply makes each change once although answers are lost, and notes them in the mapping file', async () => {
    // Every other write is committed and its answer lost (the socket dies after the work).
    sandbox.store.configure({ faults: { seed: 4, byMethod: { POST: { lostAfterWrite: 0.5 }, PATCH: { lostAfterWrite: 0.5 } } } });
    const res = await runCli(['prepare', '--apply'], env);
    sandbox.store.configure({ faults: null });
    assert.equal(res.code, 1, 'no terminal to confirm on: refused');
    assert.match(res.stderr, /needs a confirmation, but there is no terminal to ask on/);
    assert.match(res.stderr, /hint: .*--yes/);
    assert.equal(writes(), 0);

    sandbox.store.configure({ faults: { seed: 4, byMethod: { POST: { lostAfterWrite: 0.5 }, PATCH: { lostAfterWrite: 0.5 } } } });
    const applied = await runCli(['prepare', '--apply', '--yes'], env);
    const lost = sandbox.store.callCount({ status: 'lost' });
    sandbox.store.configure({ faults: null });
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.ok(lost >= 2, `answers were lost (${lost})`);
    assert.match(applied.stdout, /6 of 6 changes: 6 made, 0 failed\. 2 triggers are paused: npx deskport restore-target puts them back after the run\./);
    assert.match(applied.stdout, /found in the target after an answer was lost, not made twice/);

    // Each thing exactly once, with what the source says.
    const fields = sandbox.store.list('customfields');
    for (const label of MISSING_FIELDS) assert.equal(fields.filter((f) => f.agentLabel === label).length, 1, `one field "${label}"`);
    const product = fields.find((f) => f.agentLabel === 'Product area')!;
    assert.equal(product.kind, 'dropdown');
    assert.deepEqual(product.options.map((o) => sandbox.store.get('customfieldoptions', o.id)!.name), ['Cloud Sync', 'Mobile App', 'REST API', 'Team Dashboard', 'Sonstiges / Other']);
    const support = sandbox.store.list('inboxes').find((i) => i.name === 'Support')!;
    assert.deepEqual(product.inboxes.map((i) => i.id), [support.id]);
    assert.equal(fields.find((f) => f.agentLabel === 'VIP customer')!.kind, 'checkbox');
    assert.equal(sandbox.store.list('tickettypes').filter((t) => t.name === MISSING_TYPE).length, 1);
    assert.deepEqual(sandbox.store.list('tickettypes').find((t) => t.name === MISSING_TYPE)!.inboxes.map((i) => i.id), [support.id]);
    assert.equal(sandbox.store.list('ticketstatuses').filter((t) => t.name === MISSING_STATUS).length, 1);
    const triggers = sandbox.store.list('triggers');
    for (const name of FIRING_TRIGGERS) assert.equal(triggers.find((t) => t.name === name)!.triggerState, 'inactive', `${name} paused`);
    assert.equal(triggers.find((t) => t.name === QUIET_TRIGGERS[0])!.triggerState, 'inactive');
    assert.equal(triggers.find((t) => t.name === QUIET_TRIGGERS[1])!.triggerState, 'active', 'a manual trigger is left alone');
    assert.ok(triggers.every((t) => t._sandbox.appliedToExisting === 0), 'no trigger was applied to existing tickets');
    assert.equal(triggers.find((t) => t.name === FIRING_TRIGGERS[0])!.name, FIRING_TRIGGERS[0], 'the pause kept its name');

    // Staging has every change done; the pauses know what to put back.
    const rows = await database.db('target_changes').orderBy('key');
    assert.equal(rows.length, 6);
    assert.ok(rows.every((r: any) => r.state === 'done' && r.target_id), JSON.stringify(rows));
    assert.deepEqual(rows.filter((r: any) => r.kind === 'pause-trigger').map((r: any) => r.before.state), ['active', 'active']);

    // The mapping file: every line of the operator's is still there, in order; notes name what was made.
    const text = readFileSync(mappingFile, 'utf8');
    const lines = text.split('\n');
    let at = 0;
    for (const line of MAPPING.split('\n')) {
      at = lines.indexOf(line, at);
      assert.ok(at >= 0, `operator line kept: ${JSON.stringify(line)}`);
      at++;
    }
    assert.match(text, new RegExp(`# deskport prepare \\(\\d{4}-\\d\\d-\\d\\d\\) created ticket status "On-hold" in Teamwork Desk \\(id ${sandbox.store.list('ticketstatuses').find((s) => s.name === MISSING_STATUS)!.id}\\)\\nstatuses:`));
    assert.match(text, /# deskport prepare \(.*\) created ticket type "Task" in Teamwork Desk \(id \d+, inboxes Support\)\ntypes:/);
    assert.match(text, new RegExp(`  # deskport prepare \\(.*\\) created custom field "Product area" in Teamwork Desk \\(id ${product.id}, dropdown, 5 options, inboxes Support\\).*\\n  - source: Product area`));
    assert.match(text, /# deskport prepare \(.*\) created custom field "VIP customer" in Teamwork Desk \(id \d+, checkbox, inboxes Support\)/);
    const cfg = (file?: string) => loadConfig({ env: {}, overrides: file ? { mapping: { file } } : {} }).mapping;
    const before = `${work.path}/mapping.before.yaml`;
    writeFileSync(before, MAPPING);
    assert.deepEqual({ ...cfg(mappingFile), file: '' }, { ...cfg(before), file: '' }, 'the notes do not change the mapping');

    // Again: nothing left to do, nothing made twice.
    const again = await runCli(['prepare', '--apply', '--yes'], env);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /nothing to change in the target/);
    assert.match(again.stdout, /paused by an earlier prepare, until npx deskport restore-target: trigger "Auto-assign new tickets"/);
    assert.equal(sandbox.store.list('customfields').length, fields.length);
  });

  test('check then passes; the full run puts every custom-field value into a real field and none into a body', async () => {
    const check = await runCli(['check'], env);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /✓ nothing blocks the migration/);
    assert.match(check.stdout, /paused by deskport prepare \(npx deskport restore-target puts them back after the run\): "Auto-assign new tickets"/);

    const run = await runCli(['run'], env);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.ok(!/FORCED/.test(run.stdout), 'not forced');
    assert.match(run.stdout, /tickets\s+300\s+0\s+300\s+300\s+0\s+0\s+0\s+0\s+0/);

    // Every staged value that is not empty is on its ticket, in the field of its name.
    const fieldsById = new Map(sandbox.store.list('customfields').map((f) => [f.id, f.agentLabel]));
    const tickets = sandbox.store.list('tickets');
    const staged = await database.db('tickets').select('source_id', 'data');
    let values = 0;
    for (const s of staged as { source_id: string; data: { customFields: { name: string | null; value: unknown; target: unknown }[]; type: string | null; status: string } }[]) {
      const t = tickets.find((x) => String(x._sandbox.importId) === s.source_id)!;
      const wanted = s.data.customFields.filter((f) => f.target && !(f.value === null || f.value === '' || f.value === false || (Array.isArray(f.value) && f.value.length === 0)));
      const got = new Set(t.customfields.map((v) => fieldsById.get(v.id)));
      for (const f of wanted) assert.ok(got.has(f.name!), `ticket ${s.source_id}: field "${f.name}" set`);
      values += wanted.length;
      if (s.data.type === MISSING_TYPE) assert.equal(sandbox.store.get('tickettypes', t.ticketType!.id)!.name, MISSING_TYPE);
      if (s.data.status === MISSING_STATUS) assert.equal(sandbox.store.get('ticketstatuses', t.status.id)!.name, MISSING_STATUS);
    }
    assert.ok(values > 100, `${values} values checked`);
    const productId = sandbox.store.list('customfields').find((f) => f.agentLabel === 'Product area')!.id;
    assert.ok(tickets.some((t) => t.customfields.some((v) => v.id === productId)), 'the created drop-down holds values');
    const messages = await entities<SandboxMessage>(sandbox.url, 'messages');
    assert.equal(messages.filter((m) => m.htmlBody.includes('Custom fields not set in Teamwork Desk')).length, 0, 'no value written into a body');
    assert.equal(sandbox.store.emails().length, 0, 'nobody emailed');
  });

  test('post-checklist offers restore-target; restore-target puts the triggers back as they were', async () => {
    const list = await runCli(['post-checklist'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /- \[ \] Put back the 2 triggers deskport prepare paused: `npx deskport restore-target` \("Auto-assign new tickets" \(\d+\) → active, "Email the customer on close" \(\d+\) → active\)/);

    const dry = await runCli(['restore-target', '--dry-run'], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /2 things to put back:/);
    assert.equal(sandbox.store.list('triggers').filter((t) => t.triggerState === 'active').length, 1, 'the dry run changed nothing');

    const res = await runCli(['restore-target'], env);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /✓ trigger "Auto-assign new tickets" \(\d+\): inactive → active/);
    assert.match(res.stdout, /2 put back, 0 already as they were or gone, 0 failed\./);
    const states = Object.fromEntries(sandbox.store.list('triggers').map((t) => [t.name, t.triggerState]));
    assert.deepEqual(states, { [FIRING_TRIGGERS[0]!]: 'active', [FIRING_TRIGGERS[1]!]: 'active', [QUIET_TRIGGERS[0]!]: 'inactive', [QUIET_TRIGGERS[1]!]: 'active' });

    const again = await runCli(['restore-target'], env);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /nothing to restore/);
  });
});
