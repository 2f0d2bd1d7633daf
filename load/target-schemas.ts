import { z } from 'zod';

/**
 * A zod schema for every Teamwork Desk response deskport reads (issue 21): the envelope key, the
 * id, and the fields and refs deskport uses — nothing else is required, everything else passes
 * through. The client (load/client.ts) picks the schema by method and route and validates every
 * answer; a response that matches no accepted shape fails its row with the endpoint, the status
 * and the first problem. A route with no entry here cannot be called at all, so a new call comes
 * with its schema.
 *
 * Tolerant exactly where Teamwork's own sources disagree, and normalised to one form for the code
 * that reads it:
 * - the article envelope is `helpdocarticle` (desksdkgo client/helpdocarticles_test.go, our facts
 *   file) or `helpDocArticle` (desksdkgo models/helpdocarticle.go, Teamwork/mcp helpdocs_test.go):
 *   read as `helpdocarticle`;
 * - a relation is a ref `{id, type}` (desksdkgo models/base.go EntityRef) or a plain id (the
 *   custom-field `inboxes` of Teamwork's request examples): read as a ref;
 * - a file's name is `fileName` (apidocs files/ref answer) or `filename` (desksdkgo models/file.go):
 *   read as `fileName`;
 * - a Go SDK encodes an empty list as `null`: read as `[]`.
 */

const id = z.number().int();

/** A list that may come as null (Go's nil slice): read as []. */
const listOf = <T extends z.ZodType>(item: T) => z.array(item).nullish().transform((v) => v ?? []);

/** A relation: a ref `{id, type?, meta?}`, or a plain id read as `{id}`. */
export const targetRef = z.preprocess((v) => (typeof v === 'number' ? { id: v } : v), z.looseObject({ id, type: z.string().nullish() }));

const name = z.string().nullish();

const User = z.looseObject({
  id, email: z.string().nullish(), firstName: name, lastName: name, role: name,
  /** "active" | "deleted" (desksdkgo models/base.go); the only user state Teamwork's sources show. */
  state: z.string().nullish(),
});
const Inbox = z.looseObject({ id, name, email: z.string().nullish(), autoReplyEnabled: z.boolean().nullish(), happinessRatingEnabled: z.boolean().nullish() });
const Named = z.looseObject({ id, name, code: name });
const CustomField = z.looseObject({
  id, agentLabel: name, name, kind: name, enabled: z.boolean().nullish(),
  inboxes: listOf(targetRef), options: listOf(targetRef),
});
const Option = z.looseObject({ id, name });
const Customer = z.looseObject({ id, email: z.string().nullish(), externalId: z.string().nullish(), contacts: listOf(targetRef), companies: listOf(targetRef) });
const Contact = z.looseObject({ id, value: z.string().nullish(), type: z.string().nullish(), isMain: z.boolean().nullish() });
const Site = z.looseObject({ id, name, subdomain: z.string().nullish(), customDomain: z.string().nullish() });
const Category = z.looseObject({ id, name, parent_id: id.nullish(), oldURL: z.string().nullish(), slug: z.string().nullish() });
const Article = z.looseObject({ id, title: z.string().nullish(), slug: z.string().nullish(), oldURL: z.string().nullish(), categories: z.array(id).nullish() });
const Ticket = z.looseObject({
  id, subject: z.string().nullish(),
  customer: targetRef.nullish(), agent: targetRef.nullish(), inbox: targetRef.nullish(), status: targetRef.nullish(),
  priority: targetRef.nullish(), type: targetRef.nullish(),
  tags: listOf(targetRef), customfields: listOf(z.looseObject({ id, meta: z.looseObject({}).nullish() })), messages: listOf(targetRef),
});
const Message = z.looseObject({
  id, threadType: z.string().nullish(), createdAt: z.string().nullish(), createdBy: targetRef.nullish(),
  htmlBody: z.string().nullish(), message: z.string().nullish(), files: listOf(targetRef),
});
const File = z.preprocess(
  (v) => (v && typeof v === 'object' && !('fileName' in v) && 'filename' in v ? { ...v, fileName: (v as { filename: unknown }).filename } : v),
  z.looseObject({ id, fileName: z.string().nullish(), size: z.number().nullish() }),
);

