// Files, 3 steps: POST files/ref.json → presigned POST params; multipart POST to the returned
// url (served by routes/upload.ts); PATCH files/{id}.json to confirm (size becomes real,
// state leaves "temp"). Attach with `files: [{id}]` on ticket create or a message.

import { randomUUID } from 'node:crypto';
import { badRequest } from '../errors.ts';
import type { Router } from '../http.ts';
import type { Presigner } from '../presign.ts';
import { BUCKET } from '../presign.ts';
import { present } from '../present.ts';
import { Errors, V2, actorRef, flat, mustGet, single, str } from './common.ts';
import type { Deps } from './common.ts';

export function registerFiles(r: Router, deps: Deps, presigner: Presigner): void {
  const { store } = deps;
  const o = { family: 'files' };
  r.add('POST', `${V2}/files/ref.json`, 'v2', o, (ctx) => {
    const body = flat(ctx.body);
    const errs = new Errors();
    const type = str(errs, body, 'type', 'type') ?? 'attachment';
    if (type !== 'attachment') errs.add('type', 'must be "attachment"');
    const filename = str(errs, body, 'filename', 'filename', true);
    if (filename && (filename.length > 255 || /[/\\]/.test(filename))) errs.add('filename', 'must be a plain file name of at most 255 characters');
    const mimeType = str(errs, body, 'mimeType', 'mimeType', true);
    if (mimeType && !/^[\w.+-]+\/[\w.+-]+$/.test(mimeType)) errs.add('mimeType', 'is not a MIME type');
    const disposition = str(errs, body, 'disposition', 'disposition') ?? 'attachment';
    if (disposition !== 'attachment' && disposition !== 'attachment-inline') errs.add('disposition', 'must be "attachment" or "attachment-inline"');
    errs.throwIfAny();
    const key = `desk/${randomUUID()}/${filename!}`;
    const file = store.insert('files', {
      fileName: filename!, mimeType: mimeType!, size: 0, disposition: disposition as 'attachment' | 'attachment-inline',
      state: 'temp', _sandbox: { uploadKey: key, uploaded: false, sha256: null },
    }, actorRef(ctx));
    const { params, expiresAt } = presigner.issue(key, mimeType!, store.now());
    store.uploads.set(key, { fileId: file.id, key, params, expiresAt, maxBytes: 20 * 1024 * 1024 });
    store.changed();
    return { status: 201, json: { url: `${deps.publicUrl()}/_s3/${BUCKET}/`, params, file: present('files', file, store.shapes()) } };
  });
  r.add('PATCH', `${V2}/files/:id.json`, 'v2', o, (ctx) => {
    const f = mustGet(store, 'files', ctx.params.id, 'file');
    if (!f._sandbox.uploaded) throw badRequest('file', 'no upload found for this file; POST it to the upload url first', 'not_uploaded');
    const size = store.blobs.get(f.id)?.length ?? 0;
    const next = store.update('files', f.id, { state: 'active', size }, actorRef(ctx));
    store.uploads.delete(f._sandbox.uploadKey);
    return single(store, 'file', 'files', next, null, 200);
  });
  r.add('GET', `${V2}/files/:id.json`, 'v2', o, (ctx) => single(store, 'file', 'files', mustGet(store, 'files', ctx.params.id, 'file'), ctx));
}
