import { openAsBlob } from 'node:fs';
import { access } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeskportError } from '../core/errors.ts';
import type { TeamworkDeskClient } from './client.ts';

/**
 * The v2 calls the write path needs (teamwork-desk-api.md §6–§8): ticket create, message post,
 * the 3-step file upload, and the look-ups that find a write again after a crash. Nothing here
 * emails anyone by itself: ticket creates always send `notifyCustomer: false` and never cc/bcc.
 */

export interface V2TicketCreate {
  subject: string;
  message: string;
  customerEmail: string;
  inboxId: number;
  statusId?: number;
  priorityId?: number;
  typeId?: number;
  agentId?: number;
  tagIds: number[];
  fileIds: number[];
  customfields?: { id: number; meta: { value: unknown } }[];
}

interface Ref { id: number }
interface TicketBody { ticket?: { id?: number; messages?: Ref[] } }
interface MessageBody { message?: { id?: number } }

export async function createTicketV2(client: TeamworkDeskClient, t: V2TicketCreate): Promise<{ ticketId: string; messageId: string | null }> {
  const body = await client.request<TicketBody>('POST', `${client.v2}/tickets.json`, {
    body: {
      subject: t.subject, message: t.message, editMethod: 'html',
      customer: { email: t.customerEmail }, inbox: { id: t.inboxId },
      // Explicit: the server's default is undocumented, and a create on behalf of a customer may email them.
      notifyCustomer: false,
      ...(t.statusId !== undefined ? { status: { id: t.statusId } } : {}),
      ...(t.priorityId !== undefined ? { priority: { id: t.priorityId } } : {}),
      ...(t.typeId !== undefined ? { type: { id: t.typeId } } : {}),
      ...(t.agentId !== undefined ? { agent: { id: t.agentId } } : {}),
      ...(t.tagIds.length > 0 ? { tags: t.tagIds.map((id) => ({ id })) } : {}),
      ...(t.fileIds.length > 0 ? { files: t.fileIds.map((id) => ({ id })) } : {}),
      ...(t.customfields && t.customfields.length > 0 ? { customfields: t.customfields } : {}),
    },
  });
  const id = body?.ticket?.id;
  if (typeof id !== 'number') throw new DeskportError('DESKPORT_TARGET_SHAPE', 'ticket create answered without an id');
  const first = body.ticket?.messages?.[0]?.id;
  return { ticketId: String(id), messageId: typeof first === 'number' ? String(first) : null };
}

export async function postMessageV2(client: TeamworkDeskClient, ticketId: string, m: { body: string; threadType: 'message' | 'note'; fileIds: number[] }): Promise<string> {
  const body = await client.request<MessageBody>('POST', `${client.v2}/tickets/${ticketId}/messages.json`, {
    body: { message: m.body, editMethod: 'html', threadType: m.threadType, ...(m.fileIds.length > 0 ? { files: m.fileIds.map((id) => ({ id })) } : {}) },
  });
  const id = body?.message?.id;
  if (typeof id !== 'number') throw new DeskportError('DESKPORT_TARGET_SHAPE', 'message create answered without an id');
  return String(id);
}

/** A ticket whose first message carries `marker` (ticket search matches subject and message bodies). */
export async function findTicketByMarker(client: TeamworkDeskClient, marker: string): Promise<string | null> {
  const body = await client.request<{ tickets?: Ref[] }>('GET', `${client.v2}/search/tickets.json`, { query: { search: marker, pageSize: 50 } });
  const hits = body?.tickets ?? [];
  return hits.length > 0 ? String(hits[0]!.id) : null;
}

/** A message of the ticket whose body carries `marker`. */
export async function findMessageByMarker(client: TeamworkDeskClient, ticketId: string, marker: string): Promise<string | null> {
  for (let page = 1; ; page++) {
    const body = await client.request<{ messages?: { id: number; htmlBody?: string; message?: string }[]; meta?: { page?: { hasMore?: boolean } } }>(
      'GET', `${client.v2}/tickets/${ticketId}/messages.json`, { query: { page, pageSize: 100 } },
    );
    const list = body?.messages ?? [];
    const hit = list.find((m) => (m.htmlBody ?? m.message ?? '').includes(marker));
    if (hit) return String(hit.id);
    if (!body?.meta?.page?.hasMore || list.length === 0) return null;
  }
}

/** An uploaded file: its id, and its download address as the API answered it (what an article body links to). */
export interface UploadedFile { fileId: number; url: string }

