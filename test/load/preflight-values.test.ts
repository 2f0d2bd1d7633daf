/**
 * Issue 16.1: every status, priority and ticket type the mapping names or the staged tickets carry
 * must exist in the target, and a type must be enabled where its tickets land — else the import
 * drops it. Each gap is one blocking line naming the value, where it comes from and the fix.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTicketValues } from '../../load/preflight-values.ts';
import { testConfig } from '../helpers.ts';

const mapping = testConfig({ mapping: { priorityMap: { low: 'Low', urgent: 'Critical' }, defaultPriority: 'Normal', typeMap: { question: 'Question', task: 'Task' } } }).mapping;
const target = {
  statuses: ['Active', 'Waiting on customer', 'On-hold', 'Solved', 'Closed', 'Spam'],
  priorities: [{ id: 1, name: 'Low' }, { id: 2, name: 'normal' }],
  types: [{ id: 7, name: 'Question', inboxIds: [1], enabledForFutureInboxes: false, displayOrder: 0 }, { id: 8, name: 'Task', inboxIds: [1, 2], enabledForFutureInboxes: false, displayOrder: 1 }],
  inboxes: [{ id: 1, name: 'Support' }, { id: 2, name: 'Billing' }],
  fallbackInboxId: 1,
};

test('a priority the target lacks blocks, naming the map entry, the staged tickets and the fix; names match case-insensitively', () => {
  const r = checkTicketValues(mapping, { statuses: [], priorities: [{ name: 'Critical', tickets: 3 }, { name: 'Low', tickets: 9 }], types: [], inboxes: [] }, target);
  assert.deepEqual(r.missing.map((m) => [m.kind, m.name, m.tickets]), [['priority', 'Critical', 3]]);
  assert.deepEqual(r.errors, ['priority "Critical" (priorities.map.urgent; 3 staged tickets): the target has no such priority; create it in Teamwork Desk (npx deskport prepare can), or map it to a priority the target has (priorities.map)']);
});

test('a status the staged tickets carry but no map names (mapped before an edit) blocks too', () => {
  const r = checkTicketValues(mapping, { statuses: [{ name: 'Escalated', tickets: 2 }], priorities: [], types: [], inboxes: [] }, target);
  const statuses = r.errors.filter((e) => e.startsWith('ticket status'));
  assert.equal(statuses.length, 1);
  assert.match(statuses[0]!, /^ticket status "Escalated" \(2 staged tickets\): the target has no such ticket status/);
  // A mapped value no staged ticket carries blocks as well (a later delta would bring it).
  assert.ok(r.errors.includes('priority "Critical" (priorities.map.urgent; no staged ticket uses it yet): the target has no such priority; create it in Teamwork Desk (npx deskport prepare can), or map it to a priority the target has (priorities.map)'), r.errors.join('\n'));
});

test('a type not enabled for the inbox its tickets land in blocks, per inbox, with the fallback inbox for unrouted tickets', () => {
  const r = checkTicketValues(mapping, {
    statuses: [], priorities: [],
    types: [{ name: 'Question', inbox: 'Billing', tickets: 4 }, { name: 'Question', inbox: null, tickets: 10 }, { name: 'task', inbox: 'Billing', tickets: 1 }],
    inboxes: [],
  }, target);
  assert.deepEqual(r.typeInboxGaps.map((g) => [g.type.name, g.inbox.name, g.tickets]), [['Question', 'Billing', 4]]);
  assert.ok(r.errors.includes('ticket type "Question" is not enabled for inbox "Billing" (4 staged tickets land there): the import would drop it; enable it for that inbox in Teamwork Desk (npx deskport prepare can), or map or route those tickets differently'), r.errors.join('\n'));
});

test('a list the target does not answer is a warning, not a pass', () => {
  const r = checkTicketValues(mapping, { statuses: [], priorities: [{ name: 'Critical', tickets: 1 }], types: [], inboxes: [] }, { ...target, priorities: null });
  assert.equal(r.errors.filter((e) => e.startsWith('priority')).length, 0);
  assert.ok(r.warnings.includes('the target\'s priorities could not be read: priority names were not checked'));
});
