// Message/thread rules shared by v2 tickets, v2 replies and the v1 import: account limits,
// attaching files, and the "emails sent" log.

import type { Errors } from './errors.ts';
import type { EmailRecord, Message, Ref, Ticket } from './model.ts';
import { ref } from './store.ts';
import type { Store } from './store.ts';

/** Desk account limits (support.teamwork.com account-limits page). */
export const LIMITS = {
  messageChars: 1_038_336,
  messageBytes: 5 * 1024 * 1024,
  attachmentsBytesPerReply: 20 * 1024 * 1024,
  recipientsPerMessage: 50,
} as const;

export function checkMessageBody(errs: Errors, body: string, source: string): void {
  if (body.length > LIMITS.messageChars) {
    errs.add(source, `must be at most ${LIMITS.messageChars} characters (got ${body.length})`, 'too_long');
  } else if (Buffer.byteLength(body, 'utf8') > LIMITS.messageBytes) {
    errs.add(source, `must be at most ${LIMITS.messageBytes} bytes`, 'too_long');
  }
}

export function checkRecipients(errs: Errors, cc: string[], bcc: string[], source: string, isEmail: (s: string) => boolean): void {
  [...cc.map((e, i) => [`${source}cc[${i}]`, e] as const), ...bcc.map((e, i) => [`${source}bcc[${i}]`, e] as const)]
    .forEach(([src, e]) => { if (!isEmail(e)) errs.add(src, 'is not a valid email address', 'invalid_email'); });
  if (cc.length + bcc.length > LIMITS.recipientsPerMessage) {
    errs.add(`${source}cc`, `at most ${LIMITS.recipientsPerMessage} recipients per message`, 'too_many');
  }
}

/** Files attachable to one reply: uploaded, confirmed (if required), ≤ 20 MB together. */
export function checkFiles(store: Store, errs: Errors, ids: number[], source: string, requireConfirm: boolean): void {
  let total = 0;
  ids.forEach((id, i) => {
    const f = store.get('files', id);
    if (!f) return; // unknown ids were reported by readRefs
    if (!f._sandbox.uploaded) errs.add(`${source}[${i}]`, `file ${id} has no uploaded content`, 'not_uploaded');
    else if (requireConfirm && f.state === 'temp') errs.add(`${source}[${i}]`, `file ${id} upload was not confirmed (PATCH files/${id}.json)`, 'not_confirmed');
    total += f.size;
  });
  if (total > LIMITS.attachmentsBytesPerReply) {
    errs.add(source, `attachments total ${total} bytes, more than ${LIMITS.attachmentsBytesPerReply} per reply`, 'too_large');
  }
}

export const previewText = (html: string): string =>
  html.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);

export interface NewMessage {
  ticket: Ticket;
  threadType: 'message' | 'note';
  body: string;
  editMethod: string;
  cc: string[];
  bcc: string[];
  fileIds: number[];
  author: Ref;
  createdAt?: string;
  updatedAt?: string;
  isDraft?: boolean;
  isPinned?: boolean;
  status?: Ref | null;
}

/** Stores a message and links it (and its files) to the ticket. */
export function addMessage(store: Store, m: NewMessage, actor: Ref): Message {
  const msg = store.insert('messages', {
    ticket: ref('tickets', m.ticket.id), threadType: m.threadType, message: m.body, htmlBody: m.body,
    editMethod: m.editMethod, cc: m.cc, bcc: m.bcc, files: m.fileIds.map((id) => ref('files', id)),
    isDraft: m.isDraft ?? false, isPinned: m.isPinned ?? false, status: m.status ?? null,
    deliveryStatus: m.threadType === 'message' ? 'delivered' : '',
    ...(m.createdAt ? { createdAt: m.createdAt } : {}), ...(m.updatedAt ? { updatedAt: m.updatedAt } : {}),
  }, m.author);
  for (const id of m.fileIds) {
    const f = store.get('files', id)!;
    store.update('files', id, { state: 'active', _sandbox: { ...f._sandbox, ticketId: m.ticket.id, messageId: msg.id } }, actor);
  }
  const t = store.get('tickets', m.ticket.id)!;
  const known = new Set(t.files.map((f) => f.id));
  const patch: Partial<Ticket> = {
    messages: [...t.messages, ref('messages', msg.id)],
    messageCount: t.messageCount + 1,
    files: [...t.files, ...m.fileIds.filter((id) => !known.has(id)).map((id) => ref('files', id))],
  };
  if (!t.previewText) patch.previewText = previewText(m.body);
  store.update('tickets', t.id, patch, actor);
  return msg;
}

export function recordEmail(store: Store, e: Omit<EmailRecord, 'at'>): void {
  if (e.to.length + e.cc.length + e.bcc.length === 0) return;
  store.emails.push({ at: store.timestamp(), ...e });
  store.changed();
}
