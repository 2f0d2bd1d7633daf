// v1 bulk ticket import: POST /desk/v1/import/tickets.json. Documented: source (dedupe key with
// ticket id), fallbackInboxId, tickets[] with threads, authors by email (created if absent;
// agents as "invited"), attachments fetched by Desk from `downloadurl`, every ticket Closed,
// re-import skips. Undocumented and chosen here (README): per-request ticket cap → 400, body
// cap → 413, per-ticket outcome in the response, a failed download fails only that ticket.

import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import { isObj } from '../query.ts';
import type { ErrorItem } from '../errors.ts';
import type { Router } from '../http.ts';
import type { Ref, User } from '../model.ts';
import { importKey, isoSeconds, ref } from '../store.ts';
import type { Store } from '../store.ts';
import { STATUS_CLOSED } from '../seed.ts';
import { LIMITS, addMessage, checkMessageBody, checkRecipients } from '../threads.ts';
import { Errors, flat, isEmail } from './common.ts';
import type { Deps } from './common.ts';
import { createCustomerWithEmail, findCustomerByEmail } from './customers.ts';
import { findUserByEmail, inviteAgent } from './users.ts';
import { findByName } from './ticket-meta.ts';

interface Person { email: string; firstName: string; lastName: string; kind: 'agent' | 'customer' }
interface Attachment { filename: string; url: string }
interface ThreadIn { body: string; type: 'message' | 'note'; createdBy: Person; cc: string[]; bcc: string[]; attachments: Attachment[]; createdAt?: string; updatedAt?: string }
interface TicketIn {
  id: number; subject: string; customer: Person; assignedTo: Person | null; emailSource: string | null;
  priority: string | null; type: string | null; tags: string[]; threads: ThreadIn[]; createdAt?: string; updatedAt?: string;
}
interface Downloaded { filename: string; url: string; bytes: Buffer; mimeType: string }

export interface ImportOutcome {
  id: number | null;
  ticketId?: number;
  status: 'imported' | 'skipped' | 'failed';
  errors?: ErrorItem[];
}

const AGENT_TYPES = new Set(['user', 'agent']);

function readPerson(errs: Errors, v: unknown, src: string, expect: 'agent' | 'customer' | 'any'): Person | null {
  if (!isObj(v)) {
    errs.required(src);
    return null;
  }
  if (!isEmail(v.email)) {
    errs.add(`${src}.email`, v.email === undefined ? 'must be set' : 'is not a valid email address', v.email === undefined ? 'required' : 'invalid_email');
    return null;
  }
  const t = typeof v.type === 'string' ? v.type : expect === 'customer' ? 'customer' : expect === 'agent' ? 'user' : undefined;
  let kind: 'agent' | 'customer';
  if (t === 'customer') kind = 'customer';
  else if (t !== undefined && AGENT_TYPES.has(t)) kind = 'agent';
  else {
    errs.add(`${src}.type`, 'must be "customer" or "user"', t === undefined ? 'required' : 'invalid');
    return null;
  }
  if (expect !== 'any' && kind !== expect) errs.add(`${src}.type`, `must be ${expect === 'agent' ? '"user"' : '"customer"'}`);
  return { email: v.email, firstName: typeof v.firstName === 'string' ? v.firstName : '', lastName: typeof v.lastName === 'string' ? v.lastName : '', kind };
}

function readDate(errs: Errors, v: unknown, src: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(Date.parse(v))) {
    errs.add(src, 'must be an RFC 3339 date-time');
    return undefined;
  }
  return isoSeconds(Date.parse(v));
}

