import { z } from 'zod';
import { escapeHtml } from '../core/html.ts';
import type { Config } from '../core/config.ts';
import { zdDate } from './zendesk-dates.ts';
import type {
  CanonicalComment, CanonicalCompany, CanonicalCustomField, CanonicalGroup, CanonicalPerson, CanonicalTicket, CanonicalTicketEvent,
} from '../staging/canonical.ts';

/**
 * Zendesk raw record schemas (the fields deskport reads; others pass through untouched) and the
 * mappers from them to the canonical model. Field names are Zendesk's (docs/source-apis.md §1).
 */

const id = z.number().int().positive();
/** Dates in every form Zendesk documents, staged as UTC ISO 8601 (zendesk-dates.ts). */
const date = zdDate;
/** Zendesk's author of system and anonymous events (recorded responses carry `author_id: -1`). */
export const ZENDESK_SYSTEM_AUTHOR = -1;
/** Who wrote a comment: a user id, or -1 for Zendesk itself. */
const authorId = z.number().int().refine((n) => n > 0 || n === ZENDESK_SYSTEM_AUTHOR, 'must be a user id or -1 (Zendesk system)');
const nullableString = z.string().nullish().transform((v) => v ?? null);

export const ZdOrganization = z.looseObject({
  id,
  name: z.string().min(1),
  domain_names: z.array(z.string()).nullish(),
  details: nullableString,
  notes: nullableString,
  created_at: date.nullish(),
});

export const ZdUser = z.looseObject({
  id,
  name: z.string(),
  email: z.string().nullish(),
  role: z.enum(['end-user', 'agent', 'admin']),
  organization_id: id.nullish(),
  phone: nullableString,
  active: z.boolean().default(true),
  suspended: z.boolean().default(false),
  created_at: date.nullish(),
});

export const ZdTicket = z.looseObject({
  id,
  subject: z.string().nullish(),
  raw_subject: z.string().nullish(),
  status: z.string().min(1),
  priority: z.string().nullish(),
  type: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
  requester_id: id,
  assignee_id: id.nullish(),
  organization_id: id.nullish(),
  group_id: id.nullish(),
  collaborator_ids: z.array(id).nullish(),
  email_cc_ids: z.array(id).nullish(),
  custom_fields: z.array(z.object({ id, value: z.unknown() })).nullish(),
  created_at: date,
  updated_at: date,
  brand_id: id.nullish(),
  recipient: z.string().nullish(),
  problem_id: id.nullish(),
  via: z.looseObject({ source: z.looseObject({ to: z.looseObject({ address: z.string().nullish() }).nullish() }).nullish() }).nullish(),
  /** Ticket audits, when the export carries them (R14: events as a private note). */
  audits: z.array(z.looseObject({
    created_at: date,
    author_id: authorId.nullish(),
    events: z.array(z.looseObject({
      type: z.string(), field_name: z.string().nullish(), value: z.unknown().optional(), previous_value: z.unknown().optional(),
    })).default([]),
  })).nullish(),
});

export const ZdGroup = z.looseObject({
  id,
  name: z.string().min(1),
  description: nullableString,
  deleted: z.boolean().default(false),
});

export const ZdTicketField = z.looseObject({
  id,
  type: z.string().min(1),
  title: z.string().min(1),
  active: z.boolean().default(true),
  custom_field_options: z.array(z.looseObject({ name: z.string(), value: z.string() })).nullish(),
});

/** Zendesk's built-in ticket fields: mapped by the status/priority/type tables, not as custom fields. */
const SYSTEM_FIELD_TYPES = new Set(['subject', 'description', 'status', 'tickettype', 'priority', 'group', 'assignee']);

/**
 * An attachment of a comment or an article: the same shape in both APIs. Decided per field
 * (docs/source-apis.md §1.7; recorded fixtures): `id` and `content_url` always come and are what
 * the attachment is — without them it is rejected with that reason. The name comes as
 * `file_name` (the documented attachment object) or `name` (the Attachments endpoint, as recorded
 * in go-zendesk's fixture); with neither it is the URL's last path segment, else
 * `attachment-<id>`. Type, size and inline may be absent: unknown, unknown, not inline.
 */
export const ZdAttachment = z.looseObject({
  id,
  file_name: z.string().nullish(),
  name: z.string().nullish(),
  content_url: z.string().min(1),
  content_type: z.string().nullish(),
  size: z.number().int().nonnegative().nullish(),
  inline: z.boolean().nullish(),
}).transform((a) => ({ ...a, file_name: attachmentName(a) }));

