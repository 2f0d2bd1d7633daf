import { openAsBlob } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { FormData, request } from 'undici';
import { DeskportError } from '../src/errors.ts';
import type { TeamworkDeskClient } from './client.ts';

/**
 * Uploads one file through Teamwork Desk's documented 3-step flow (teamwork-desk-api.md §8):
 * `files/ref` → multipart POST to the signed upload URL (S3; no Desk auth, not on the Desk
 * rate limit) → `PATCH files/{id}` to confirm. Answers the file id and the address the article
 * body points at: the uploaded object (upload URL + key). How Desk links files to Help Docs
 * articles is undocumented (§10), so the body link is deskport's choice; see README "Knowledge base".
 */
export interface UploadedFile { fileId: string; url: string }

interface RefResponse { url?: string; params?: Record<string, string>; file?: { id?: number } }

const MIME = /^[\w.+-]+\/[\w.+-]+$/;

/** A plain file name the target accepts (no path separators, ≤ 255 characters). */
export function safeFileName(name: string): string {
  const plain = name.replace(/[/\\]/g, '_').trim() || 'attachment';
  return plain.length <= 255 ? plain : plain.slice(0, 255);
}

export async function uploadFile(client: TeamworkDeskClient, file: {
  blobDir: string; blobPath: string; fileName: string; contentType: string | null; inline: boolean;
}): Promise<UploadedFile> {
  const path = join(file.blobDir, file.blobPath);
  // A blob store without the bytes (moved, cleaned) costs no target call.
  await access(path).catch((err: NodeJS.ErrnoException) => {
    throw new DeskportError('DESKPORT_BLOB_MISSING', `the fetched bytes of ${file.fileName} are not in the blob store (${err.code})`, { hint: 'Check source.blobDir (DESKPORT_BLOB_DIR).' });
  });
  const mimeType = file.contentType && MIME.test(file.contentType) ? file.contentType : 'application/octet-stream';
  const fileName = safeFileName(file.fileName);
  // A repeated ref only leaves an unused temp file in the target: safe to retry.
  const ref = await client.request<RefResponse>('POST', `${client.v2}/files/ref.json`, {
    idempotent: true,
    body: { type: 'attachment', filename: fileName, mimeType, disposition: file.inline ? 'attachment-inline' : 'attachment' },
  });
  const fileId = ref?.file?.id;
  if (!ref?.url || !ref.params || typeof fileId !== 'number') {
    throw new DeskportError('DESKPORT_TARGET_SHAPE', 'files/ref answered without url, params and file id', { endpoint: 'files/ref' });
  }
  const form = new FormData();
  for (const [k, v] of Object.entries(ref.params)) form.append(k, v);
  // The file part goes last: S3 ignores every field after it. openAsBlob streams from disk.
  form.append('file', await openAsBlob(path, { type: mimeType }), fileName);
  const res = await request(ref.url, { method: 'POST', body: form });
  const text = await res.body.text();
  if (res.statusCode < 200 || res.statusCode >= 300) {
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? 'unknown';
    throw new DeskportError('DESKPORT_UPLOAD_FAILED', `upload of ${fileName} answered HTTP ${res.statusCode} (${code})`, { endpoint: 'upload' });
  }
  await client.request('PATCH', `${client.v2}/files/${fileId}.json`, { idempotent: true });
  const key = ref.params.key ?? '';
  return { fileId: String(fileId), url: `${ref.url.replace(/\/?$/, '/')}${key.split('/').map(encodeURIComponent).join('/')}` };
}
