import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfigInput } from '../../core/config.ts';
import type { CanonicalComment, CanonicalPerson, CanonicalTicket } from '../../staging/canonical.ts';
import { mapZendeskEnvelope } from '../../transform/map-record.ts';
import { MapRefs } from '../../transform/refs.ts';
import { mapGroup, mapTicketField } from '../../transform/zendesk.ts';
import { generateZendeskData, type ZdTicketWithComments } from '../fixtures/zendesk-data.ts';
import { testConfig } from '../helpers.ts';

/** Realistic records: the seeded Zendesk generator, mapped the way transform maps them. */
const data = generateZendeskData({ seed: 11, tickets: 60 });
const refs = new MapRefs().addGroups(data.groups.map((g) => mapGroup(g as never))).addFields(data.ticket_fields.map((f) => mapTicketField(f as never)));
for (const o of data.organizations) refs.companies.set(String(o.id), o.name);
for (const u of data.users) if (u.email) refs.people.set(String(u.id), u.email.toLowerCase());

type Mapping = NonNullable<ConfigInput['mapping']>;

function mapTicket(t: ZdTicketWithComments, mapping: Mapping = {}): { ticket: CanonicalTicket; extra: CanonicalComment[] } {
  const { comments, ...record } = t;
  const o = mapZendeskEnvelope({ runId: 1, source: 'zendesk', entity: 'tickets', record, meta: { commentCount: comments.length } }, testConfig({ mapping }).mapping, refs);
  assert.equal(o.kind, 'staged', o.kind === 'rejected' ? o.reason : '');
  if (o.kind !== 'staged') throw new Error('unreachable');
  return { ticket: o.row.data as CanonicalTicket, extra: (o.extra ?? []).map((r) => r.data as CanonicalComment) };
}

const groupOf = (t: ZdTicketWithComments) => data.groups.find((g) => g.id === t.group_id)?.name ?? null;
const withGroup = data.tickets.filter((t) => t.group_id !== null);
const sorted = [...data.tickets].sort((a, b) => a.created_at.localeCompare(b.created_at));
const middle = sorted[30]!.created_at.slice(0, 10);
const product = data.ticket_fields.find((f) => f.title === 'Product area')!;

describe('filters (R12): each rule excludes exactly the tickets it names, with the rule as reason', () => {
  const cases: { name: string; mapping: Mapping; excluded: (t: ZdTicketWithComments) => boolean; rule: RegExp }[] = [
    { name: 'createdFrom', mapping: { filters: { createdFrom: middle } }, excluded: (t) => t.created_at < `${middle}T00:00:00Z`, rule: new RegExp(`^created_at before ${middle}$`) },
    { name: 'createdBefore', mapping: { filters: { createdBefore: middle } }, excluded: (t) => t.created_at >= `${middle}T00:00:00Z`, rule: /^created_at on or after / },
    { name: 'tags.none', mapping: { filters: { tags: { none: ['vip_customer'] } } }, excluded: (t) => t.tags.includes('vip_customer'), rule: /^tags: has one of \[vip_customer\]$/ },
    { name: 'tags.any', mapping: { filters: { tags: { any: ['vip_customer', 'billing'] } } }, excluded: (t) => !t.tags.some((x) => x === 'vip_customer' || x === 'billing'), rule: /^tags: none of/ },
    { name: 'tags.all', mapping: { filters: { tags: { all: [data.tickets[0]!.tags[0]!] } } }, excluded: (t) => !t.tags.includes(data.tickets[0]!.tags[0]!), rule: /^tags: not all of/ },
    {
      name: 'field by name', mapping: { filters: { fields: [{ field: 'Product area', in: ['product_cloud_sync'] }] } },
      excluded: (t) => t.custom_fields.find((f) => f.id === product.id)?.value !== 'product_cloud_sync', rule: /^field Product area: not in/,
    },
    {
      name: 'organizations by name', mapping: { filters: { organizations: { exclude: [data.organizations[0]!.name] } } },
      excluded: (t) => t.organization_id === data.organizations[0]!.id, rule: /^organization in excluded/,
    },
    {
      name: 'assignees by email and unassigned', mapping: { filters: { assignees: { include: ['unassigned'] } } },
      excluded: (t) => t.assignee_id !== null, rule: /^assignee not in \[unassigned\]$/,
    },
    { name: 'ticket ids', mapping: { filters: { ticketIds: { exclude: [data.tickets[3]!.id, data.tickets[7]!.id] } } }, excluded: (t) => t === data.tickets[3] || t === data.tickets[7], rule: /^ticket id in excluded/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      let excluded = 0;
      for (const t of data.tickets) {
        const { ticket } = mapTicket(t, c.mapping);
        assert.equal(ticket.skip !== null, c.excluded(t), `ticket ${t.id}`);
        if (ticket.skip) {
          excluded++;
          assert.match(ticket.skip.rule, c.rule);
        }
      }
      assert.ok(excluded > 0 && excluded < data.tickets.length, `${c.name} excludes some but not all (${excluded})`);
    });
  }
});

