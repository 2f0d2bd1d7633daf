// Tickets: create (flat body as in Teamwork's samples, or wrapped {"ticket": {...}} as the
// SDK sends), get, list, PATCH, bulk PATCH /tickets/update.json, search, DELETE, and the
// attachment download path.

import { ApiError, notFound } from '../errors.ts';
import { compile, isObj, paginate, parsePaging } from '../query.ts';
import type { FilterView } from '../query.ts';
import { present } from '../present.ts';
import type { Ctx, Router } from '../http.ts';
import type { Ref, Ticket } from '../model.ts';
import { ref } from '../store.ts';
import type { Store } from '../store.ts';
import { STATUS_ACTIVE } from '../seed.ts';
import { addMessage, checkFiles, checkMessageBody, checkRecipients, recordEmail } from '../threads.ts';
import {
  Errors, V2, actorRef, baseView, bool, flat, isEmail, list, mustGet, readRef, readRefs, single, str, strings,
} from './common.ts';
import type { Deps } from './common.ts';
import { createCustomerWithEmail, findCustomerByEmail } from './customers.ts';
import { readCustomFieldValues } from './customfields.ts';
import { findByName } from './ticket-meta.ts';

export const TICKET_FILTER_KEYS = [
  'id', 'subject', 'status.id', 'inbox.id', 'customer.id', 'agent.id', 'priority.id', 'type.id', 'source.id', 'source',
  'tags.id', 'createdAt', 'updatedAt',
] as const;

export const ticketView = (store: Store, t: Ticket): FilterView => ({
  ...baseView(t),
  subject: t.subject,
  'status.id': t.status.id,
  'inbox.id': t.inbox.id,
  'customer.id': t.customer.id,
  'agent.id': t.agent?.id ?? null,
  'priority.id': t.priority?.id ?? null,
  'type.id': t.ticketType?.id ?? null,
  'source.id': t.source?.id ?? null,
  source: t.source ? store.get('ticketsources', t.source.id)?.name ?? null : null,
  'tags.id': t.tags.map((x) => x.id),
});

/**
 * The tickets a filter can match: straight by id when it names ids at its top level (the usual
 * bulk update), else every ticket. The predicate still decides; this only spares a full scan.
 */
function candidates(store: Store, filter: Record<string, unknown>): Ticket[] {
  const id = isObj(filter.id) ? filter.id : typeof filter.id === 'number' ? { $eq: filter.id } : null;
  const ids = id ? (Array.isArray(id.$in) ? id.$in : id.$eq !== undefined ? [id.$eq] : null) : null;
  if (!ids) return store.list('tickets');
  return [...new Set(ids)].flatMap((x) => {
    const t = typeof x === 'number' ? store.get('tickets', x) : undefined;
    return t ? [t] : [];
  });
}

const typeEnabledForInbox = (store: Store, typeId: number, inboxId: number): boolean =>
  !!store.get('tickettypes', typeId)?.inboxes.some((i) => i.id === inboxId);