/** The attachment's file name by the rules above. */
function attachmentName(a: { id: number; file_name?: string | null; name?: string | null; content_url: string }): string {
  const given = (a.file_name ?? '').trim() || (a.name ?? '').trim();
  if (given) return given;
  try {
    const u = new URL(a.content_url);
    const fromQuery = u.searchParams.get('name');
    if (fromQuery) return fromQuery;
    // A token URL (`/attachments/token/<token>/`) names no file; an API URL ends in the id.
    const last = u.pathname.includes('/attachments/token/') ? '' : decodeURIComponent(u.pathname.split('/').filter(Boolean).at(-1) ?? '');
    if (last && !/^\d+(\.json)?$/.test(last)) return last;
  } catch {
    // not a URL: fall through to the id
  }
  return `attachment-${a.id}`;
}

/**
 * A comment. `public` may be missing (recorded ticket-event children): the documented default
 * is a private note — visibility unknown is never published to the customer. The API extractor
 * fills it (and `author_id`, `created_at`) from the event first, or re-reads the ticket.
 */
export const ZdComment = z.looseObject({
  id,
  author_id: authorId.nullish(),
  html_body: z.string().nullish(),
  body: z.string().nullish(),
  plain_body: z.string().nullish(),
  public: z.boolean().nullish(),
  created_at: date,
  attachments: z.array(ZdAttachment).nullish(),
});

/** What the extractor adds beside a record (ticket/comment relationships, counts). */
// API extraction cannot know a ticket's comment count up front; absent means 0 expected (the
// pipeline loads only after transform caught up with every comment anyway).
export const ZdTicketMeta = z.object({ commentCount: z.number().int().nonnegative().default(0) });
export const ZdCommentMeta = z.object({ ticketId: id, position: z.number().int().nonnegative() });

const str = (n: number | null | undefined): string | null => (n == null ? null : String(n));

export function splitName(name: string): { firstName: string; lastName: string } {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (parts.length <= 1) return { firstName: parts[0] ?? '', lastName: '' };
  return { firstName: parts.slice(0, -1).join(' '), lastName: parts.at(-1)! };
}

export function mapOrganization(o: z.infer<typeof ZdOrganization>): CanonicalCompany {
  return {
    sourceId: String(o.id), name: o.name, domains: o.domain_names ?? [], details: o.details, notes: o.notes,
    createdAt: o.created_at ?? null,
  };
}

export function mapUser(u: z.infer<typeof ZdUser>, mapping?: Pick<Config['mapping'], 'agentOverrides'>): CanonicalPerson {
  const email = u.email ? u.email.trim().toLowerCase() : null;
  const role = u.role === 'end-user' ? 'customer' : 'agent';
  // R9: agents match by email; an override names the target agent explicitly.
  const override = role === 'agent' && email ? mapping?.agentOverrides[email] : undefined;
  return {
    sourceId: String(u.id),
    role,
    email: override ?? email,
    sourceEmail: override ? email : null,
    name: u.name,
    ...splitName(u.name),
    companySourceId: str(u.organization_id),
    phone: u.phone,
    active: u.active,
    suspended: u.suspended,
    createdAt: u.created_at ?? null,
  };
}

export function mapTicket(t: z.infer<typeof ZdTicket>, meta: z.infer<typeof ZdTicketMeta>, mapping: Config['mapping']): CanonicalTicket {
  const cc = new Set([...(t.email_cc_ids ?? []), ...(t.collaborator_ids ?? [])].map(String));
  return {
    sourceId: String(t.id),
    subject: t.subject ?? t.raw_subject ?? '',
    sourceStatus: t.status,
    status: mapping.statusMap[t.status] ?? mapping.defaultStatus,
    priority: t.priority ? (mapping.priorityMap[t.priority] ?? mapping.defaultPriority) : mapping.defaultPriority,
    type: t.type ? (mapping.typeMap[t.type] ?? mapping.defaultType) : mapping.defaultType,
    // Extra tags (R15) are added by the mapping step (transform/enrich.ts), after filters saw the source's.
    tags: [...new Set(t.tags ?? [])],
    requesterSourceId: String(t.requester_id),
    assigneeSourceId: str(t.assignee_id),
    companySourceId: str(t.organization_id),
    groupSourceId: str(t.group_id),
    ccSourceIds: [...cc],
    customFields: (t.custom_fields ?? []).filter((f) => f.value != null)
      .map((f) => ({ fieldSourceId: String(f.id), value: f.value, name: null, target: null })),
    createdAt: t.created_at,
    updatedAt: t.updated_at,
    commentCount: meta.commentCount,
    sourceType: t.type ?? null,
    groupName: null,
    brandSourceId: str(t.brand_id),
    sourceMailbox: (t.via?.source?.to?.address ?? t.recipient ?? null)?.toLowerCase() ?? null,
    problemSourceId: str(t.problem_id),
    events: auditEvents(t.audits ?? []),
    inbox: null,
    skip: null,
    ccHeader: false,
  };
}

