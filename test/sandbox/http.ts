// Minimal router and request context. Raw node:http instead of a framework: fault injection
// needs the socket (drop, lose-after-write), and empty/odd bodies must be judged like Desk
// would, not by a framework's parser.

import type { IncomingMessage } from 'node:http';
import { ApiError, tooLarge } from './errors.ts';
import type { User } from './model.ts';

export type Zone = 'v2' | 'v1' | 'upload' | 'admin';

export interface Ctx {
  req: IncomingMessage;
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  rawBody: Buffer;
  /** Parsed JSON body, undefined when empty. */
  body: unknown;
  /** The key's user (v1/v2 routes only). */
  user: User;
  baseUrl: string;
}

export interface Reply {
  status: number;
  json?: unknown;
  raw?: Buffer | string;
  headers?: Record<string, string>;
}

export type Handler = (ctx: Ctx) => Reply | Promise<Reply>;

export interface RouteOptions {
  /** Endpoint family for faults and call counts (tickets, customers, files, import, ...). */
  family: string;
  /** Max body bytes (overrides the zone default). */
  bodyLimit?: () => number;
  /** Body is not JSON (multipart upload): leave `body` undefined. */
  rawBodyOnly?: boolean;
}

export interface Route extends RouteOptions {
  method: string;
  pattern: string;
  zone: Zone;
  regex: RegExp;
  keys: string[];
  handler: Handler;
}

export class Router {
  readonly routes: Route[] = [];

  add(method: string, pattern: string, zone: Zone, opts: RouteOptions, handler: Handler): void {
    const keys: string[] = [];
    const src = pattern
      .split('/')
      .map((seg) => seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, (_m, k: string) => {
        keys.push(k);
        // ids are numeric on Desk; anything else is not a route (so /tickets/update.json wins).
        return k.endsWith('Id') || k === 'id' ? '(\\d+)' : '([^/]+)';
      }))
      .join('/');
    this.routes.push({ ...opts, method, pattern, zone, regex: new RegExp(`^${src}$`), keys, handler });
  }

  match(method: string, path: string): { route: Route; params: Record<string, string> } | { allowed: string[] } | null {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const m = route.regex.exec(path);
      if (!m) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1]!)));
      return { route, params };
    }
    return allowed.length ? { allowed } : null;
  }
}

/** Reads the body up to `limit` bytes; over the limit → 413 (checked early via Content-Length). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge('body', `request body of ${declared} bytes exceeds the limit of ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooLarge('body', `request body exceeds the limit of ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function parseJson(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  if (contentType && !/json/i.test(contentType)) {
    throw new ApiError(415, [{ detail: 'expected application/json', source: 'Content-Type', code: 'unsupported_media_type' }]);
  }
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new ApiError(400, [{ detail: 'body is not valid JSON', source: 'body', code: 'invalid_json' }]);
  }
}

export const json = (status: number, body: unknown, headers?: Record<string, string>): Reply =>
  headers ? { status, json: body, headers } : { status, json: body };