function createTicket(deps: Deps, ctx: Ctx): Ticket {
  const { store, config } = deps;
  const raw = flat(ctx.body);
  const body = isObj(raw.ticket) ? raw.ticket : raw;
  const errs = new Errors();
  const subject = str(errs, body, 'subject', 'subject', true);
  const message = str(errs, body, 'message', 'message', true);
  if (message !== undefined) checkMessageBody(errs, message, 'message');
  const editMethod = str(errs, body, 'editMethod', 'editMethod') ?? 'html';
  if (editMethod !== 'html' && editMethod !== 'markdown') errs.add('editMethod', 'must be "html" or "markdown"');

  // "Customer ID or Email is required, but not both"; `email` top-level is the deprecated form.
  let customerId: number | undefined;
  let customerEmail: string | undefined;
  const cust = body.customer ?? (typeof body.email === 'string' ? { email: body.email } : undefined);
  if (!isObj(cust)) errs.required('customer');
  else if (cust.id !== undefined && cust.email !== undefined) errs.add('customer', 'give customer id or email, not both');
  else if (cust.id !== undefined) customerId = readRef(store, errs, cust, 'customers', 'customer');
  else if (isEmail(cust.email)) customerEmail = cust.email;
  else if (cust.email !== undefined) errs.add('customer.email', 'is not a valid email address', 'invalid_email');
  else errs.required('customer');

  if (body.inbox === undefined || body.inbox === null) errs.required('inbox');
  const inboxId = readRef(store, errs, body.inbox, 'inboxes', 'inbox');
  const agentId = readRef(store, errs, body.agent, 'users', 'agent');
  const statusId = readRef(store, errs, body.status, 'ticketstatuses', 'status');
  const priorityId = readRef(store, errs, body.priority, 'ticketpriorities', 'priority');
  const typeId = readRef(store, errs, body.type, 'tickettypes', 'type');
  const sourceId = readRef(store, errs, body.source, 'ticketsources', 'source');
  if (typeId !== undefined && inboxId !== undefined && !typeEnabledForInbox(store, typeId, inboxId)) {
    errs.add('type', `ticket type ${typeId} is not enabled for inbox ${inboxId}`);
  }
  const tags = readRefs(store, errs, body.tags, 'tags', 'tags') ?? [];
  const files = readRefs(store, errs, body.files, 'files', 'files') ?? [];
  checkFiles(store, errs, files.map((f) => f.id), 'files', config.requireFileConfirm);
  const customfields = readCustomFieldValues(store, errs, body.customfields, 'customfields', inboxId) ?? [];
  const cc = strings(errs, body, 'cc', 'cc') ?? [];
  const bcc = strings(errs, body, 'bcc', 'bcc') ?? [];
  checkRecipients(errs, cc, bcc, '', isEmail);
  const notify = bool(errs, body, 'notifyCustomer', 'notifyCustomer');
  errs.throwIfAny();

  const actor = actorRef(ctx);
  const customer = customerId !== undefined
    ? store.get('customers', customerId)!
    : findCustomerByEmail(store, customerEmail!) ?? createCustomerWithEmail(store, customerEmail!, {}, actor);
  const inbox = store.get('inboxes', inboxId!)!;
  const apiSource = findByName(deps, 'ticketsources', 'API');
  const ticket = store.insert('tickets', {
    subject: subject!, previewText: '',
    status: ref('ticketstatuses', statusId ?? inbox.ticketstatus?.id ?? STATUS_ACTIVE),
    priority: priorityId !== undefined ? ref('ticketpriorities', priorityId) : null,
    ticketType: typeId !== undefined ? ref('tickettypes', typeId) : null,
    source: sourceId !== undefined ? ref('ticketsources', sourceId) : apiSource ? ref('ticketsources', apiSource.id) : null,
    agent: agentId !== undefined ? ref('users', agentId) : null,
    customer: ref('customers', customer.id), inbox: ref('inboxes', inbox.id),
    tags: tags.filter((t) => !t.del).map((t) => ref('tags', t.id)), files: [], messages: [], customfields, cc, bcc,
    notifyCustomer: notify ?? true, messageCount: 0, isRead: false, originalRecipient: inbox.email, _sandbox: { via: 'v2' },
  }, actor);
  const msg = addMessage(store, {
    ticket, threadType: 'message', body: message!, editMethod, cc, bcc, fileIds: files.map((f) => f.id), author: actor,
  }, actor);
  // notifyCustomer omitted counts as true (server default unverified → assume the risky one).
  recordEmail(store, {
    reason: 'ticket-create', ticketId: ticket.id, messageId: msg.id, to: notify === false ? [] : [customer.email], cc, bcc,
  });
  return store.get('tickets', ticket.id)!;
}

