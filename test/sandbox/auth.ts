// Credentials as Teamwork documents them: API key as the HTTP Basic username (any password),
// or `Authorization: Bearer <API key | OAuth token>`. The v1 import only takes Basic, as in
// Teamwork's own import sample.

import { ApiError } from './errors.ts';
import type { User } from './model.ts';
import type { Store } from './store.ts';

export type Zone = 'v1' | 'v2';

export function parseAuthorization(header: string | undefined): { scheme: 'basic' | 'bearer'; token: string } | null {
  if (!header) return null;
  const m = /^(\w+)\s+(.+)$/.exec(header.trim());
  if (!m) return null;
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'bearer') return { scheme: 'bearer', token: m[2]!.trim() };
  if (scheme !== 'basic') return null;
  const decoded = Buffer.from(m[2]!.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon === -1 ? decoded : decoded.slice(0, colon);
  return user ? { scheme: 'basic', token: user } : null;
}

const unauthorized = (detail: string): ApiError =>
  new ApiError(401, [{ detail, source: 'Authorization', code: 'unauthorized' }], {
    'www-authenticate': 'Basic realm="Teamwork Desk"',
  });

export function authenticate(store: Store, oauthTokens: ReadonlySet<string>, zone: Zone, header: string | undefined): User {
  const creds = parseAuthorization(header);
  if (!creds) throw unauthorized('missing or malformed credentials');
  if (zone === 'v1' && creds.scheme !== 'basic') throw unauthorized('the v1 API takes the API key as HTTP Basic username');
  let user = store.userByKey(creds.token);
  if (!user && creds.scheme === 'bearer' && zone === 'v2' && oauthTokens.has(creds.token)) {
    user = store.list('users').find((u) => u.role === 'admin');
  }
  if (!user) throw unauthorized('invalid API key or token');
  if (user.status !== 'active') throw unauthorized('user is not active');
  return user;
}
