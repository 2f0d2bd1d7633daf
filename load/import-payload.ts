import type { Config } from '../core/config.ts';
import { DeskportError } from '../core/errors.ts';
import { escapeHtml, IMG_TAG, imgSrc } from '../core/html.ts';
import type { LoadAttachment } from '../staging/index.ts';
import type { CanonicalComment, CanonicalPerson, CanonicalTicket } from '../staging/canonical.ts';
import { keptAssignee, keptAssigneeHeader, targetAgentOf } from './original-assignee.ts';
import type { TargetDirectory, TargetUser } from './target-directory.ts';

/** Teamwork Desk's limit on one reply or note (account limits page). */
export const MAX_BODY_CHARS = 1_038_336;
/** Teamwork Desk's limit on the attachments of one reply (account limits page). */
export const MAX_ATTACHMENT_BYTES_PER_REPLY = 20 * 1024 * 1024;

/** A person as the v1 import takes them: matched by email, created if absent. */
export interface ImportUser { email: string; firstName: string; lastName: string; type: 'user' | 'customer' }

export interface ImportThread {
  body: string;
  type: 'message' | 'note';
  createdBy: ImportUser;
  /**
   * Recipients as Teamwork's import example sends them: one comma-separated string, or null
   * (`postRequests/Import ticket loop.js`; no Teamwork source shows the import taking arrays).
   */
  cc: string | null;
  bcc: string | null;
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
  /** Attachment rows (blob store) by comment source id. */
  attachments?: Map<string, LoadAttachment[]>;
  /** A download URL the target can fetch a blob from; absent when no blob server runs. */
  signUrl?: (blobPath: string, fileName: string) => string;
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

/** A target agent as the import names it. */
function importAgent(target: TargetUser, p?: CanonicalPerson): ImportUser {
  return { email: target.email!.toLowerCase(), firstName: target.firstName ?? p?.firstName ?? '', lastName: target.lastName ?? p?.lastName ?? '', type: 'user' };
}

/** A source agent as a target agent, only when the target has that agent (R9: never invent agents). */
function asAgent(ctx: ImportContext, sourceId: string | null): ImportUser | undefined {
  if (sourceId === null) return undefined;
  const p = ctx.people.get(sourceId);
  const target = targetAgentOf(ctx.directory, p);
  return target ? importAgent(target, p) : undefined;
}


/**
 * R2: when the target cannot carry the original author, a header at the top of the body does.
 * Someone without an email (a phone-only caller) is named with their phone, the one handle the
 * source has for them. `label` names an author who is no person (the source's system author,
 * e.g. "Zendesk system").
 */
export function authorHeader(person: CanonicalPerson | undefined, authorSourceId: string | null, createdAt: string, label?: string | null): string {
  const handle = person?.email ? ` <${person.email}>` : person?.phone ? ` (phone ${person.phone})` : '';
  const who = person ? `${person.name || `user ${person.sourceId}`}${handle}` : label ?? `unknown user ${authorSourceId ?? ''}`.trim();
  return `<p><em>Originally written by ${escapeHtml(who)} on ${escapeHtml(createdAt)}</em></p>`;
}

function thread(ctx: ImportContext, c: CanonicalComment, cc: string[], ccHeader: boolean, assigneeLine: string): ImportThread[] {
  const author = c.authorSourceId ? ctx.people.get(c.authorSourceId) : undefined;
  const agent = asAgent(ctx, c.authorSourceId);
  // A private note by a customer, or anything by an agent the target does not have, is signed
  // by the fallback agent with the original author in a header (R2); option `always` adds the
  // header everywhere.
  const createdBy: ImportUser = agent
    ?? (author && author.role === 'customer' && c.public ? asCustomer(ctx, author.sourceId) : ctx.fallbackAgent);
  let body = assigneeLine + c.bodyHtml;
  // R6 option: the CCs also listed at the top of the first message.
  if (ccHeader && cc.length > 0) body = `<p><em>CC: ${cc.map(escapeHtml).join(', ')}</em></p>` + body;
  // A customer without an email is signed as a placeholder address, which is not them: the header names them.
  const signedAsThem = createdBy !== ctx.fallbackAgent && !(author && !agent && !author.email);
  if (!signedAsThem || c.authorHeader) body = authorHeader(author, c.authorSourceId, c.createdAt, c.authorLabel) + body;
  const files = attachmentsOf(ctx, c);
  body = files.body(body);
  const groups = files.groups;
  const base = { type: c.public ? 'message' as const : 'note' as const, createdBy, cc: recipients(cc), bcc: null, createdAt: c.createdAt, updatedAt: c.createdAt };
  // Attachments over one reply's 20 MB ride on private notes right after it, nothing dropped.
  return [
    { ...base, body, attachments: groups[0] ?? [] },
    ...groups.slice(1).map((g, i) => ({
      ...base, type: 'note' as const, createdBy: ctx.fallbackAgent, cc: null,
      body: `<p><em>Attachments of the message above, continued (${i + 2}/${groups.length})</em></p>`, attachments: g,
    })),
  ];
}


/** Addresses as the import takes them: comma-separated, or null when there are none. */
function recipients(emails: string[]): string | null {
  return emails.length > 0 ? emails.join(',') : null;
}

/**
 * The comment's attachments as import download URLs, in groups under the per-reply limit, and a
 * body rewrite: inline images become attachments (the import cannot link them into the body), so
 * each `<img>` turns into a marker naming its file; what could not be fetched is said in the body.
 */
function attachmentsOf(ctx: ImportContext, c: CanonicalComment): { groups: ImportThread['attachments'][]; body(html: string): string } {
  const rows = new Map((ctx.attachments?.get(c.sourceId) ?? []).map((a) => [a.sourceId, a]));
  // Attachments the source listed but extraction never saw (e.g. an export file without fetching).
  for (const a of c.attachments) {
    if (!rows.has(a.sourceId)) {
      rows.set(a.sourceId, { sourceId: a.sourceId, commentSourceId: c.sourceId, sourceUrl: a.url, fileName: a.fileName, size: a.size, sha256: null, blobPath: null, inline: a.inline, fetched: false, reason: 'not fetched from the source' });
    }
  }
  const groups: ImportThread['attachments'][] = [];
  let current: ImportThread['attachments'] = [];
  let bytes = 0;
  const problems: string[] = [];
  const inlineNames = new Map<string, string>();
  for (const a of rows.values()) {
    if (a.inline) inlineNames.set(a.sourceUrl, a.fileName);
    if (!a.fetched || !a.blobPath) {
      problems.push(`${a.fileName}: ${a.reason ?? 'not fetched from the source'}`);
      continue;
    }
    if (!ctx.signUrl) {
      problems.push(`${a.fileName}: no blob server to hand it to the target`);
      continue;
    }
    const size = a.size ?? 0;
    if (size > MAX_ATTACHMENT_BYTES_PER_REPLY) {
      problems.push(`${a.fileName}: ${size} bytes, over Teamwork Desk's 20 MB limit per reply`);
      continue;
    }
    if (bytes + size > MAX_ATTACHMENT_BYTES_PER_REPLY && current.length > 0) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ filename: a.fileName, downloadurl: ctx.signUrl(a.blobPath, a.fileName) });
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return {
    groups,
    body(html) {
      // The same tag pattern the extractor found the images with, however the src is quoted.
      let out = html.replace(IMG_TAG, (tag, ...groups: string[]) => {
        const name = inlineNames.get(imgSrc([tag, ...groups]));
        return name ? `<em>[inline image: ${escapeHtml(name)} — attached]</em>` : tag;
      });
      if (problems.length > 0) {
        out += `<p><em>Attachments not migrated: ${problems.map(escapeHtml).join('; ')}</em></p>`;
      }
      return out;
    },
  };
}