/** Fields settable by PATCH (single or bulk). */
function applyUpdate(deps: Deps, errs: Errors, body: Record<string, unknown>, t: Ticket | null, prefix: string): (t: Ticket, actor: Ref) => void {
  const { store } = deps;
  const steps: Array<(t: Ticket) => Partial<Ticket>> = [];
  if ('subject' in body) {
    const s = str(errs, body, 'subject', `${prefix}subject`, true);
    if (s) steps.push(() => ({ subject: s }));
  }
  const refField = (key: string, kind: 'ticketstatuses' | 'ticketpriorities' | 'tickettypes' | 'users' | 'inboxes' | 'customers' | 'ticketsources',
    field: 'status' | 'priority' | 'ticketType' | 'agent' | 'inbox' | 'customer' | 'source', nullable: boolean) => {
    if (!(key in body)) return;
    if (body[key] === null || (isObj(body[key]) && (body[key] as { id?: unknown }).id === 0)) {
      if (nullable) steps.push(() => ({ [field]: null }) as Partial<Ticket>);
      else errs.add(`${prefix}${key}`, 'cannot be cleared');
      return;
    }
    const id = readRef(store, errs, body[key], kind, `${prefix}${key}`);
    if (id !== undefined) steps.push(() => ({ [field]: ref(kind, id) }) as Partial<Ticket>);
  };
  refField('status', 'ticketstatuses', 'status', false);
  refField('priority', 'ticketpriorities', 'priority', true);
  refField('type', 'tickettypes', 'ticketType', true);
  refField('agent', 'users', 'agent', true);
  refField('inbox', 'inboxes', 'inbox', false);
  refField('customer', 'customers', 'customer', false);
  refField('source', 'ticketsources', 'source', true);
  const tags = readRefs(store, errs, body.tags, 'tags', `${prefix}tags`);
  if (tags) {
    steps.push((cur) => {
      const drop = new Set(tags.filter((x) => x.del).map((x) => x.id));
      const next = cur.tags.filter((x) => !drop.has(x.id));
      for (const x of tags) if (!x.del && !next.some((n) => n.id === x.id)) next.push(ref('tags', x.id));
      return { tags: next };
    });
  }
  if (body.customfields !== undefined) {
    const inboxId = isObj(body.inbox) && typeof body.inbox.id === 'number' ? body.inbox.id : t?.inbox.id;
    const values = readCustomFieldValues(store, errs, body.customfields, `${prefix}customfields`, inboxId, t?.customfields);
    if (values) steps.push((cur) => ({ customfields: t ? values : mergeValues(cur.customfields, values) }));
  }
  return (cur, actor) => {
    const patch = steps.reduce<Partial<Ticket>>((acc, s) => ({ ...acc, ...s({ ...cur, ...acc }) }), {});
    const typeId = (patch.ticketType ?? cur.ticketType)?.id;
    const inboxId = (patch.inbox ?? cur.inbox).id;
    if (typeId !== undefined && (patch.ticketType || patch.inbox) && !typeEnabledForInbox(store, typeId, inboxId)) {
      throw new ApiError(400, [{ source: `${prefix}type`, detail: `ticket type ${typeId} is not enabled for inbox ${inboxId}`, code: 'invalid' }]);
    }
    store.update('tickets', cur.id, patch, actor);
  };
}

const mergeValues = (cur: Ticket['customfields'], next: Ticket['customfields']): Ticket['customfields'] => {
  const m = new Map(cur.map((v) => [v.id, v]));
  for (const v of next) m.set(v.id, v);
  return [...m.values()];
};

function search(deps: Deps, ctx: Ctx) {
  const { store } = deps;
  const q = ctx.query;
  const paging = parsePaging(q, 'search');
  const ids = (name: string): number[] | null => {
    const v = q.get(name);
    if (v === null || v === '') return null;
    return v.split(',').map(Number).filter(Number.isInteger);
  };
  const date = (name: string): string | null => {
    const v = q.get(name);
    if (v === null || v === '') return null;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new ApiError(400, [{ source: name, detail: 'must be YYYY-MM-DD', code: 'invalid' }]);
    return v;
  };
  const text = (q.get('search') ?? '').toLowerCase();
  const inboxes = ids('inboxes'); const customers = ids('customers'); const statuses = ids('statuses');
  const sources = ids('sources'); const tags = ids('tags'); const agents = ids('agents');
  const start = date('startDate'); const end = date('endDate');
  const hits = store.list('tickets').filter((t) => {
    if (inboxes && !inboxes.includes(t.inbox.id)) return false;
    if (customers && !customers.includes(t.customer.id)) return false;
    if (statuses && !statuses.includes(t.status.id)) return false;
    if (sources && !(t.source && sources.includes(t.source.id))) return false;
    if (agents && !(t.agent && agents.includes(t.agent.id))) return false;
    if (tags && !t.tags.some((x) => tags.includes(x.id))) return false;
    const day = t.createdAt.slice(0, 10); // whole days, as documented
    if (start && day < start) return false;
    if (end && day > end) return false;
    if (text) {
      const bodies = t.messages.map((m) => store.get('messages', m.id)?.message ?? '').join(' ');
      if (!`${t.subject} ${bodies}`.toLowerCase().includes(text)) return false;
    }
    return true;
  });
  const page = paginate(hits, paging);
  return { status: 200, json: { tickets: page.items.map((t) => present('tickets', t, store.shapes())), included: {}, meta: page.meta, pagination: page.pagination } };
}

