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
});
export type CanonicalAttachment = z.infer<typeof CanonicalAttachment>;

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
  customFields: z.array(z.object({ fieldSourceId: z.string(), value: z.unknown() })),
  createdAt: isoDate,
  updatedAt: isoDate,
  /** How many comments the source says the ticket has: the loader waits until all are staged. */
  commentCount: z.number().int().nonnegative(),
});
export type CanonicalTicket = z.infer<typeof CanonicalTicket>;

export const CanonicalComment = z.object({
  sourceId: z.string(),
  ticketSourceId: z.string(),
  position: z.number().int().nonnegative(),
  authorSourceId: z.string().nullable(),
  bodyHtml: z.string(),
  public: z.boolean(),
  createdAt: isoDate,
  attachments: z.array(CanonicalAttachment),
});
export type CanonicalComment = z.infer<typeof CanonicalComment>;

/** Staged entity → its canonical type and staging table. */
export interface CanonicalByEntity {
  companies: CanonicalCompany;
  people: CanonicalPerson;
  tickets: CanonicalTicket;
  comments: CanonicalComment;
}
export type CanonicalEntity = keyof CanonicalByEntity;
export const CANONICAL_ENTITIES: readonly CanonicalEntity[] = ['companies', 'people', 'tickets', 'comments'];