/**
 * The file's download address from the answers of the upload: the confirmed file's own URL field
 * if Desk sends one (undocumented; the names seen in Teamwork's models), else the storage's
 * `<Location>` of the stored object (S3's PostResponse, documented in §8 — relative in Teamwork's
 * sample, so resolved against the upload URL), else the upload URL plus the key it was stored under.
 */
export function downloadUrlOf(confirmed: unknown, storageAnswer: string, uploadUrl: string, key: string): string {
  const file = (confirmed as { file?: Record<string, unknown> } | null)?.file ?? {};
  for (const k of ['downloadURL', 'downloadUrl', 'url']) {
    const v = file[k];
    if (typeof v === 'string' && /^https?:\/\//i.test(v)) return v;
  }
  const location = /<Location>([^<]+)<\/Location>/.exec(storageAnswer)?.[1]?.replace(/&amp;/g, '&').trim();
  if (location) {
    try {
      return new URL(location, uploadUrl).toString();
    } catch { /* not a URL: fall through */ }
  }
  return `${uploadUrl.replace(/\/?$/, '/')}${key.split('/').map(encodeURIComponent).join('/')}`;
}

const MIME = /^[\w.+-]+\/[\w.+-]+$/;

/** A plain file name the target accepts (no path separators, ≤ 255 characters). */
export function safeFileName(name: string): string {
  const plain = name.replace(/[/\\]/g, '_').trim() || 'attachment';
  return plain.length <= 255 ? plain : plain.slice(0, 255);
}

/**
 * The documented 3-step upload (teamwork-desk-api.md §8): `files/ref` → signed multipart POST to
 * the storage URL (not a Desk call: no auth header, no rate budget) → `PATCH files/{id}` to confirm.
 * The bytes stream from the blob store; a missing blob costs no target call.
 */
export async function uploadFileV2(client: TeamworkDeskClient, f: { path: string; fileName: string; contentType: string | null; inline: boolean }): Promise<UploadedFile> {
  await access(f.path).catch((err: NodeJS.ErrnoException) => {
    throw new DeskportError('DESKPORT_BLOB_MISSING', `the fetched bytes of ${f.fileName} are not in the blob store (${err.code})`, { hint: 'Check source.blobDir (DESKPORT_BLOB_DIR).' });
  });
  const mimeType = f.contentType && MIME.test(f.contentType) ? f.contentType : 'application/octet-stream';
  const fileName = safeFileName(f.fileName);
  // A repeated ref only leaves an unused temp file in the target: safe to retry.
  const ref = await client.request<{ url?: string; params?: Record<string, string>; file?: { id?: number } }>('POST', `${client.v2}/files/ref.json`, {
    idempotent: true,
    body: { type: 'attachment', filename: fileName, mimeType, disposition: f.inline ? 'attachment-inline' : 'attachment' },
  });
  const id = ref?.file?.id;
  if (!ref?.url || !ref.params || typeof id !== 'number') throw new DeskportError('DESKPORT_TARGET_SHAPE', 'files/ref answered without url, params and file id', { endpoint: 'files/ref' });
  const stored = await postToStorage(ref.url, ref.params, f.path, fileName, mimeType);
  const confirmed = await client.request('PATCH', `${client.v2}/files/${id}.json`, { idempotent: true });
  return { fileId: id, url: downloadUrlOf(confirmed, stored, ref.url, ref.params.key ?? '') };
}

/** The presigned POST: every param as signed, then the file part last (storage ignores fields after it). Answers the storage's reply. */
async function postToStorage(url: string, params: Record<string, string>, path: string, fileName: string, mimeType: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const form = new FormData();
    for (const [k, v] of Object.entries(params)) form.append(k, v);
    form.append('file', await openAsBlob(path, { type: mimeType }), fileName);
    let status: number;
    let text = '';
    try {
      const res = await fetch(url, { method: 'POST', body: form });
      status = res.status;
      text = await res.text();
    } catch (err) {
      // Re-posting the same key is harmless (storage overwrites it); give up after a few tries.
      if (attempt >= 4) throw new DeskportError('DESKPORT_UPLOAD_FAILED', `upload of ${fileName} failed: ${(err as Error).message}`, { cause: err });
      await sleep(200 * 2 ** attempt);
      continue;
    }
    if (status >= 200 && status < 300) return text;
    if (status >= 500 && attempt < 4) {
      await sleep(200 * 2 ** attempt);
      continue;
    }
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? String(status);
    throw new DeskportError('DESKPORT_UPLOAD_FAILED', `upload of ${fileName} refused by storage: ${status} ${code}`, { status });
  }
}
