/**
 * Issue 16.5, as an operator does it (processes): `init` stages the source, the operator edits the
 * mapping (inbox routing + group tags), `demo` loads with the edited mapping — saying in one line
 * that it re-applied it — and after another edit, a re-run brings the tickets already in the
 * target in line (inbox and tags), through the same field-diff PATCH delta uses.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { agentSeed, fieldSeed } from '../../cli/demo.ts';
import { startSandbox } from '../sandbox/index.ts';
import { freshDatabase, services, tempDir } from '../helpers.ts';
import { cliEnv, hasStack, runCli, sampleRecords } from './helpers.ts';

const KEY = 'mapping-change-key';
const GROUP = 'Technik & 2nd Level';
let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let database: Awaited<ReturnType<typeof freshDatabase>>;
let work: ReturnType<typeof tempDir>;
let env: Record<string, string>;

before(async () => {
  const svc = await services();
  const { users, fields } = await sampleRecords();
  sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 6000, seed: { agents: agentSeed(users), customfields: fieldSeed(fields) } });
  database = await freshDatabase();
  work = tempDir();
  env = cliEnv({ databaseUrl: database.url, brokers: svc.brokers, workDir: work.path, extra: { DESKPORT_TARGET_URL: sandbox.url, DESKPORT_TARGET_API_KEY: KEY } });
});

after(async () => {
  await sandbox?.close();
  await database?.drop();
  work?.remove();
});

const inboxId = (name: string) => sandbox.store.list('inboxes').find((i) => i.name === name)!.id;
const targetTicket = (sourceId: string) => sandbox.store.list('tickets').find((t) => String(t._sandbox.importId) === sourceId)!;
const tagNames = (sourceId: string) => targetTicket(sourceId).tags.map((r) => sandbox.store.get('tags', r.id)!.name);

test('issue 16.5: a mapping edited after init is the one demo and a re-run use', async () => {
  const mapping = `${work.path}/mapping.yaml`;
  const configFile = `${work.path}/deskport.config.json`;
  const init = await runCli(['init', mapping, '--config-out', configFile], env);
  assert.equal(init.code, 0, init.stdout + init.stderr);

  // The operator routes the 2nd-level group to Billing and asks for group tags.
  writeFileSync(mapping, `version: 1\ninboxes:\n  default: Support\n  rules:\n    - { inbox: Billing, when: { group: "${GROUP}" } }\nenrich:\n  groups: tag\n`);
  const groupId = (await database.db('source_refs').where({ kind: 'groups' }).whereRaw(`data->>'name' = ?`, [GROUP]).first('source_id')).source_id;
  const ids = (await database.db('tickets').whereRaw(`data->>'groupSourceId' = ?`, [groupId]).orderBy('source_id').limit(2).pluck('source_id')).map(String);
  assert.equal(ids.length, 2);

  const demo = await runCli(['--config', configFile, 'demo', '--ids', ids.join(',')], env);
  assert.equal(demo.code, 0, demo.stdout + demo.stderr);
  const said = demo.stderr.split('\n').filter((l) => l.includes('re-applied it first'));
  assert.equal(said.length, 1, demo.stderr);
  assert.match(said[0]!, new RegExp(`^\\d+ staged record\\(s\\) were mapped with another mapping than the mapping in ${mapping.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: re-applied it first, as \`deskport transform --remap\` does \\(\\d+ changed, [\\d.]+ s\\)$`));
  for (const id of ids) {
    assert.equal(targetTicket(id).inbox.id, inboxId('Billing'), `ticket ${id} landed in the inbox the edited mapping routes it to`);
    assert.ok(tagNames(id).includes(`group:${GROUP}`), `ticket ${id} tags: ${tagNames(id)}`);
  }
  const hashes = await database.db('tickets').distinct('mapping_hash');
  assert.equal(hashes.length, 1, 'every staged ticket now carries the mapping in effect');

  // Another edit: the group goes back to Support, with another tag prefix. The re-run brings the demo's tickets in line.
  writeFileSync(mapping, `version: 1\ninboxes:\n  default: Support\n  rules:\n    - { inbox: Support, when: { group: "${GROUP}" } }\nenrich:\n  groups: tag\n  groupTagPrefix: "team:"\n`);
  const run = await runCli(['--config', configFile, 'run'], env);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  for (const id of ids) {
    assert.equal(targetTicket(id).inbox.id, inboxId('Support'), `ticket ${id} moved to the inbox the mapping says now`);
    assert.ok(tagNames(id).includes(`team:${GROUP}`) && !tagNames(id).includes(`group:${GROUP}`), `ticket ${id} tags: ${tagNames(id)}`);
  }
  assert.match(run.stdout, /already in the target, brought in line with the source and the mapping: \d+ field\(s\) on 2 ticket\(s\) updated/);
  // Every other ticket of the group landed where the mapping says, on the first try.
  const group = (await database.db('tickets').whereRaw(`data->>'groupSourceId' = ?`, [groupId]).pluck('source_id')).map(String);
  for (const id of group) assert.equal(targetTicket(id).inbox.id, inboxId('Support'), `ticket ${id}`);
  assert.ok(!hasStack(run.stderr) && !hasStack(demo.stderr));
});

test('issue 16.5: a stage of its own (load) re-applies a changed mapping before loading, and says so', async () => {
  const mapping = `${work.path}/mapping.yaml`;
  const configFile = `${work.path}/deskport.config.json`;
  writeFileSync(mapping, `version: 1\ninboxes:\n  default: Support\ntags:\n  extra: [migrated, src:zendesk, wave-2]\n`);
  const load = await runCli(['--config', configFile, 'load'], env);
  assert.equal(load.code, 0, load.stdout + load.stderr);
  assert.equal(load.stderr.split('\n').filter((l) => l.includes('re-applied it first')).length, 1, load.stderr);
  const extra = await database.db('tickets').whereRaw(`data->'tags' @> '["wave-2"]'::jsonb`).count<{ n: string }[]>('* as n');
  assert.equal(Number(extra[0]!.n), await database.db('tickets').count<{ n: string }[]>('* as n').then((r) => Number(r[0]!.n)), 'every staged ticket mapped with the edited mapping');
});
