import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fieldValuesForImport, resolveFieldValues, targetFieldsFrom } from '../../load/custom-fields.ts';
import { CanonicalTicket, type CanonicalCustomField } from '../../staging/canonical.ts';

// The target's fields as GET /customfields.json?includes=customfieldoptions lists them.
const fields = targetFieldsFrom([
  { id: 1, agentLabel: 'Product area', kind: 'dropdown', inboxes: [{ id: 1 }, { id: 2 }], options: [{ id: 11 }, { id: 12 }] },
  { id: 2, agentLabel: 'Affected platforms', kind: 'multiselect', inboxes: [{ id: 1 }], options: [{ id: 21 }, { id: 22 }] },
  { id: 3, agentLabel: 'Order number', kind: 'text', inboxes: [] },
  { id: 4, agentLabel: 'VIP customer', kind: 'checkbox' },
  { id: 5, agentLabel: 'Callback date', kind: 'date' },
  { id: 6, agentLabel: 'Seats', kind: 'number' },
  { id: 7, agentLabel: 'Retired', kind: 'text', enabled: false },
], [{ id: 11, name: 'Dashboard' }, { id: 12, name: 'Billing portal' }, { id: 21, name: 'Web' }, { id: 22, name: 'Android' }]);

// The source's definitions: option values (Zendesk tags) with their labels.
const sourceFields = new Map<string, CanonicalCustomField>([
  ['100', { sourceId: '100', name: 'Product area', type: 'tagger', active: true, system: false, options: [{ value: 'product_dashboard', name: 'Dashboard' }, { value: 'product_billing', name: 'Billing portal' }] }],
  ['200', { sourceId: '200', name: 'Affected platforms', type: 'multiselect', active: true, system: false, options: [{ value: 'platform_web', name: 'Web' }, { value: 'platform_android', name: 'Android' }] }],
]);

const byName = (name: string, id: string, value: unknown, targetId: number | null = null) => ({ fieldSourceId: id, name, value, target: { name, id: targetId } });
const ticket = (customFields: unknown[]) => CanonicalTicket.parse({
  sourceId: '9', subject: 's', sourceStatus: 'open', status: 'Active', priority: null, type: null, tags: [], requesterSourceId: '1', assigneeSourceId: null,
  companySourceId: null, groupSourceId: null, ccSourceIds: [], customFields, createdAt: '2025-01-02T03:04:05Z', updatedAt: '2025-01-02T03:04:05Z', commentCount: 1,
});

describe('custom-field values on a migrated ticket (R10)', () => {
  const cases: { name: string; field: unknown; inbox?: number; value?: unknown; unset?: RegExp }[] = [
    { name: 'a drop-down value (a Zendesk tag) becomes the option id of its label', field: byName('Product area', '100', 'product_billing'), value: 12 },
    { name: 'a drop-down value already named like the option', field: byName('Product area', '100', 'dashboard'), value: 11 },
    { name: 'a multi-select becomes the list of option ids', field: byName('Affected platforms', '200', ['platform_android', 'platform_web']), inbox: 1, value: [22, 21] },
    { name: 'a text field takes the string', field: byName('Order number', '300', 'A-42'), value: 'A-42' },
    { name: 'a ticked checkbox is true', field: byName('VIP customer', '400', true), value: true },
    { name: 'a date keeps its day', field: byName('Callback date', '500', '2025-03-04T00:00:00Z'), value: '2025-03-04' },
    { name: 'a number field takes a number', field: byName('Seats', '600', '12'), value: 12 },
    { name: 'an explicit target id wins over the name', field: byName('Anything', '300', 'X-1', 3), value: 'X-1' },
    { name: 'a value with no matching option is kept, not guessed', field: byName('Product area', '100', 'product_unknown'), unset: /no option "product_unknown"/ },
    { name: 'a field the target lacks is kept, not dropped', field: byName('Region', '700', 'EU'), unset: /no such field/ },
    { name: 'a disabled field is kept, not dropped', field: byName('Retired', '800', 'old'), unset: /disabled/ },
    { name: 'a field not enabled for the ticket\'s inbox is kept', field: byName('Affected platforms', '200', ['platform_web']), inbox: 2, unset: /not enabled for the ticket's inbox/ },
    { name: 'a number field given text is kept', field: byName('Seats', '600', 'many'), unset: /not a number/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { values, unset } = resolveFieldValues(ticket([c.field]), fields, sourceFields, c.inbox ?? 1);
      if (c.unset) {
        assert.equal(values.length, 0);
        assert.equal(unset.length, 1);
        assert.match(unset[0]!.why, c.unset);
      } else {
        assert.deepEqual(unset, []);
        assert.deepEqual(values.map((v) => v.meta.value), [c.value]);
      }
    });
  }

  test('empty values and fields the mapping drops cost nothing', () => {
    const { values, unset } = resolveFieldValues(ticket([
      byName('Order number', '300', null), byName('VIP customer', '400', false), byName('Affected platforms', '200', []),
      { fieldSourceId: '300', name: 'Order number', value: 'A-1', target: null },
    ]), fields, sourceFields, 1);
    assert.deepEqual(values, []);
    assert.deepEqual(unset, []);
  });

  test('what cannot be set is written at the end of the first message, escaped', () => {
    const payload = { threads: [{ body: '<p>first</p>' }, { body: '<p>second</p>' }] };
    const values = fieldValuesForImport(payload, ticket([byName('Region', '700', '<EU>'), byName('Order number', '300', 'A-42')]), fields, sourceFields, 1);
    assert.deepEqual(values, [{ id: 3, meta: { value: 'A-42' } }]);
    assert.equal(payload.threads[0]!.body, '<p>first</p><p><em>Custom fields not set in Teamwork Desk: Region: &lt;EU&gt; (the target has no such field)</em></p>');
    assert.equal(payload.threads[1]!.body, '<p>second</p>');
  });
});
