// The sandbox's stand-in for S3 presigned POST: a policy document signed with a per-server
// secret, checked field by field when the multipart POST arrives.

import { createHmac, randomBytes } from 'node:crypto';

export const BUCKET = 'tw-desk';
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

export class Presigner {
  private readonly secret = randomBytes(32);

  sign(policyB64: string): string {
    return createHmac('sha256', this.secret).update(policyB64).digest('hex');
  }

  /** Builds the `params` object of files/ref: every field must come back unchanged. */
  issue(key: string, contentType: string, nowMs: number, ttlMs = 3600_000): { params: Record<string, string>; expiresAt: number } {
    const d = new Date(nowMs);
    const amzDate = d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const credential = `SANDBOXAKIA/${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
    const expiresAt = nowMs + ttlMs;
    const fields = {
      'Content-Type': contentType,
      bucket: BUCKET,
      key,
      success_action_status: '201',
      'x-amz-algorithm': 'AWS4-HMAC-SHA256',
      'x-amz-credential': credential,
      'x-amz-date': amzDate,
    };
    const policy = Buffer.from(JSON.stringify({
      expiration: new Date(expiresAt).toISOString(),
      conditions: [
        ...Object.entries(fields).map(([k, v]) => ({ [k]: v })),
        ['content-length-range', 0, MAX_UPLOAD_BYTES],
      ],
    })).toString('base64');
    return { params: { ...fields, policy, 'x-amz-signature': this.sign(policy) }, expiresAt };
  }
}

export interface Policy {
  expiration: string;
  conditions: Array<Record<string, string> | [string, ...unknown[]]>;
}

export function decodePolicy(b64: string): Policy | null {
  try {
    const p = JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as Policy;
    return typeof p.expiration === 'string' && Array.isArray(p.conditions) ? p : null;
  } catch {
    return null;
  }
}
