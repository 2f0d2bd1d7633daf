import type { FieldDiff, StagedAttachment } from '../../staging/index.ts';

/** What staging says the target should hold for one ticket (built from the same import payload the loader sends). */
export interface ExpectedTicket {
  subject: string;
  customerEmail: string;
  /** The requester's company in the target; null: nothing to check (no company, or the customer was not created by deskport). */
  companyId: string | null;
  assigneeEmail: string | null;
  inboxId: number | null;
  status: string;
  statusId: number | null;
  tags: string[];
  customFields: { id: number; value: unknown }[];
  threads: ExpectedThread[];
}

export interface ExpectedThread {
  sourceId: string;
  type: 'message' | 'note';
  authorEmail: string;
  createdAt: string;
  body: string;
  /** Files with their bytes' size and sha256; null: attachments are not checked. */
  attachments: StagedAttachment[] | null;
}

/** What the target holds, read back through the v2 API. */
export interface TargetTicket {
  id: number;
  subject: string;
  customer: { id: number; email: string | null; companyIds: string[] };
  assigneeEmail: string | null;
  inboxId: number | null;
  statusId: number | null;
  tags: string[];
  customFields: { id: number; value: unknown }[];
  messages: TargetMessage[];
}

export interface TargetMessage {
  id: number;
  type: string;
  authorEmail: string | null;
  createdAt: string;
  body: string;
  files: { id: number; fileName: string; size: number; sha256: string | null }[];
}

/** Text of an HTML body with tags, entities and whitespace normalised: what a reader sees. */
export function bodyText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n').replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'").replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ').trim();
}

const short = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n)}…` : s);
const lower = (s: string | null) => (s === null ? null : s.toLowerCase());
const sameInstant = (a: string, b: string) => Date.parse(a) === Date.parse(b);
const normalise = (v: unknown) => JSON.stringify(Array.isArray(v) ? [...v].map(String).sort() : v === null || v === undefined ? null : String(v));

/**
 * Field-by-field differences between what staging expects and what the target holds.
 * Empty: the ticket is exactly as migrated. When the comment counts differ, only the first
 * position where the threads diverge is reported, so one lost comment is one clear diff.
 */
export function compareTicket(e: ExpectedTicket, a: TargetTicket): FieldDiff[] {
  const diffs: FieldDiff[] = [];
  const check = (field: string, expected: unknown, actual: unknown, same = expected === actual) => {
    if (!same) diffs.push({ field, expected, actual });
  };
  check('subject', e.subject, a.subject);
  check('customer', lower(e.customerEmail), lower(a.customer.email));
  if (e.companyId !== null) check('company', e.companyId, a.customer.companyIds.join(',') || null, a.customer.companyIds.includes(e.companyId));
  check('assignee', lower(e.assigneeEmail), lower(a.assigneeEmail));
  if (e.inboxId !== null) check('inbox', e.inboxId, a.inboxId);
  check('status', e.statusId ?? `${e.status} (no such status in the target)`, a.statusId);
  const et = [...new Set(e.tags.map((t) => t.toLowerCase()))].sort();
  const at = [...new Set(a.tags.map((t) => t.toLowerCase()))].sort();
  check('tags', et, at, JSON.stringify(et) === JSON.stringify(at));
  for (const f of e.customFields) {
    const actual = a.customFields.find((x) => x.id === f.id)?.value ?? null;
    check(`customFields[${f.id}]`, f.value, actual, normalise(f.value) === normalise(actual));
  }

  check('comments.count', e.threads.length, a.messages.length);
  const n = Math.min(e.threads.length, a.messages.length);
  for (let i = 0; i < n; i++) {
    const before = diffs.length;
    const t = e.threads[i]!;
    const m = a.messages[i]!;
    const at = `comments[${i}]`;
    check(`${at}.public`, t.type === 'message', m.type === 'message');
    check(`${at}.author`, lower(t.authorEmail), lower(m.authorEmail));
    check(`${at}.createdAt`, t.createdAt, m.createdAt, sameInstant(t.createdAt, m.createdAt));
    const eb = bodyText(t.body);
    const ab = bodyText(m.body);
    check(`${at}.body`, short(eb), short(ab), eb === ab);
    if (t.attachments) compareFiles(`${at}.attachments`, t.attachments, m.files, check);
    if (diffs.length > before) diffs[before]!.field += ` (source comment ${t.sourceId})`;
    // With a comment lost or added, later positions all shift: the first divergence says it all.
    if (e.threads.length !== a.messages.length && diffs.length > before) break;
  }
  return diffs;
}

function compareFiles(at: string, expected: StagedAttachment[], actual: TargetMessage['files'],
  check: (field: string, expected: unknown, actual: unknown, same?: boolean) => void): void {
  check(`${at}.count`, expected.length, actual.length);
  const left = [...actual];
  for (const f of expected) {
    const i = left.findIndex((x) => x.fileName === f.fileName && x.sha256 === f.sha256);
    const j = i >= 0 ? i : left.findIndex((x) => x.fileName === f.fileName);
    if (j < 0) {
      check(`${at}[${f.fileName}]`, { size: f.size, sha256: f.sha256 }, null, false);
      continue;
    }
    const got = left.splice(j, 1)[0]!;
    check(`${at}[${f.fileName}].size`, f.size, got.size);
    check(`${at}[${f.fileName}].sha256`, f.sha256, got.sha256);
  }
}
