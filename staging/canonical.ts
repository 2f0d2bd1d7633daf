import { z } from 'zod';

/**
 * The canonical, source-independent model. Source mappers turn raw records into these; staging
 * stores them in `data`, and the loader knows nothing else. Ids are strings (sources differ).
 */

const isoDate = z.iso.datetime({ offset: true });

export const CanonicalCompany = z.object({
  sourceId: z.string(),
  name: z.string().min(1),
  domains: z.array(z.string()),
  details: z.string().nullable(),
  notes: z.string().nullable(),
  createdAt: isoDate.nullable(),
});
export type CanonicalCompany = z.infer<typeof CanonicalCompany>;

export const CanonicalPerson = z.object({
  sourceId: z.string(),
  role: z.enum(['agent', 'customer']),
  email: z.string().nullable(),
  /** The source's own email when an agent override (R9) changed `email`; else null. */
  sourceEmail: z.string().nullable().default(null),
  name: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  companySourceId: z.string().nullable(),
  phone: z.string().nullable(),
  /** False once deleted in the source. */
  active: z.boolean(),
  suspended: z.boolean(),
  createdAt: isoDate.nullable(),
});
export type CanonicalPerson = z.infer<typeof CanonicalPerson>;

export const CanonicalAttachment = z.object({
  sourceId: z.string(),
  fileName: z.string(),
  url: z.string(),
  contentType: z.string().nullable(),
  size: z.number().int().nonnegative().nullable(),
  inline: z.boolean(),
  /** R5 option: an inline image re-uploaded inline (body rewritten) or as a plain attachment. */
  disposition: z.enum(['inline', 'attachment']).default('attachment'),
});
export type CanonicalAttachment = z.infer<typeof CanonicalAttachment>;

/** A custom field value with the field's name when known, after the mapping's value map (R10). */
export const CanonicalFieldValue = z.object({
  fieldSourceId: z.string(),
  value: z.unknown(),
  name: z.string().nullable().default(null),
  /** Target field by name or id; null: not mapped (dropped on purpose). */
  target: z.object({ name: z.string().nullable(), id: z.number().int().nullable() }).nullable().default(null),
});
export type CanonicalFieldValue = z.infer<typeof CanonicalFieldValue>;

export const CanonicalTicketEvent = z.object({
  kind: z.enum(['status', 'assignee', 'group', 'merge', 'other']),
  at: isoDate,
  actorSourceId: z.string().nullable(),
  from: z.string().nullable(),
  to: z.string().nullable(),
});
export type CanonicalTicketEvent = z.infer<typeof CanonicalTicketEvent>;

export const CanonicalTicket = z.object({
  sourceId: z.string(),
  subject: z.string(),
  /** The source's own status, kept for reports; `status` is the mapped target status name. */
  sourceStatus: z.string(),
  status: z.string(),
  priority: z.string().nullable(),
  type: z.string().nullable(),
  tags: z.array(z.string()),
  requesterSourceId: z.string(),
  assigneeSourceId: z.string().nullable(),
  companySourceId: z.string().nullable(),
  groupSourceId: z.string().nullable(),
  ccSourceIds: z.array(z.string()),
  customFields: z.array(CanonicalFieldValue),
  createdAt: isoDate,
  updatedAt: isoDate,
  /** How many comments the source says the ticket has: the loader waits until all are staged. */
  commentCount: z.number().int().nonnegative(),
  // ---- what the source says beside, for routing and filters (null where the source has none)
  /** The source's own type before mapping (ITSM: problem, incident, change…). */
  sourceType: z.string().nullable().default(null),
  groupName: z.string().nullable().default(null),
  brandSourceId: z.string().nullable().default(null),
  /** The address the ticket came in through. */
  sourceMailbox: z.string().nullable().default(null),
  /** ITSM: the problem an incident belongs to. */
  problemSourceId: z.string().nullable().default(null),
  /** Status changes, reassignments, merges, when the source exported them (R14). */
  events: z.array(CanonicalTicketEvent).default([]),
  // ---- the mapping's verdict (transform/routing.ts, transform/filters.ts)
  /** Routed inbox by name; null: the target's fallback inbox. */
  inbox: z.object({ name: z.string(), rule: z.string() }).nullable().default(null),
  /** Excluded by a filter: staged as skipped with this rule as the reason, never loaded. */
  skip: z.object({ rule: z.string() }).nullable().default(null),
  /** R6 option: list the CCs in a header on the first comment too. */
  ccHeader: z.boolean().default(false),
});
export type CanonicalTicket = z.infer<typeof CanonicalTicket>;

