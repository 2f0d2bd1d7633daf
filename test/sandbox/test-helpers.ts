// Helpers for the sandbox tests: real HTTP with undici against a started sandbox.

import { request } from 'undici';
import type { Sandbox } from './index.ts';

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience
  text: string;
  bytes: Buffer;
}

export const basic = (key: string): string => `Basic ${Buffer.from(`${key}:x`).toString('base64')}`;

export async function call(sb: Sandbox, method: string, path: string, body?: unknown,
  opts: { auth?: string | null; headers?: Record<string, string>; raw?: Buffer | string } = {}): Promise<Res> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  const auth = opts.auth === undefined ? basic(sb.apiKey) : opts.auth;
  if (auth) headers.authorization = auth;
  let payload: string | Buffer | undefined = opts.raw;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const url = path.startsWith('http') ? path : path.startsWith('/desk') || path.startsWith('/_') ? sb.url + path : sb.apiUrl + path;
  const res = await request(url, { method: method as 'GET', headers, ...(payload !== undefined ? { body: payload } : {}) });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: unknown = undefined;
  try { json = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
  return { status: res.statusCode, headers: res.headers, json, text, bytes };
}

/** A fake clock tests can move. */
export function fakeClock(start = Date.UTC(2025, 0, 1, 12, 0, 0)): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

export const errSources = (r: Res): string[] => (r.json?.errors ?? []).map((e: { source: string }) => e.source);