/** The v1 import record for one ticket with its whole history, in original order. */
export function buildImportTicket(ctx: ImportContext, t: CanonicalTicket, comments: CanonicalComment[]): ImportTicket {
  const ordered = [...comments].sort((a, b) => a.position - b.position);
  const cc = t.ccSourceIds.map((id) => ctx.people.get(id)?.email).filter((e): e is string => !!e);
  // R9: an assignee the target has no agent for is kept on the ticket (load/original-assignee.ts).
  const kept = keptAssignee(t, ctx.people, ctx.directory, ctx.mapping, ctx.source);
  const fallback = kept?.assignedTo ? ctx.directory.agent(kept.assignedTo) : undefined;
  const assignedTo = asAgent(ctx, t.assigneeSourceId) ?? (fallback ? importAgent(fallback) : undefined);
  const assigneeLine = keptAssigneeHeader(kept);
  const emailSource = routedInboxEmail(ctx, t);
  return {
    id: Number(t.sourceId),
    subject: t.subject || '(no subject)',
    customer: asCustomer(ctx, t.requesterSourceId),
    ...(assignedTo ? { assignedTo } : {}),
    ...(emailSource ? { emailSource } : {}),
    ...(t.priority ? { priority: t.priority } : {}),
    ...(t.type ? { type: t.type } : {}),
    tags: kept?.tag && !t.tags.includes(kept.tag) ? [...t.tags, kept.tag] : t.tags,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    // R6: the ticket's CCs ride on its first message, as does the original assignee's line.
    threads: ordered.flatMap((c, i) => thread(ctx, c, i === 0 ? cc : [], i === 0 && t.ccHeader, i === 0 ? assigneeLine : '').map((th) => checkLength(c.sourceId, th))),
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