const Trigger = z.looseObject({ id, name, state: z.string().nullish(), type: z.string().nullish(), inboxes: listOf(targetRef) });

/** v1 customfields answers its record under `customfield` or `customField` (Teamwork's samples differ). */
const V1CustomField = z.looseObject({ customfield: z.looseObject({ id }).nullish(), customField: z.looseObject({ id }).nullish() })
  .refine((b) => b.customfield != null || b.customField != null, { message: 'expected the new field under customfield', path: ['customfield'] });

const Paging = {
  meta: z.looseObject({ page: z.looseObject({ hasMore: z.boolean().nullish() }).nullish() }).nullish(),
  pagination: z.looseObject({ hasMorePages: z.boolean().nullish() }).nullish(),
};

/** `{"<plural>": [...], meta, pagination, included}`; `included` entries named here are checked too. */
function list(key: string, item: z.ZodType, included: Record<string, z.ZodType> = {}) {
  return z.looseObject({
    [key]: listOf(item),
    ...Paging,
    included: z.looseObject(Object.fromEntries(Object.entries(included).map(([k, s]) => [k, listOf(s)]))).nullish(),
  });
}

/** `{"<singular>": {...}, included}`. */
function one(key: string, item: z.ZodType, included: Record<string, z.ZodType> = {}) {
  return z.looseObject({
    [key]: item,
    included: z.looseObject(Object.fromEntries(Object.entries(included).map(([k, s]) => [k, listOf(s)]))).nullish(),
  });
}

/** The article envelope under either key Teamwork's sources use, read as `helpdocarticle`. */
const oneArticle = z.preprocess(
  (v) => (v && typeof v === 'object' && !('helpdocarticle' in v) && 'helpDocArticle' in v ? { ...v, helpdocarticle: (v as { helpDocArticle: unknown }).helpDocArticle } : v),
  one('helpdocarticle', Article),
);

/**
 * The v1 import's answer. Undocumented (teamwork-desk-api.md §4); deskport reads one entry per
 * ticket under `tickets` (or `results`), each naming the source id (load/loader.ts importResults).
 */
const ImportAnswer = z.looseObject({
  tickets: z.array(z.looseObject({})).nullish(),
  results: z.array(z.looseObject({})).nullish(),
}).refine((b) => Array.isArray(b.tickets) || Array.isArray(b.results), { message: 'expected a list of tickets (tickets or results)', path: ['tickets'] });

const FilesRef = z.looseObject({ url: z.string().min(1), params: z.record(z.string(), z.string()), file: File });

/** The response is not read (the status says it all). */
export const UNREAD = 'unread';
/** The response is bytes (a download), not JSON. */
export const RAW = 'raw';
export type ResponseSchema = z.ZodType | typeof UNREAD | typeof RAW;

