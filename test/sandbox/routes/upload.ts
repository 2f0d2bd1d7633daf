// The "S3" endpoint of the presigned POST, served by the sandbox. No Desk auth and no Desk
// rate limit (the real one is AWS). Checks like S3 does: signature over the policy, policy
// expiry, every policy condition, no extra fields, size range; answers S3-style XML.

import { createHash } from 'node:crypto';
import type { Reply, Router } from '../http.ts';
import { BUCKET, MAX_UPLOAD_BYTES, decodePolicy } from '../presign.ts';
import type { Presigner } from '../presign.ts';
import type { Deps } from './common.ts';

const xmlEscape = (s: string): string => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

const s3Error = (status: number, code: string, message: string): Reply => ({
  status,
  raw: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>sandbox</RequestId></Error>`,
  headers: { 'content-type': 'application/xml' },
});

// Fields S3 never expects in the policy.
const EXEMPT = new Set(['policy', 'x-amz-signature', 'file']);

export function registerUpload(r: Router, deps: Deps, presigner: Presigner): void {
  const { store } = deps;
  r.add('POST', `/_s3/:bucket/`, 'upload', { family: 'upload', bodyLimit: () => MAX_UPLOAD_BYTES + 1024 * 1024, rawBodyOnly: true }, async (ctx) => {
    if (ctx.params.bucket !== BUCKET) return s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
    const ct = ctx.req.headers['content-type'] ?? '';
    if (!/^multipart\/form-data/i.test(ct)) return s3Error(412, 'PreconditionFailed', 'Bucket POST must be of the enclosure-type multipart/form-data');
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(ctx.rawBody), { headers: { 'content-type': ct } }).formData();
    } catch {
      return s3Error(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
    }
    // S3 ignores every field after the file part.
    const fields = new Map<string, string>();
    let file: File | null = null;
    for (const [name, value] of form) {
      if (file) break;
      if (name === 'file') {
        if (typeof value === 'string') return s3Error(400, 'InvalidArgument', 'file must be a file part');
        file = value;
      } else if (typeof value === 'string') {
        if (fields.has(name.toLowerCase())) return s3Error(400, 'InvalidArgument', `duplicate field ${name}`);
        fields.set(name.toLowerCase() === 'content-type' ? 'Content-Type' : name, value);
      }
    }
    if (!file) return s3Error(400, 'InvalidArgument', 'POST requires exactly one file upload per request.');
    const policyB64 = fields.get('policy');
    const signature = fields.get('x-amz-signature');
    if (!policyB64 || !signature) return s3Error(403, 'AccessDenied', 'Bucket POST must contain a policy and x-amz-signature');
    if (presigner.sign(policyB64) !== signature) return s3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    const policy = decodePolicy(policyB64);
    if (!policy) return s3Error(400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
    if (Date.parse(policy.expiration) <= store.now()) return s3Error(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
    let maxBytes = MAX_UPLOAD_BYTES;
    const covered = new Set<string>();
    for (const cond of policy.conditions) {
      if (Array.isArray(cond)) {
        if (cond[0] === 'content-length-range') {
          maxBytes = Number(cond[2]);
          continue;
        }
        const name = String(cond[1]).replace(/^\$/, '');
        covered.add(name);
        if (fields.get(name) !== String(cond[2])) return s3Error(403, 'AccessDenied', `Invalid according to Policy: Policy Condition failed: ${JSON.stringify(cond)}`);
        continue;
      }
      for (const [name, expected] of Object.entries(cond)) {
        covered.add(name);
        const actual = name === 'bucket' ? fields.get('bucket') ?? ctx.params.bucket : fields.get(name);
        if (actual !== expected) return s3Error(403, 'AccessDenied', `Invalid according to Policy: Policy Condition failed: ["eq", "$${name}", "${expected}"]`);
      }
    }
    for (const name of fields.keys()) {
      if (!EXEMPT.has(name) && !covered.has(name)) return s3Error(403, 'AccessDenied', `Invalid according to Policy: Extra input fields: ${name}`);
    }
    const key = fields.get('key')!;
    const pending = store.uploads.get(key);
    if (!pending) return s3Error(403, 'AccessDenied', 'No upload was issued for this key');
    const bytes = Buffer.from(await file.arrayBuffer());
    if (bytes.length > maxBytes) return s3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
    const rec = store.raw('files', pending.fileId);
    if (!rec) return s3Error(403, 'AccessDenied', 'No upload was issued for this key');
    store.blobs.set(rec.id, bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    store.update('files', rec.id, { _sandbox: { ...rec._sandbox, uploaded: true, sha256 } }, rec.createdBy);
    const etag = `"${createHash('md5').update(bytes).digest('hex')}"`;
    // Path only, as in Teamwork's documented answer (`<Location>/A_NAME/A_VALUE_FOR_LATER</Location>`):
    // a client must resolve it against the upload URL to get the object's address.
    const location = `/_s3/${BUCKET}/${encodeURIComponent(key)}`;
    return {
      status: Number(fields.get('success_action_status') ?? 204) === 201 ? 201 : 204,
      raw: `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>${xmlEscape(location)}</Location><Bucket>${BUCKET}</Bucket><Key>${xmlEscape(key)}</Key><ETag>${etag}</ETag></PostResponse>`,
      headers: { 'content-type': 'application/xml', etag },
    };
  });
}