describe('routing (R13) and groups (R4)', () => {
  const billing = data.groups.find((g) => withGroup.some((t) => t.group_id === g.id))!;
  const table: { name: string; mapping: Mapping; expect: (t: ZdTicketWithComments) => string | null }[] = [
    { name: 'no rules: the fallback inbox', mapping: {}, expect: () => null },
    { name: 'default inbox', mapping: { inboxes: { default: 'Support' } }, expect: () => 'Support' },
    {
      name: 'by group name, case-insensitive, else default', mapping: { inboxes: { default: 'Support', rules: [{ inbox: 'Billing', when: { group: billing.name.toUpperCase() } }] } },
      expect: (t) => (t.group_id === billing.id ? 'Billing' : 'Support'),
    },
    { name: 'by group id', mapping: { inboxes: { rules: [{ inbox: 'Billing', when: { group: String(billing.id) } }] } }, expect: (t) => (t.group_id === billing.id ? 'Billing' : null) },
    { name: 'by tag', mapping: { inboxes: { rules: [{ inbox: 'VIP', when: { tag: 'vip_customer' } }] } }, expect: (t) => (t.tags.includes('vip_customer') ? 'VIP' : null) },
    {
      name: 'by custom field', mapping: { inboxes: { rules: [{ inbox: 'Billing', when: { field: { name: 'Product area', equals: 'product_cloud_sync' } } }] } },
      expect: (t) => (t.custom_fields.find((f) => f.id === product.id)?.value === 'product_cloud_sync' ? 'Billing' : null),
    },
    {
      name: 'by source mailbox', mapping: { inboxes: { rules: [{ inbox: 'Mail', when: { mailbox: 'SUPPORT@acme.zendesk.com' } }] } },
      expect: (t) => (((t.via.source.to.address ?? t.recipient) ?? '').toLowerCase() === 'support@acme.zendesk.com' ? 'Mail' : null),
    },
    { name: 'groups → inboxes', mapping: { enrich: { groups: 'inbox' } }, expect: (t) => groupOf(t) },
    {
      name: 'a rule wins over groups → inboxes', mapping: { enrich: { groups: 'both' }, inboxes: { rules: [{ inbox: 'VIP', when: { tag: 'vip_customer' } }] } },
      expect: (t) => (t.tags.includes('vip_customer') ? 'VIP' : groupOf(t)),
    },
  ];
  for (const c of table) {
    test(c.name, () => {
      const seen = new Set<string | null>();
      for (const t of data.tickets) {
        const { ticket } = mapTicket(t, c.mapping);
        assert.equal(ticket.inbox?.name ?? null, c.expect(t), `ticket ${t.id}`);
        seen.add(ticket.inbox?.name ?? null);
      }
      if (c.name !== 'no rules: the fallback inbox' && c.name !== 'default inbox') assert.ok(seen.size > 1, `${c.name}: several inboxes in one run`);
    });
  }
  test('brand rule matches brand_id', () => {
    const t = { ...data.tickets[0]!, brand_id: 77 } as ZdTicketWithComments;
    assert.deepEqual(mapTicket(t, { inboxes: { rules: [{ inbox: 'Brand', when: { brand: 77 as unknown as string } }] } }).ticket.inbox, { name: 'Brand', rule: 'rule 1 (brand=77)' });
  });
});

