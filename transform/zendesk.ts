import { z } from 'zod';
import type { Config } from '../src/config.ts';
import type { CanonicalComment, CanonicalCompany, CanonicalPerson, CanonicalTicket } from './canonical.ts';

/**
 * Zendesk raw record schemas (the fields deskport reads; others pass through untouched) and the
 * mappers from them to the canonical model. Field names are Zendesk's (docs/source-apis.md §1).
 */

const id = z.number().int().positive();
const date = z.iso.datetime({ offset: true });
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
});

const ZdAttachment = z.looseObject({
  id,
  file_name: z.string(),
  content_url: z.string(),
  content_type: z.string().nullish(),
  size: z.number().int().nonnegative().nullish(),
  inline: z.boolean().nullish(),
});

export const ZdComment = z.looseObject({
  id,
  author_id: id.nullish(),
  html_body: z.string().nullish(),
  body: z.string().nullish(),
  public: z.boolean(),
  created_at: date,
  attachments: z.array(ZdAttachment).nullish(),
});

/** What the extractor adds beside a record (ticket/comment relationships, counts). */
export const ZdTicketMeta = z.object({ commentCount: z.number().int().nonnegative() });
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

export function mapUser(u: z.infer<typeof ZdUser>): CanonicalPerson {
  return {
    sourceId: String(u.id),
    role: u.role === 'end-user' ? 'customer' : 'agent',
    email: u.email ? u.email.trim().toLowerCase() : null,
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
    priority: t.priority ? (mapping.priorityMap[t.priority] ?? null) : null,
    type: t.type ? (mapping.typeMap[t.type] ?? null) : null,
    tags: [...new Set([...(t.tags ?? []), ...mapping.extraTags])],
    requesterSourceId: String(t.requester_id),
    assigneeSourceId: str(t.assignee_id),
    companySourceId: str(t.organization_id),
    groupSourceId: str(t.group_id),
    ccSourceIds: [...cc],
    customFields: (t.custom_fields ?? []).filter((f) => f.value != null).map((f) => ({ fieldSourceId: String(f.id), value: f.value })),
    createdAt: t.created_at,
    updatedAt: t.updated_at,
    commentCount: meta.commentCount,
  };
}

export function mapComment(c: z.infer<typeof ZdComment>, meta: z.infer<typeof ZdCommentMeta>): CanonicalComment {
  return {
    sourceId: String(c.id),
    ticketSourceId: String(meta.ticketId),
    position: meta.position,
    authorSourceId: str(c.author_id),
    bodyHtml: c.html_body ?? escapeHtml(c.body ?? ''),
    public: c.public,
    createdAt: c.created_at,
    attachments: (c.attachments ?? []).map((a) => ({
      sourceId: String(a.id), fileName: a.file_name, url: a.content_url, contentType: a.content_type ?? null,
      size: a.size ?? null, inline: a.inline ?? false,
    })),
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!).replace(/\n/g, '<br>');
}