export function registerTickets(r: Router, deps: Deps): void {
  const { store } = deps;
  const o = { family: 'tickets' };
  r.add('GET', `${V2}/tickets.json`, 'v2', o, (ctx) => list(deps, ctx, {
    kind: 'tickets', key: 'tickets', filterKeys: TICKET_FILTER_KEYS, view: (t) => ticketView(store, t),
    orderKeys: ['id', 'createdAt', 'updatedAt', 'subject'],
  }));
  r.add('GET', `${V2}/tickets/:id.json`, 'v2', o, (ctx) => single(store, 'ticket', 'tickets', mustGet(store, 'tickets', ctx.params.id), ctx));
  r.add('POST', `${V2}/tickets.json`, 'v2', o, (ctx) => single(store, 'ticket', 'tickets', createTicket(deps, ctx), null, 201, true));
  r.add('PATCH', `${V2}/tickets/:id.json`, 'v2', o, (ctx) => {
    const t = mustGet(store, 'tickets', ctx.params.id);
    const wrapped = flat(ctx.body);
    const errs = new Errors();
    if (!isObj(wrapped.ticket)) errs.add('ticket', 'body must be {"ticket": {...}}', 'required');
    const apply = applyUpdate(deps, errs, isObj(wrapped.ticket) ? wrapped.ticket : {}, t, 'ticket.');
    errs.throwIfAny();
    apply(t, actorRef(ctx));
    return single(store, 'ticket', 'tickets', store.get('tickets', t.id)!, null, 200, true);
  });
  r.add('PATCH', `${V2}/tickets/update.json`, 'v2', o, (ctx) => {
    const body = flat(ctx.body);
    const errs = new Errors();
    const args = isObj(body.filter_args) ? body.filter_args : null;
    if (!args || !isObj(args.filter)) {
      errs.required('filter_args.filter');
      errs.throwIfAny();
    }
    const pred = compile(args!.filter, TICKET_FILTER_KEYS);
    const { filter_args: _f, ...changes } = body;
    const apply = applyUpdate(deps, errs, changes, null, '');
    if (Object.keys(changes).length === 0) errs.add('body', 'nothing to update', 'required');
    errs.throwIfAny();
    const matched = candidates(store, args!.filter as Record<string, unknown>).filter((t) => pred(ticketView(store, t)));
    if (args!.bulkDryExecute !== true) for (const t of matched) apply(t, actorRef(ctx));
    return { status: 200, json: { tickets: matched.map((t) => present('tickets', store.get('tickets', t.id)!, store.shapes())), meta: { count: matched.length, dryRun: args!.bulkDryExecute === true } } };
  });
  r.add('DELETE', `${V2}/tickets/:id.json`, 'v2', o, (ctx) => {
    const t = mustGet(store, 'tickets', ctx.params.id);
    const actor = actorRef(ctx);
    for (const m of t.messages) if (store.get('messages', m.id)) store.softDelete('messages', m.id, actor);
    store.softDelete('tickets', t.id, actor);
    return { status: 204 };
  });
  r.add('GET', `${V2}/search/tickets.json`, 'v2', { family: 'search' }, (ctx) => search(deps, ctx));
  r.add('GET', `${V2}/tickets/:ticketId/files/:fileId/download`, 'v2', { family: 'files' }, (ctx) => {
    const t = mustGet(store, 'tickets', ctx.params.ticketId);
    const fileId = Number(ctx.params.fileId);
    const f = store.get('files', fileId);
    const bytes = store.blobs.get(fileId);
    if (!f || !bytes || !t.files.some((x) => x.id === fileId)) throw notFound('file', `no file ${fileId} on ticket ${t.id}`);
    return {
      status: 200, raw: bytes,
      headers: {
        'content-type': f.mimeType || 'application/octet-stream',
        'content-disposition': `attachment; filename="${f.fileName.replace(/"/g, '')}"`,
      },
    };
  });
}