const V2 = '/desk/api/v2';
/** Method + route (ids folded to `:id`, as load/client.ts labels endpoints) → what the answer must be. */
const ROUTES: Record<string, ResponseSchema> = {
  // Directory and look-ups (load/target-directory.ts, preflight, check, post-checklist, v2 refs).
  [`GET ${V2}/me.json`]: one('user', User),
  [`GET ${V2}/users.json`]: list('users', User),
  [`GET ${V2}/inboxes.json`]: list('inboxes', Inbox),
  [`GET ${V2}/ticketstatuses.json`]: list('ticketstatuses', Named),
  [`GET ${V2}/ticketpriorities.json`]: list('ticketpriorities', Named),
  [`GET ${V2}/tickettypes.json`]: list('tickettypes', Named),
  [`GET ${V2}/tags.json`]: list('tags', Named),
  [`GET ${V2}/customfields.json`]: list('customfields', CustomField, { customfieldoptions: Option }),
  [`GET ${V2}/companies.json`]: list('companies', Named),
  [`GET ${V2}/customers.json`]: list('customers', Customer, { contacts: Contact }),
  [`GET ${V2}/helpdocssites.json`]: list('helpdocssites', Site),
  [`GET ${V2}/helpdocscategories.json`]: list('helpdocscategories', Category),
  [`GET ${V2}/helpdocssites/helpdocarticles.json`]: list('helpdocarticles', Article),
  [`GET ${V2}/triggers.json`]: list('triggers', Trigger),
  [`GET ${V2}/triggers/:id.json`]: one('trigger', Trigger),
  // Writes whose answer names the new record.
  [`POST ${V2}/companies.json`]: one('company', z.looseObject({ id })),
  [`POST ${V2}/customers.json`]: one('customer', z.looseObject({ id })),
  [`POST ${V2}/tags.json`]: one('tag', z.looseObject({ id })),
  [`POST ${V2}/tickets.json`]: one('ticket', Ticket),
  [`POST ${V2}/tickets/:id/messages.json`]: one('message', Message),
  [`POST ${V2}/files/ref.json`]: FilesRef,
  [`POST ${V2}/helpdocscategories.json`]: one('helpdocscategory', z.looseObject({ id })),
  [`POST ${V2}/helpdocssites/:id/helpdocarticles.json`]: oneArticle,
  ['POST /desk/v1/import/tickets.json']: ImportAnswer,
  // Preparing the target (load/prepare-apply.ts, issue 22).
  ['POST /desk/v1/customfields.json']: V1CustomField,
  [`POST ${V2}/customfieldoptions.json`]: one('customfieldoption', z.looseObject({ id })),
  [`POST ${V2}/ticketstatuses.json`]: one('ticketstatus', z.looseObject({ id })),
  [`POST ${V2}/ticketpriorities.json`]: one('ticketpriority', z.looseObject({ id })),
  [`POST ${V2}/tickettypes.json`]: one('tickettype', z.looseObject({ id })),
  [`PUT ${V2}/tickettypes/:id.json`]: UNREAD,
  [`PATCH ${V2}/triggers/:id.json`]: UNREAD,
  // Reads of one record (verify, delta, the v2 path's existence check).
  [`GET ${V2}/tickets/:id.json`]: one('ticket', Ticket, { customers: Customer, tags: Named }),
  [`GET ${V2}/customers/:id.json`]: one('customer', Customer, { contacts: Contact }),
  [`GET ${V2}/files/:id.json`]: one('file', File),
  [`GET ${V2}/search/tickets.json`]: list('tickets', z.looseObject({ id })),
  [`GET ${V2}/tickets/:id/messages.json`]: list('messages', Message, { files: File }),
  [`GET ${V2}/tickets/:id/files/:id/download`]: RAW,
  // Answers deskport does not read: the status is the outcome.
  [`PATCH ${V2}/tickets/:id.json`]: UNREAD,
  [`PATCH ${V2}/tickets/update.json`]: UNREAD,
  [`PATCH ${V2}/files/:id.json`]: UNREAD,
  [`PATCH ${V2}/helpdocssites/:id/helpdocarticles/:id.json`]: UNREAD,
  [`DELETE ${V2}/tickets/:id.json`]: UNREAD,
  [`DELETE ${V2}/customers/:id.json`]: UNREAD,
  [`DELETE ${V2}/companies/:id.json`]: UNREAD,
  [`DELETE ${V2}/helpdocscategories/:id.json`]: UNREAD,
  [`DELETE ${V2}/helpdocssites/:id/helpdocarticles/:id.json`]: UNREAD,
};

/** What the answer to `method endpoint` must be; undefined: deskport has no business calling it. */
export function responseSchema(method: string, endpoint: string): ResponseSchema | undefined {
  return ROUTES[`${method.toUpperCase()} ${endpoint}`];
}

/** Every route with a schema (tests check the calls deskport makes against it). */
export function knownRoutes(): string[] {
  return Object.keys(ROUTES);
}

/** The first validation problem, as `path: message` (the reason a failed row carries). */
export function firstProblem(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.map(String).join('.');
  return `${path || '(body)'}: ${issue.message}`;
}