export const CanonicalComment = z.object({
  sourceId: z.string(),
  ticketSourceId: z.string(),
  position: z.number().int().nonnegative(),
  authorSourceId: z.string().nullable(),
  /**
   * Who wrote it when no person of the source did: the source's own system author (Zendesk's
   * `author_id: -1` → "Zendesk system"). Signed by the fallback agent, this name in the header.
   */
  authorLabel: z.string().nullish(),
  bodyHtml: z.string(),
  public: z.boolean(),
  createdAt: isoDate,
  attachments: z.array(CanonicalAttachment),
  /** R2 option `always`: the loader writes the author-and-date header even when it can sign as the author. */
  authorHeader: z.boolean().default(false),
  /** Synthetic: made by deskport (e.g. the ticket-events note), not a source comment. */
  synthetic: z.boolean().default(false),
});
export type CanonicalComment = z.infer<typeof CanonicalComment>;

/** Reference data (staging table `source_refs`, kind 'groups'): routing and tags use the name. */
export const CanonicalGroup = z.object({
  sourceId: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  deleted: z.boolean(),
});
export type CanonicalGroup = z.infer<typeof CanonicalGroup>;

/** Reference data (kind 'custom_fields'): custom fields map by name or id (R10). */
export const CanonicalCustomField = z.object({
  sourceId: z.string(),
  name: z.string(),
  type: z.string(),
  active: z.boolean(),
  /** Option values with their labels (drop-downs, multi-selects). */
  options: z.array(z.object({ value: z.string(), name: z.string() })),
  /** Built-in fields (status, priority…) are mapped by the status/priority tables instead. */
  system: z.boolean(),
});
export type CanonicalCustomField = z.infer<typeof CanonicalCustomField>;

/**
 * A Help Center category or section (both become Help Docs categories; a section nests under its
 * category through `parentSourceId`). Source ids are prefixed by kind (`category:1`, `section:2`):
 * the two id spaces are distinct in the source.
 */
export const CanonicalKbCategory = z.object({
  sourceId: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  parentSourceId: z.string().nullable(),
  position: z.number().int().nullable(),
  kind: z.enum(['category', 'section']).default('category'),
  /** The source's public address (the target's `oldURL`, and the in-doubt lookup key). */
  sourceUrl: z.string().nullable().default(null),
  locale: z.string().nullable().default(null),
  createdAt: isoDate.nullable().default(null),
  updatedAt: isoDate.nullable().default(null),
});
export type CanonicalKbCategory = z.infer<typeof CanonicalKbCategory>;

export const CanonicalKbArticle = z.object({
  sourceId: z.string(),
  categorySourceId: z.string().nullable(),
  title: z.string(),
  bodyHtml: z.string(),
  tags: z.array(z.string()),
  authorSourceId: z.string().nullable(),
  draft: z.boolean(),
  /** Original dates: the target has no writable date fields, so they are kept here (staging, report). */
  createdAt: isoDate.nullable(),
  updatedAt: isoDate.nullable(),
  attachments: z.array(CanonicalAttachment),
  /** The source's public address: links to it are rewritten (R8), and it is the target's `oldURL`. */
  sourceUrl: z.string().nullable().default(null),
  /** The locale of the translation taken (the article's default/source locale). */
  locale: z.string().nullable().default(null),
  position: z.number().int().nullable().default(null),
  promoted: z.boolean().default(false),
});
export type CanonicalKbArticle = z.infer<typeof CanonicalKbArticle>;

/** Reference kinds staged in `source_refs` (not loaded as rows of their own). */
export interface CanonicalRefByKind {
  groups: CanonicalGroup;
  custom_fields: CanonicalCustomField;
}
export type CanonicalRefKind = keyof CanonicalRefByKind;

/** Staged entity → its canonical type and staging table. */
export interface CanonicalByEntity {
  companies: CanonicalCompany;
  people: CanonicalPerson;
  tickets: CanonicalTicket;
  comments: CanonicalComment;
  kb_categories: CanonicalKbCategory;
  kb_articles: CanonicalKbArticle;
}
export type CanonicalEntity = keyof CanonicalByEntity;
export const CANONICAL_ENTITIES: readonly CanonicalEntity[] = ['companies', 'people', 'tickets', 'comments', 'kb_categories', 'kb_articles'];
