// The 3-step file upload (ref → presigned multipart POST to the sandbox's "S3" → PATCH),
// attaching to messages, and byte-identical download.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FormData, request } from 'undici';
import { startSandbox } from './index.ts';
import type { Sandbox } from './index.ts';
import { call } from './test-helpers.ts';

let sb: Sandbox;
before(async () => { sb = await startSandbox({ rateLimitPerMinute: 100_000 }); });
after(async () => { await sb.close(); });
beforeEach(() => sb.store.reset());

async function s3Post(url: string, params: Record<string, string>, bytes: Buffer, name: string, tamper?: (f: FormData) => void) {
  const form = new FormData();
  for (const [k, v] of Object.entries(params)) form.append(k, v);
  tamper?.(form);
  form.append('file', new Blob([new Uint8Array(bytes)]), name);
  const res = await request(url, { method: 'POST', body: form });
  return { status: res.statusCode, text: await res.body.text() };
}

const ref = () => call(sb, 'POST', '/files/ref.json', { type: 'attachment', filename: 'report.pdf', mimeType: 'application/pdf', disposition: 'attachment' });

describe('files', () => {
  const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));

  it('ref → S3 POST → PATCH → attach to a reply → download identical bytes', async () => {
    const r = await ref();
    assert.equal(r.status, 201);
    assert.equal(r.json.file.state, 'temp');
    assert.equal(r.json.file.size, 0);
    assert.ok(r.json.url.startsWith(sb.url));
    for (const k of ['Content-Type', 'bucket', 'key', 'policy', 'success_action_status', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature']) {
      assert.ok(k in r.json.params, k);
    }
    const up = await s3Post(r.json.url, r.json.params, bytes, 'report.pdf');
    assert.equal(up.status, 201, up.text);
    assert.match(up.text, /<PostResponse>/);
    const id = r.json.file.id;
    const t = (await call(sb, 'POST', '/tickets.json', { subject: 's', message: 'm', inbox: { id: 1 }, customer: { email: 'c@x.io' }, notifyCustomer: false })).json.ticket;
    const early = await call(sb, 'POST', `/tickets/${t.id}/messages.json`, { message: 'see file', threadType: 'note', files: [{ id }] });
    assert.equal(early.status, 400, 'not confirmed yet');
    assert.equal(early.json.errors[0].code, 'not_confirmed');
    const p = await call(sb, 'PATCH', `/files/${id}.json`);
    assert.equal(p.status, 200, p.text);
    assert.equal(p.json.file.size, bytes.length);
    assert.equal(p.json.file.state, 'active');
    const m = await call(sb, 'POST', `/tickets/${t.id}/messages.json`, { message: 'see file', threadType: 'note', files: [{ id }] });
    assert.equal(m.status, 201, m.text);
    const dl = await call(sb, 'GET', `/desk/api/v2/tickets/${t.id}/files/${id}/download`);
    assert.equal(dl.status, 200);
    assert.equal(dl.headers['content-type'], 'application/pdf');
    assert.ok(dl.bytes.equals(bytes));
    const admin = await call(sb, 'GET', `/_sandbox/files/${id}/content`, undefined, { auth: null });
    assert.equal(createHash('sha256').update(admin.bytes).digest('hex'), createHash('sha256').update(bytes).digest('hex'));
    assert.equal((await call(sb, 'GET', `/desk/api/v2/tickets/${t.id}/files/99/download`)).status, 404);
  });

  it('the S3 endpoint validates like a presigned POST', async () => {
    const r = await ref();
    const changed = await s3Post(r.json.url, { ...r.json.params, key: 'desk/other/evil.pdf' }, bytes, 'x');
    assert.equal(changed.status, 403);
    assert.match(changed.text, /AccessDenied/);
    const badSig = await s3Post(r.json.url, { ...r.json.params, 'x-amz-signature': 'f'.repeat(64) }, bytes, 'x');
    assert.match(badSig.text, /SignatureDoesNotMatch/);
    const ct = await s3Post(r.json.url, { ...r.json.params, 'Content-Type': 'text/html' }, bytes, 'x');
    assert.equal(ct.status, 403);
    const extra = await s3Post(r.json.url, r.json.params, bytes, 'x', (f) => f.append('acl', 'public-read'));
    assert.match(extra.text, /Extra input fields: acl/);
    const { policy: _p, ...noPolicy } = r.json.params;
    assert.equal((await s3Post(r.json.url, noPolicy, bytes, 'x')).status, 403);
    const noFile = await request(r.json.url, { method: 'POST', body: (() => { const f = new FormData(); for (const [k, v] of Object.entries(r.json.params)) f.append(k, v as string); return f; })() });
    assert.equal(noFile.statusCode, 400);
    await noFile.body.dump();
    assert.equal((await call(sb, 'PATCH', `/files/${r.json.file.id}.json`)).status, 400, 'nothing uploaded yet');
  });

  it('presigned policy expires (fake clock) and files/ref validates its body', async () => {
    let now = Date.UTC(2025, 0, 1);
    const sb2 = await startSandbox({ now: () => now });
    try {
      const r = await call(sb2, 'POST', '/files/ref.json', { filename: 'a.txt', mimeType: 'text/plain' });
      now += 2 * 3600_000;
      const up = await s3Post(r.json.url, r.json.params, Buffer.from('hi'), 'a.txt');
      assert.equal(up.status, 403);
      assert.match(up.text, /Policy expired/);
      const bad = await call(sb2, 'POST', '/files/ref.json', { type: 'avatar', disposition: 'inline' });
      assert.deepEqual(bad.json.errors.map((e: { source: string }) => e.source).sort(), ['disposition', 'filename', 'mimeType', 'type']);
    } finally { await sb2.close(); }
  });

  it('rejects more than 20 MB of attachments on one reply', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await ref();
      assert.equal((await s3Post(r.json.url, r.json.params, Buffer.alloc(11 * 1024 * 1024, i), 'big.bin')).status, 201);
      await call(sb, 'PATCH', `/files/${r.json.file.id}.json`);
      ids.push(r.json.file.id);
    }
    const t = await call(sb, 'POST', '/tickets.json', { subject: 's', message: 'm', inbox: { id: 1 }, customer: { email: 'c@x.io' }, notifyCustomer: false, files: ids.map((id) => ({ id })) });
    assert.equal(t.status, 400);
    assert.equal(t.json.errors[0].code, 'too_large');
  });
});
