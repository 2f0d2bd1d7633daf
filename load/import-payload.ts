import type { Config } from '../src/config.ts';
import { DeskportError } from '../src/errors.ts';
import type { CanonicalComment, CanonicalPerson, CanonicalTicket } from '../transform/canonical.ts';
import type { TargetDirectory } from './target-directory.ts';

/** Teamwork Desk's limit on one reply or note (account limits page). */
export const MAX_BODY_CHARS = 1_038_336;

/** A person as the v1 import takes them: matched by email, created if absent. */
export interface ImportUser { email: string; firstName: string; lastName: string; type: 'user' | 'customer' }

export interface ImportThread {
  body: string;
  type: 'message' | 'note';
  createdBy: ImportUser;
  cc: string[];
  bcc: string[];
  createdAt: string;
  updatedAt: string;
  attachments: { filename: string; downloadurl: string }[];
}

export interface ImportTicket {
  id: number;
  subject: string;
  customer: ImportUser;
  assignedTo?: ImportUser;
  /** The routed inbox's address (R13); absent: the import's fallbackInboxId. */
  emailSource?: string;
  priority?: string;
  type?: string;
  tags: string[];
  createdAt: string;
  updatedAt: string;
  threads: ImportThread[];
}

export interface ImportContext {
  source: string;
  people: Map<string, CanonicalPerson>;
  directory: TargetDirectory;
  mapping: Config['mapping'];
  /** The agent who signs notes whose original author cannot (not an agent of the target). */
  fallbackAgent: ImportUser;
}

/** Where a source customer has no email, a stable placeholder keeps the ticket migratable. */
export function placeholderEmail(source: string, personSourceId: string, domain: string): string {
  return `${source}-user-${personSourceId}@${domain}`;
}

function asCustomer(ctx: ImportContext, sourceId: string): ImportUser {
  const p = ctx.people.get(sourceId);
  return {
    email: p?.email ?? placeholderEmail(ctx.source, sourceId, ctx.mapping.placeholderEmailDomain),
    firstName: p?.firstName || p?.name || 'Unknown',
    lastName: p?.lastName ?? '',
    type: 'customer',
  };
}

/** A source agent as a target agent, only when the target has that agent (R9: never invent agents). */
function asAgent(ctx: ImportContext, sourceId: string | null): ImportUser | undefined {
  if (sourceId === null) return undefined;
  const p = ctx.people.get(sourceId);
  if (!p || p.role !== 'agent') return undefined;
  const target = ctx.directory.agent(p.email);
  if (!target) return undefined;
  return { email: target.email!.toLowerCase(), firstName: target.firstName ?? p.firstName, lastName: target.lastName ?? p.lastName, type: 'user' };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
}

/** R2: when the target cannot carry the original author, a header at the top of the body does. */
export function authorHeader(person: CanonicalPerson | undefined, authorSourceId: string | null, createdAt: string): string {
  const who = person ? `${person.name}${person.email ? ` <${person.email}>` : ''}` : `unknown user ${authorSourceId ?? ''}`.trim();
  return `<p><em>Originally written by ${escapeHtml(who)} on ${escapeHtml(createdAt)}</em></p>`;
}

function thread(ctx: ImportContext, c: CanonicalComment, cc: string[]): ImportThread {
  const author = c.authorSourceId ? ctx.people.get(c.authorSourceId) : undefined;
  const agent = asAgent(ctx, c.authorSourceId);
  let createdBy: ImportUser;
  let body = c.bodyHtml;
  if (agent) createdBy = agent;
  else if (author && author.role === 'customer' && c.public) createdBy = asCustomer(ctx, author.sourceId);
  else {
    // A private note by a customer, or anything by an agent the target does not have:
    // signed by the fallback agent, the original author kept in a header.
    createdBy = ctx.fallbackAgent;
    body = authorHeader(author, c.authorSourceId, c.createdAt) + body;
  }
  return { body, type: c.public ? 'message' : 'note', createdBy, cc, bcc: [], createdAt: c.createdAt, updatedAt: c.createdAt, attachments: [] };
}

/** The v1 import record for one ticket with its whole history, in original order. */
export function buildImportTicket(ctx: ImportContext, t: CanonicalTicket, comments: CanonicalComment[]): ImportTicket {
  const ordered = [...comments].sort((a, b) => a.position - b.position);
  const cc = t.ccSourceIds.map((id) => ctx.people.get(id)?.email).filter((e): e is string => !!e);
  const assignedTo = asAgent(ctx, t.assigneeSourceId);
  const emailSource = routedInboxEmail(ctx, t);
  return {
    id: Number(t.sourceId),
    subject: t.subject || '(no subject)',
    customer: asCustomer(ctx, t.requesterSourceId),
    ...(assignedTo ? { assignedTo } : {}),
    ...(emailSource ? { emailSource } : {}),
    ...(t.priority ? { priority: t.priority } : {}),
    ...(t.type ? { type: t.type } : {}),
    tags: t.tags,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    // R6: the ticket's CCs ride on its first message.
    threads: ordered.map((c, i) => checkLength(c.sourceId, thread(ctx, c, i === 0 ? cc : []))),
  };
}

/** R13: the routed inbox by name → its address; an inbox the target lacks fails the ticket (preflight lists them). */
function routedInboxEmail(ctx: ImportContext, t: CanonicalTicket): string | undefined {
  if (!t.inbox) return undefined;
  const name = t.inbox.name.toLowerCase();
  const inbox = ctx.directory.inboxes.find((i) => i.name?.toLowerCase() === name);
  if (!inbox?.email) {
    throw new DeskportError('DESKPORT_NO_INBOX', `ticket routed to inbox "${t.inbox.name}" (${t.inbox.rule}), which the target does not have${inbox ? ' with an address' : ''}`, {
      hint: 'Create the inbox in Teamwork Desk or change inboxes in the mapping file, then run transform --remap.',
    });
  }
  return inbox.email;
}

/** A body over the target's limit fails its ticket with the reason, before any call is spent. */
function checkLength(commentId: string, t: ImportThread): ImportThread {
  if (t.body.length > MAX_BODY_CHARS) {
    throw new DeskportError('DESKPORT_BODY_TOO_LONG', `comment ${commentId} has ${t.body.length} characters; Teamwork Desk accepts at most ${MAX_BODY_CHARS} per message`, {
      hint: 'Shorten the comment in the source, or exclude the ticket with a filter.',
    });
  }
  return t;
}