const EVENT_FIELDS: Record<string, CanonicalTicketEvent['kind']> = { status: 'status', assignee_id: 'assignee', group_id: 'group' };

/** Zendesk audit `Change` events on status/assignee/group, and merges, as canonical events. */
function auditEvents(audits: NonNullable<z.infer<typeof ZdTicket>['audits']>): CanonicalTicketEvent[] {
  const out: CanonicalTicketEvent[] = [];
  const text = (v: unknown) => (v == null || v === '' ? null : String(v));
  // Zendesk's own changes (author -1) read as "system" in the events note.
  const actor = (n: number | null | undefined) => (n === ZENDESK_SYSTEM_AUTHOR ? null : str(n));
  for (const a of audits) {
    for (const e of a.events) {
      const kind = e.type === 'Change' && e.field_name ? EVENT_FIELDS[e.field_name] : undefined;
      if (kind) out.push({ kind, at: a.created_at, actorSourceId: actor(a.author_id), from: text(e.previous_value), to: text(e.value) });
      else if (e.type === 'Change' && e.field_name === 'tags' && String(e.value ?? '').includes('closed_by_merge')) {
        out.push({ kind: 'merge', at: a.created_at, actorSourceId: actor(a.author_id), from: null, to: null });
      }
    }
  }
  return out;
}

export function mapGroup(g: z.infer<typeof ZdGroup>): CanonicalGroup {
  return { sourceId: String(g.id), name: g.name, description: g.description || null, deleted: g.deleted };
}

export function mapTicketField(f: z.infer<typeof ZdTicketField>): CanonicalCustomField {
  return {
    sourceId: String(f.id), name: f.title, type: f.type, active: f.active, system: SYSTEM_FIELD_TYPES.has(f.type),
    options: (f.custom_field_options ?? []).map((o) => ({ value: o.value, name: o.name })),
  };
}

export function mapComment(c: z.infer<typeof ZdComment>, meta: z.infer<typeof ZdCommentMeta>): CanonicalComment {
  const system = c.author_id === ZENDESK_SYSTEM_AUTHOR;
  return {
    sourceId: String(c.id),
    ticketSourceId: String(meta.ticketId),
    position: meta.position,
    // Zendesk's own comments (author -1) are signed by the fallback agent, the header naming Zendesk.
    authorSourceId: system ? null : str(c.author_id),
    authorLabel: system ? 'Zendesk system' : null,
    bodyHtml: commentBody(c),
    public: c.public ?? false,
    createdAt: c.created_at,
    attachments: (c.attachments ?? []).map((a) => ({
      sourceId: String(a.id), fileName: a.file_name, url: a.content_url, contentType: a.content_type ?? null,
      size: a.size ?? null, inline: a.inline ?? false, disposition: 'attachment' as const,
    })),
    authorHeader: false,
    synthetic: false,
  };
}

/**
 * The comment's body: `html_body` unless it is empty (recorded responses send `""` beside the text),
 * then `body`, then `plain_body`, as escaped text.
 */
function commentBody(c: { html_body?: string | null; body?: string | null; plain_body?: string | null }): string {
  const filled = (s: string | null | undefined): s is string => typeof s === 'string' && s.trim() !== '';
  if (filled(c.html_body)) return c.html_body;
  if (filled(c.body)) return textToHtml(c.body);
  if (filled(c.plain_body)) return textToHtml(c.plain_body);
  return c.html_body ?? '';
}

/** A plain-text body as HTML: escaped, line breaks kept. */
function textToHtml(text: string): string {
  return escapeHtml(text).replace(/\n/g, '<br>');
}
