// The default account and `POST /_sandbox/seed`. Seeding adds records; names/emails that
// already exist are skipped so the same seed can be applied twice.

import { seedSchema } from './config.ts';
import type { SeedData } from './config.ts';
import { ref } from './store.ts';
import type { Store } from './store.ts';
import type { Ref } from './model.ts';

export const DEFAULT_SEED: SeedData = {
  admin: { firstName: 'Ada', lastName: 'Admin', email: 'admin@sandbox.example' },
  agents: [
    { firstName: 'Sam', lastName: 'Support', email: 'sam@sandbox.example' },
    { firstName: 'Bea', lastName: 'Billing', email: 'bea@sandbox.example' },
  ],
  inboxes: [
    { name: 'Support', email: 'support@sandbox.example' },
    { name: 'Billing', email: 'billing@sandbox.example' },
  ],
  // Ids as in Teamwork's samples; 2 is absent there too.
  statuses: [
    { id: 1, name: 'Active', code: 'active', color: '#4caf50' },
    { id: 3, name: 'Waiting on customer', code: 'waiting', color: '#ff9800' },
    { id: 4, name: 'On-hold', code: 'on-hold', color: '#9e9e9e' },
    { id: 5, name: 'Solved', code: 'solved', color: '#2196f3' },
    { id: 6, name: 'Closed', code: 'closed', color: '#607d8b' },
    { id: 7, name: 'Spam', code: 'spam', color: '#f44336' },
  ],
  priorities: [{ name: 'Low' }, { name: 'Medium' }, { name: 'High' }, { name: 'Urgent' }],
  types: [{ name: 'Question' }, { name: 'Problem' }, { name: 'Incident' }, { name: 'Task' }],
  sources: [{ name: 'Email' }, { name: 'API' }, { name: 'Contact form' }],
  helpdocssites: [{ name: 'Sandbox Help Center', subdomain: 'sandbox' }],
};

export const STATUS_ACTIVE = 1;
export const STATUS_CLOSED = 6;

const lc = (s: string): string => s.toLowerCase();

export function applySeed(store: Store, input: SeedData, adminKeys: string[] = []): void {
  const seed = seedSchema.parse(input);
  const users = store.list('users');
  let admin = users.find((u) => u.role === 'admin');
  if (seed.admin && !users.some((u) => lc(u.email) === lc(seed.admin!.email))) {
    admin = store.insert('users', {
      firstName: seed.admin.firstName, lastName: seed.admin.lastName, email: seed.admin.email,
      role: 'admin', status: 'active', avatarURL: '',
    }, null);
    if (seed.admin.apiKey) store.apiKeys.set(seed.admin.apiKey, admin.id);
  }
  if (admin) for (const k of adminKeys) store.apiKeys.set(k, admin.id);
  const actor: Ref | null = admin ? ref('users', admin.id) : null;

  for (const a of seed.agents ?? []) {
    if (store.list('users').some((u) => lc(u.email) === lc(a.email))) continue;
    const u = store.insert('users', {
      firstName: a.firstName, lastName: a.lastName, email: a.email, role: a.role, status: a.status, avatarURL: '',
    }, actor);
    if (a.apiKey) store.apiKeys.set(a.apiKey, u.id);
  }
  const agentRefs = store.list('users').map((u) => ({ id: u.id, type: 'users', meta: { access: 'write' } }));
  for (const i of seed.inboxes ?? []) {
    if (store.list('inboxes').some((x) => lc(x.email) === lc(i.email))) continue;
    store.insert('inboxes', {
      name: i.name, email: i.email, localPart: i.localPart ?? i.email.split('@')[0]!, users: agentRefs,
      autoReplyEnabled: false, happinessRatingEnabled: false, ticketstatus: null,
    }, actor);
  }
  for (const s of seed.statuses ?? []) {
    if (store.list('ticketstatuses').some((x) => lc(x.name) === lc(s.name))) continue;
    store.insert('ticketstatuses', {
      ...(s.id !== undefined ? { id: s.id } : {}),
      name: s.name, code: s.code ?? lc(s.name).replace(/\s+/g, '-'), color: s.color ?? '#9e9e9e', isCustom: false,
    }, actor);
  }
  for (const p of seed.priorities ?? []) {
    if (store.list('ticketpriorities').some((x) => lc(x.name) === lc(p.name))) continue;
    store.insert('ticketpriorities', { name: p.name, color: p.color ?? '#9e9e9e' }, actor);
  }
  const inboxRefs = store.list('inboxes').map((i) => ref('inboxes', i.id));
  for (const t of seed.types ?? []) {
    if (store.list('tickettypes').some((x) => lc(x.name) === lc(t.name))) continue;
    store.insert('tickettypes', { name: t.name, inboxes: inboxRefs, enabledForFutureInboxes: true }, actor);
  }
  for (const s of seed.sources ?? []) {
    if (store.list('ticketsources').some((x) => lc(x.name) === lc(s.name))) continue;
    store.insert('ticketsources', { name: s.name, isCustom: false }, actor);
  }
  for (const t of seed.tags ?? []) {
    if (store.list('tags').some((x) => lc(x.name) === lc(t.name))) continue;
    store.insert('tags', { name: t.name, color: t.color ?? '' }, actor);
  }
  for (const c of seed.customfields ?? []) {
    if (store.list('customfields').some((x) => lc(x.agentLabel) === lc(c.agentLabel))) continue;
    const field = store.insert('customfields', {
      agentLabel: c.agentLabel, customerLabel: c.agentLabel, description: '', kind: c.kind,
      agentRequired: false, customerRequired: false, enabled: true, addToNewInboxes: true,
      inboxes: inboxRefs, options: [], apps: [],
    }, actor);
    const options = (c.options ?? []).map((name, i) =>
      ref('customfieldoptions', store.insert('customfieldoptions', { name, displayOrder: i, customfield: ref('customfields', field.id) }, actor).id));
    store.update('customfields', field.id, { options }, actor);
  }
  for (const t of seed.triggers ?? []) {
    if (store.list('triggers').some((x) => lc(x.name) === lc(t.name))) continue;
    store.insert('triggers', {
      name: t.name, description: t.description, triggerState: t.state, triggerType: t.type, inboxes: inboxRefs,
      agentHasAccess: true, isShared: inboxRefs.length > 1, addToNewInboxes: false, triggeractions: [], conditions: [],
      _sandbox: { appliedToExisting: 0 },
    }, actor);
  }
  for (const s of seed.helpdocssites ?? []) {
    if (store.list('helpdocssites').some((x) => lc(x.subdomain) === lc(s.subdomain))) continue;
    store.insert('helpdocssites', {
      name: s.name, description: '', subdomain: s.subdomain, customDomain: '', publicSiteEnabled: true,
      languageCode: 'en', editMethod: 'html',
    }, actor);
  }
}
