/**
 * prepare's plan from staging facts, the mapping and the target (pure): options an existing field
 * lacks, the mapping's tags, a type enabled for a missing inbox, option labels through the value
 * map, and what is never done (agents, inboxes) or cannot be done over the API (unreadable triggers).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { preflight, type PreflightSource } from '../../load/preflight.ts';
import { describeChange, planPreparation, type PrepareInputs } from '../../load/prepare-plan.ts';
import { TargetDirectory } from '../../load/target-directory.ts';
import { testConfig } from '../helpers.ts';

const mapping = testConfig({
  mapping: {
    extraTags: ['migrated', 'src:acme'],
    customFields: [{ source: 'Area', target: 'Product', values: { area_billing: 'Billing', area_old: null } }],
    inboxes: { default: 'Support', rules: [{ inbox: 'Escalations', when: { tag: 'vip' } }] },
  },
}).mapping;

const source: PreflightSource = {
  agents: [{ sourceId: '7', email: 'new.agent@acme.example', sourceEmail: null, active: true }],
  groups: [],
  fields: [
    { sourceId: '1', name: 'Area', type: 'dropdown', active: true, system: false, options: [{ value: 'area_billing', name: 'Billing & Payments' }, { value: 'area_app', name: 'App' }, { value: 'area_old', name: 'Old' }] },
    { sourceId: '2', name: 'Colour', type: 'select', active: true, system: false, options: [{ value: 'red', name: 'Red' }, { value: 'blue', name: 'Blue' }] },
    { sourceId: '3', name: 'Empty pick', type: 'tagger', active: true, system: false, options: [] },
  ],
  values: { statuses: [], priorities: [], types: [{ name: 'Question', inbox: 'Support', tickets: 5 }], inboxes: [{ name: 'Support', tickets: 5 }] },
  fieldValues: [{ fieldSourceId: '2', value: 'blue', tickets: 3 }, { fieldSourceId: '2', value: 'green', tickets: 1 }],
};

function inputs(over: Partial<PrepareInputs> = {}): PrepareInputs {
  const directory = TargetDirectory.of([{ id: 1, email: 'lead@acme.example' }], [{ id: 1, name: 'Support', email: 's@acme.example' }, { id: 2, name: 'Billing' }],
    ['Active', 'Waiting on customer', 'On-hold', 'Solved', 'Closed', 'Spam'].map((name, i) => ({ id: i + 1, name })));
  const fields = [{ id: 40, agentLabel: 'Colour', kind: 'dropdown', enabled: true, inboxIds: [1], options: [{ id: 1, name: 'Blue' }] }];
  const meta = {
    priorities: ['Low', 'Medium', 'High', 'Urgent'].map((name, i) => ({ id: i + 1, name })),
    types: [{ id: 9, name: 'Question', inboxIds: [2], enabledForFutureInboxes: false, displayOrder: 3 }, ...['Incident', 'Problem', 'Task'].map((name, i) => ({ id: i + 10, name, inboxIds: [1], enabledForFutureInboxes: false, displayOrder: null }))],
  };
  const pre = preflight(mapping, source, { agentEmails: ['lead@acme.example'], inboxes: ['Support', 'Billing'], statuses: [...directory.statusByName.keys()], fields, ...meta, inboxList: directory.inboxes, fallbackInboxId: 1 });
  return { mapping, source, preflight: pre, directory, fallbackInboxId: 1, fields, meta, triggers: { ok: true, triggers: [] }, existingTags: new Set(['migrated']), history: [], ...over };
}

test('the plan: a new field with the value map\'s labels, a missing option, a type\'s missing inbox, the mapping\'s missing tag', () => {
  const plan = planPreparation(inputs());
  assert.deepEqual(plan.changes.map(describeChange), [
    'enable ticket type "Question" (9) for inbox "Support"',
    'create custom field "Product" (dropdown; options: Billing, App; inboxes: Support) for source field "Area" (1)',
    'add option "green" to custom field "Colour" (40; 1 staged ticket)',
    'create tag "src:acme"',
  ]);
  const type = plan.changes.find((c) => c.kind === 'ticket-type-inboxes');
  assert.deepEqual(type && type.kind === 'ticket-type-inboxes' ? type.inboxIds : null, [2, 1], 'the inboxes it had are kept');
});

test('never agents or inboxes: they are hand work with the steps; an option-less drop-down cannot be created', () => {
  const plan = planPreparation(inputs());
  assert.ok(plan.manual.some((m) => m.startsWith('agent new.agent@acme.example is not in the target: invite them (Settings › Users › Invite user') && m.includes('accept the emailed invitation')), plan.manual.join('\n'));
  assert.ok(plan.manual.some((m) => m.startsWith('inbox "Escalations" is not in the target: create it') && m.includes('deskport never creates inboxes')));
  assert.ok(plan.manual.some((m) => m.startsWith('custom field "Empty pick": a dropdown with no option to give it')));
  assert.ok(!plan.changes.some((c) => c.kind === 'custom-field' && c.label === 'Empty pick'));
});

test('triggers: active automatic ones are paused; when they cannot be read, that is said and left to the operator', () => {
  const general = { name: 'x' };
  const triggers = [
    { id: 1, name: 'On', state: 'active', type: 'Automatic', inboxIds: [], general },
    { id: 2, name: 'Off', state: 'inactive', type: 'Automatic', inboxIds: [], general },
    { id: 3, name: 'By hand', state: 'active', type: 'Manual', inboxIds: [], general },
  ];
  const plan = planPreparation(inputs({ triggers: { ok: true, triggers } }));
  assert.deepEqual(plan.changes.filter((c) => c.kind === 'pause-trigger').map((c) => c.key), ['pause-trigger:1']);
  const unread = planPreparation(inputs({ triggers: { ok: false, why: '404 for GET /triggers.json' } }));
  assert.equal(unread.triggerProblem, 'the target\'s triggers could not be read over the API (404 for GET /triggers.json)');
  assert.ok(unread.manual.some((m) => m.includes('turn every automatic trigger off by hand')));
});