function readTicket(v: unknown, i: number): { ticket: TicketIn | null; errors: ErrorItem[]; id: number | null } {
  const errs = new Errors();
  const p = `tickets[${i}]`;
  if (!isObj(v)) return { ticket: null, id: null, errors: [{ source: p, detail: 'must be an object', code: 'invalid' }] };
  const id = typeof v.id === 'number' && Number.isInteger(v.id) && v.id > 0 ? v.id : null;
  if (id === null) errs.add(`${p}.id`, 'must be a positive integer', v.id === undefined ? 'required' : 'invalid');
  if (typeof v.subject !== 'string' || v.subject === '') errs.required(`${p}.subject`);
  const customer = readPerson(errs, v.customer, `${p}.customer`, 'customer');
  const assignedTo = v.assignedTo === undefined || v.assignedTo === null ? null : readPerson(errs, v.assignedTo, `${p}.assignedTo`, 'agent');
  const optStr = (k: string): string | null => {
    if (v[k] === undefined || v[k] === null || v[k] === '') return null;
    if (typeof v[k] !== 'string') errs.add(`${p}.${k}`, 'must be a string');
    return typeof v[k] === 'string' ? v[k] : null;
  };
  const emailSource = optStr('emailSource');
  const priority = optStr('priority');
  const type = optStr('type');
  const tags: string[] = [];
  if (v.tags !== undefined && v.tags !== null) {
    if (!Array.isArray(v.tags) || v.tags.some((t) => typeof t !== 'string' || t === '')) errs.add(`${p}.tags`, 'must be an array of tag names');
    else tags.push(...(v.tags as string[]));
  }
  const threads: ThreadIn[] = [];
  if (!Array.isArray(v.threads) || v.threads.length === 0) errs.add(`${p}.threads`, 'must be a non-empty array', 'required');
  else v.threads.forEach((th, j) => {
    const tp = `${p}.threads[${j}]`;
    if (!isObj(th)) return errs.add(tp, 'must be an object');
    if (typeof th.body !== 'string' || th.body === '') errs.required(`${tp}.body`);
    else checkMessageBody(errs, th.body, `${tp}.body`);
    if (th.type !== 'message' && th.type !== 'note') errs.add(`${tp}.type`, 'must be "message" or "note"', th.type === undefined ? 'required' : 'invalid');
    // Notes are private: their author must be an agent (documented).
    const by = readPerson(errs, th.createdBy, `${tp}.createdBy`, th.type === 'note' ? 'agent' : 'any');
    // Teamwork's import example sends cc/bcc as one string (or null); no Teamwork source shows
    // the import taking an array, so an array is refused rather than guessed at.
    const list = (k: 'cc' | 'bcc'): string[] => {
      const x = th[k];
      if (x === undefined || x === null || x === '') return [];
      if (typeof x !== 'string') { errs.add(`${tp}.${k}`, 'must be a string of comma-separated email addresses (or null)'); return []; }
      return x.split(',').map((e) => e.trim()).filter(Boolean);
    };
    const cc = list('cc'); const bcc = list('bcc');
    checkRecipients(errs, cc, bcc, `${tp}.`, isEmail);
    const attachments: Attachment[] = [];
    if (th.attachments !== undefined && th.attachments !== null) {
      if (!Array.isArray(th.attachments)) errs.add(`${tp}.attachments`, 'must be an array');
      else th.attachments.forEach((a, k) => {
        const ap = `${tp}.attachments[${k}]`;
        if (!isObj(a)) return errs.add(ap, 'must be {filename, downloadurl}');
        if (typeof a.filename !== 'string' || a.filename === '') errs.required(`${ap}.filename`);
        if (typeof a.downloadurl !== 'string' || !/^https?:\/\//i.test(a.downloadurl)) errs.add(`${ap}.downloadurl`, 'must be an http(s) URL', a.downloadurl === undefined ? 'required' : 'invalid');
        else if (typeof a.filename === 'string' && a.filename) attachments.push({ filename: a.filename, url: a.downloadurl });
      });
    }
    const createdAt = readDate(errs, th.createdAt, `${tp}.createdAt`);
    const updatedAt = readDate(errs, th.updatedAt, `${tp}.updatedAt`);
    if (by && typeof th.body === 'string') {
      threads.push({ body: th.body, type: th.type as 'message' | 'note', createdBy: by, cc, bcc, attachments,
        ...(createdAt ? { createdAt } : {}), ...(updatedAt ? { updatedAt } : {}) });
    }
  });
  const createdAt = readDate(errs, v.createdAt, `${p}.createdAt`);
  const updatedAt = readDate(errs, v.updatedAt, `${p}.updatedAt`);
  if (errs.any || !customer || id === null) return { ticket: null, id, errors: errs.items };
  return {
    id, errors: [],
    ticket: { id, subject: v.subject as string, customer, assignedTo, emailSource, priority, type, tags, threads,
      ...(createdAt ? { createdAt } : {}), ...(updatedAt ? { updatedAt } : {}) },
  };
}

const guessMime = (name: string, header: string | undefined): string => {
  if (header && !/octet-stream/i.test(header)) return header.split(';')[0]!.trim();
  const ext = name.toLowerCase().split('.').pop() ?? '';
  const map: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', pdf: 'application/pdf', txt: 'text/plain', csv: 'text/csv', json: 'application/json', zip: 'application/zip' };
  return map[ext] ?? 'application/octet-stream';
};

/** Downloads one thread's attachments; total per thread capped at the 20 MB reply limit. */
async function download(dispatcher: Dispatcher, list: Attachment[], timeoutMs: number): Promise<Downloaded[]> {
  const out: Downloaded[] = [];
  let total = 0;
  for (const a of list) {
    let res;
    try {
      res = await request(a.url, { method: 'GET', dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    } catch (err) {
      throw new Error(`download of ${a.filename} from ${a.url} failed: ${(err as Error).message}`);
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump();
      throw new Error(`download of ${a.filename} from ${a.url} failed: HTTP ${res.statusCode}`);
    }
    const chunks: Buffer[] = [];
    for await (const c of res.body as AsyncIterable<Buffer>) {
      total += c.length;
      if (total > LIMITS.attachmentsBytesPerReply) {
        res.body.destroy();
        throw new Error(`attachments of one thread exceed ${LIMITS.attachmentsBytesPerReply} bytes`);
      }
      chunks.push(c);
    }
    const ct = res.headers['content-type'];
    out.push({ filename: a.filename, url: a.url, bytes: Buffer.concat(chunks), mimeType: guessMime(a.filename, Array.isArray(ct) ? ct[0] : ct) });
  }
  return out;
}

function resolvePerson(store: Store, p: Person, actor: Ref): Ref {
  if (p.kind === 'agent') {
    const u: User = findUserByEmail(store, p.email) ?? inviteAgent(store, p, actor);
    return ref('users', u.id);
  }
  const c = findCustomerByEmail(store, p.email) ?? createCustomerWithEmail(store, p.email, p, actor);
  return ref('customers', c.id);
}

export function registerImport(r: Router, deps: Deps, dispatcher: Dispatcher): void {
  const { store, config } = deps;
  const inFlight = new Set<string>(); // (source, id) being imported by a concurrent request

  r.add('POST', '/desk/v1/import/tickets.json', 'v1', { family: 'import', bodyLimit: () => config.importMaxBodyBytes }, async (ctx) => {
    const body = flat(ctx.body);
    const errs = new Errors();
    const source = typeof body.source === 'string' && body.source.trim() ? body.source.trim() : null;
    if (!source) errs.add('source', 'must be a non-empty string', 'required');
    const fallback = body.fallbackInboxId;
    if (fallback === undefined || fallback === null) errs.required('fallbackInboxId');
    else if (typeof fallback !== 'number' || !store.get('inboxes', fallback)) errs.unknownId('fallbackInboxId', fallback);
    if (!Array.isArray(body.tickets) || body.tickets.length === 0) errs.add('tickets', 'must be a non-empty array', 'required');
    else if (body.tickets.length > config.importMaxTickets) {
      errs.add('tickets', `at most ${config.importMaxTickets} tickets per request (got ${body.tickets.length})`, 'too_many');
    }
    errs.throwIfAny();

    const actor: Ref = { id: ctx.user.id, type: 'users' };
    const outcomes: ImportOutcome[] = [];
    for (const [i, raw] of (body.tickets as unknown[]).entries()) {
      const parsed = readTicket(raw, i);
      const key = parsed.id !== null ? importKey(source!, parsed.id) : null;
      const done = key ? store.imports.get(key) : undefined;
      if (done) { outcomes.push({ id: parsed.id, ticketId: done.ticketId, status: 'skipped' }); continue; }
      if (key && inFlight.has(key)) { outcomes.push({ id: parsed.id, status: 'skipped', errors: [{ source: `tickets[${i}].id`, detail: 'being imported by a concurrent request', code: 'in_progress' }] }); continue; }
      if (!parsed.ticket) { outcomes.push({ id: parsed.id, status: 'failed', errors: parsed.errors }); continue; }
      const t = parsed.ticket;
      const inbox = (t.emailSource && store.list('inboxes').find((x) => x.email.toLowerCase() === t.emailSource!.toLowerCase())) || store.get('inboxes', fallback as number)!;
      const priority = t.priority ? findByName(deps, 'ticketpriorities', t.priority) : undefined;
      const ttype = t.type ? findByName(deps, 'tickettypes', t.type) : undefined;
      const e2 = new Errors();
      if (t.priority && !priority) e2.add(`tickets[${i}].priority`, `no priority named "${t.priority}"`, 'not_found');
      if (t.type && !ttype) e2.add(`tickets[${i}].type`, `no ticket type named "${t.type}"`, 'not_found');
      if (ttype && !ttype.inboxes.some((x) => x.id === inbox.id)) e2.add(`tickets[${i}].type`, `ticket type "${ttype.name}" is not enabled for inbox ${inbox.id}`);
      if (e2.any) { outcomes.push({ id: t.id, status: 'failed', errors: e2.items }); continue; }

      inFlight.add(key!);
      try {
        let files: Downloaded[][];
        try {
          files = [];
          for (const th of t.threads) files.push(await download(dispatcher, th.attachments, config.importDownloadTimeoutMs));
        } catch (err) {
          outcomes.push({ id: t.id, status: 'failed', errors: [{ source: `tickets[${i}].threads`, detail: (err as Error).message, code: 'download_failed' }] });
          continue;
        }
        if (store.imports.has(key!)) { outcomes.push({ id: t.id, ticketId: store.imports.get(key!)!.ticketId, status: 'skipped' }); continue; }
        outcomes.push({ id: t.id, ticketId: writeTicket(deps, source!, t, inbox.id, priority?.id, ttype?.id, files, actor), status: 'imported' });
      } finally {
        inFlight.delete(key!);
      }
    }
    return { status: 200, json: { tickets: outcomes } };
  });
}

/** All writes of one imported ticket, synchronous so no other request interleaves. */
function writeTicket(deps: Deps, source: string, t: TicketIn, inboxId: number, priorityId: number | undefined, typeId: number | undefined,
  files: Downloaded[][], actor: Ref): number {
  const { store } = deps;
  const src = findByName(deps, 'ticketsources', source) ?? store.insert('ticketsources', { name: source, isCustom: true }, actor);
  const tagRefs = [...new Set(t.tags.map((n) => n.toLowerCase()))].map((lc) => {
    const name = t.tags.find((n) => n.toLowerCase() === lc)!;
    return ref('tags', (findByName(deps, 'tags', name) ?? store.insert('tags', { name, color: '' }, actor)).id);
  });
  const customer = resolvePerson(store, t.customer, actor);
  const agent = t.assignedTo ? resolvePerson(store, t.assignedTo, actor) : null;
  const createdAt = t.createdAt ?? t.threads[0]?.createdAt ?? store.timestamp();
  const ticket = store.insert('tickets', {
    subject: t.subject, previewText: '', status: ref('ticketstatuses', STATUS_CLOSED),
    priority: priorityId !== undefined ? ref('ticketpriorities', priorityId) : null,
    ticketType: typeId !== undefined ? ref('tickettypes', typeId) : null,
    source: ref('ticketsources', src.id), agent, customer, inbox: ref('inboxes', inboxId), tags: tagRefs,
    files: [], messages: [], customfields: [], cc: [], bcc: [], notifyCustomer: false, messageCount: 0, isRead: true,
    originalRecipient: store.get('inboxes', inboxId)!.email, createdAt,
    _sandbox: { via: 'import', importSource: source, importId: t.id },
  }, actor);
  t.threads.forEach((th, j) => {
    const author = resolvePerson(store, th.createdBy, actor);
    const at = th.createdAt ?? createdAt;
    const fileIds = files[j]!.map((d) => {
      const f = store.insert('files', {
        fileName: d.filename, mimeType: d.mimeType, size: d.bytes.length, disposition: 'attachment', createdAt: at,
        _sandbox: { uploadKey: '', uploaded: true, sha256: createHash('sha256').update(d.bytes).digest('hex'), sourceUrl: d.url },
      }, author);
      store.blobs.set(f.id, d.bytes);
      return f.id;
    });
    addMessage(store, {
      ticket, threadType: th.type, body: th.body, editMethod: 'html', cc: th.cc, bcc: th.bcc, fileIds, author,
      createdAt: at, updatedAt: th.updatedAt ?? at,
    }, actor);
  });
  // Original dates win over the bookkeeping updates above.
  const rec = store.raw('tickets', ticket.id)!;
  rec.createdAt = createdAt;
  rec.updatedAt = t.updatedAt ?? t.threads[t.threads.length - 1]?.createdAt ?? createdAt;
  store.imports.set(importKey(source, t.id), { source, sourceId: t.id, ticketId: ticket.id, importedAt: store.timestamp() });
  store.changed();
  return ticket.id;
}