describe('enrichments', () => {
  test('extra tags (R15) after the source tags, no duplicates', () => {
    for (const t of data.tickets.slice(0, 10)) {
      const { ticket } = mapTicket(t, { extraTags: ['migrated', 'src:zendesk', t.tags[0] ?? 'x'] });
      assert.deepEqual(ticket.tags.slice(0, new Set(t.tags).size), [...new Set(t.tags)]);
      assert.ok(ticket.tags.includes('migrated') && ticket.tags.includes('src:zendesk'));
      assert.equal(new Set(ticket.tags).size, ticket.tags.length);
    }
  });

  test('groups → tags (R4) with the prefix', () => {
    for (const t of withGroup.slice(0, 10)) {
      assert.ok(mapTicket(t, { enrich: { groups: 'tag' } }).ticket.tags.includes(`group:${groupOf(t)}`));
      assert.ok(mapTicket(t, { enrich: { groups: 'tag', groupTagPrefix: 'team-' } }).ticket.tags.includes(`team-${groupOf(t)}`));
    }
  });

  test('ITSM types (R14): tagged, incidents linked to their problem', () => {
    const incident = data.tickets.find((t) => t.type === 'incident' && t.problem_id)!;
    assert.ok(incident, 'the fixture has a linked incident');
    const { ticket } = mapTicket(incident);
    assert.equal(ticket.type, 'Incident');
    assert.ok(ticket.tags.includes('itsm:incident'));
    assert.ok(ticket.tags.includes(`itsm:problem-${incident.problem_id}`));
    assert.ok(!mapTicket(incident, { enrich: { itsm: false } }).ticket.tags.some((x) => x.startsWith('itsm:')));
  });

  test('statuses, priorities, types (R11) with defaults', () => {
    const t = { ...data.tickets[0]!, status: 'weird', priority: 'critical', type: null } as unknown as ZdTicketWithComments;
    const { ticket } = mapTicket(t, { defaultStatus: 'On-hold', defaultPriority: 'High', defaultType: 'Question' });
    assert.deepEqual([ticket.status, ticket.sourceStatus, ticket.priority, ticket.type], ['On-hold', 'weird', 'High', 'Question']);
  });

  test('custom fields (R10): names, value maps, explicit target, drop', () => {
    const t = data.tickets.find((x) => x.custom_fields.some((f) => f.id === product.id && f.value))!;
    const value = t.custom_fields.find((f) => f.id === product.id)!.value as string;
    const { ticket } = mapTicket(t, { customFields: [{ source: 'product area', target: 'Product', values: { [value]: 'Mapped' } }, { source: 'Order number', drop: true }] });
    const f = ticket.customFields.find((x) => x.fieldSourceId === String(product.id))!;
    assert.deepEqual([f.name, f.value, f.target], ['Product area', 'Mapped', { name: 'Product', id: null }]);
    const order = ticket.customFields.find((x) => x.name === 'Order number');
    if (order) assert.equal(order.target, null);
    const plain = mapTicket(t).ticket.customFields.find((x) => x.fieldSourceId === String(product.id))!;
    assert.deepEqual([plain.value, plain.target], [value, { name: 'Product area', id: null }]);
  });

  test('ticket events (R14) become one private note after the comments', () => {
    const t = { ...data.tickets[0]!, audits: [
      { created_at: '2025-01-02T10:00:00Z', author_id: data.users[0]!.id, events: [{ type: 'Change', field_name: 'status', value: 'pending', previous_value: 'open' }] },
      { created_at: '2025-01-01T09:00:00Z', author_id: null, events: [{ type: 'Change', field_name: 'assignee_id', value: data.users[1]!.id, previous_value: null }, { type: 'Comment' }] },
    ] } as unknown as ZdTicketWithComments;
    assert.deepEqual(mapTicket(t).extra, [], 'off by default');
    const { ticket, extra } = mapTicket(t, { enrich: { ticketEvents: true } });
    assert.equal(extra.length, 1);
    const note = extra[0]!;
    assert.equal(note.public, false);
    assert.equal(note.position, ticket.commentCount);
    assert.equal(note.synthetic, true);
    assert.ok(note.bodyHtml.indexOf('Reassigned') < note.bodyHtml.indexOf('Status changed'), 'in date order');
    assert.match(note.bodyHtml, /Status changed: open → pending/);
    assert.ok(note.bodyHtml.includes(data.users[1]!.email!.toLowerCase()));
  });

  test('CC header flag (R6), organizations off (R3)', () => {
    const t = data.tickets.find((x) => x.collaborator_ids.length > 0 && x.organization_id)!;
    assert.equal(mapTicket(t, { enrich: { ccs: 'header' } }).ticket.ccHeader, true);
    assert.equal(mapTicket(t).ticket.ccHeader, false);
    assert.equal(mapTicket(t, { enrich: { organizations: false } }).ticket.companySourceId, null);
  });

  test('comments: author header always (R2), inline images disposition (R5)', () => {
    const t = data.tickets.find((x) => x.comments.some((c) => c.attachments.some((a) => a.inline)))!;
    const c = t.comments.find((x) => x.attachments.some((a) => a.inline))!;
    const map = (mapping: Mapping) => {
      const o = mapZendeskEnvelope({ runId: 1, source: 'zendesk', entity: 'comments', record: c, meta: { ticketId: t.id, position: 0 } }, testConfig({ mapping }).mapping);
      assert.equal(o.kind, 'staged');
      return (o as { row: { data: CanonicalComment } }).row.data;
    };
    assert.equal(map({}).authorHeader, false);
    assert.equal(map({ enrich: { authorHeader: 'always' } }).authorHeader, true);
    assert.ok(map({}).attachments.filter((a) => a.inline).every((a) => a.disposition === 'inline'));
    assert.ok(map({ enrich: { inlineImages: 'attachment' } }).attachments.every((a) => a.disposition === 'attachment'));
  });

  test('agent overrides (R9) change the matching email and keep the source one', () => {
    const agent = data.users.find((u) => u.role !== 'end-user' && u.email)!;
    const o = mapZendeskEnvelope({ runId: 1, source: 'zendesk', entity: 'users', record: agent },
      testConfig({ mapping: { agentOverrides: { [agent.email!.toLowerCase()]: 'new@acme.example' } } }).mapping);
    const p = (o as { row: { data: CanonicalPerson } }).row.data;
    assert.deepEqual([p.email, p.sourceEmail], ['new@acme.example', agent.email!.toLowerCase()]);
  });
});
