// Request pipeline: zone by path → (v1/v2) auth → rate limit → faults → body → handler →
// (maybe) lose the response. Rate-limit headers go on every authenticated v1/v2 response.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { authenticate } from './auth.ts';
import { ApiError } from './errors.ts';
import type { CallLog } from './calls.ts';
import type { FaultInjector } from './faults.ts';
import { parseJson, readBody } from './http.ts';
import type { Ctx, Reply, Router, Zone } from './http.ts';
import type { User } from './model.ts';
import { FixedWindowLimiter, rateHeaders } from './rate-limit.ts';
import type { Deps } from './routes/common.ts';

export interface ServerParts {
  deps: Deps;
  router: Router;
  adminRouter: Router;
  limiter: FixedWindowLimiter;
  faults: FaultInjector;
  calls: CallLog;
  oauthTokens: ReadonlySet<string>;
  log: boolean;
}

const zoneOf = (path: string): Zone | null =>
  path.startsWith('/desk/api/v2/') ? 'v2'
    : path.startsWith('/desk/v1/') ? 'v1'
      : path.startsWith('/_s3/') ? 'upload'
        : path.startsWith('/_sandbox/') || path === '/_sandbox' ? 'admin' : null;

const isLoopback = (addr: string | undefined): boolean =>
  !!addr && (addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.'));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function send(res: ServerResponse, reply: Reply, extra: Record<string, string>): void {
  const headers: Record<string, string> = { ...extra, ...reply.headers };
  let payload: Buffer | string | undefined;
  if (reply.json !== undefined) {
    payload = JSON.stringify(reply.json);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  } else if (reply.raw !== undefined) payload = reply.raw;
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, headers);
  res.end(payload);
}

const errorReply = (err: unknown): Reply => {
  if (err instanceof ApiError) return { status: err.status, json: err.toBody(), headers: err.headers };
  return { status: 500, json: { errors: [{ detail: `sandbox bug: ${(err as Error)?.message ?? String(err)}`, source: 'server', code: 'internal' }] } };
};

export function buildServer(p: ServerParts): Server {
  return createServer((req, res) => {
    handle(p, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, errorReply(err), {});
      else res.destroy();
    });
  });
}

async function handle(p: ServerParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { deps } = p;
  const { store, config } = deps;
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url ?? '/', 'http://sandbox.local');
  const path = url.pathname;
  const zone = zoneOf(path);
  if (p.log) process.stderr.write(`[sandbox] ${method} ${path}\n`);

  if (zone === 'admin') {
    if (!isLoopback(req.socket.remoteAddress)) return send(res, { status: 403, json: { errors: [{ detail: 'admin surface is loopback-only', source: 'remoteAddress', code: 'forbidden' }] } }, {});
    return dispatch(p, p.adminRouter, req, res, method, path, url, null, {}, null);
  }
  if (zone === null) {
    return send(res, { status: 404, json: { errors: [{ detail: `no route ${method} ${path}`, source: 'path', code: 'not_found' }] } }, {});
  }

  let user: User | null = null;
  let headers: Record<string, string> = {};
  const matched = p.router.match(method, path);
  const route = matched && 'route' in matched ? matched.route : null;
  const routeName = route?.pattern ?? '(unmatched)';
  const family = route?.family ?? 'unknown';

  if (zone === 'v1' || zone === 'v2') {
    try {
      user = authenticate(store, p.oauthTokens, zone, req.headers.authorization);
    } catch (err) {
      p.calls.record(method, routeName, (err as ApiError).status ?? 500);
      return send(res, errorReply(err), {});
    }
    const separate = family === 'import' && !config.importSharesBudget;
    const limit = separate ? config.importRateLimitPerMinute : config.rateLimitPerMinute;
    const decision = p.limiter.hit(separate ? 'account:import' : 'account', limit, config.rateLimitWindowMs);
    headers = rateHeaders(decision, store.now(), config.resetStyle, config.retryAfterHeader, !decision.allowed);
    if (!decision.allowed) {
      p.calls.record(method, routeName, 429);
      req.resume();
      return send(res, { status: 429, json: { errors: [{ detail: 'rate limit exceeded', source: 'rate-limit', code: 'too_many_requests' }] } }, headers);
    }
  }

  const fault = p.faults.decide(config.faults, method, family, method !== 'GET' && method !== 'HEAD');
  if (fault.storm) {
    p.calls.record(method, routeName, 429);
    req.resume();
    const h: Record<string, string> = { ...headers, 'x-rate-limit-remaining': '0' };
    if (config.retryAfterHeader) h['retry-after'] = '1';
    return send(res, { status: 429, json: { errors: [{ detail: 'rate limit exceeded', source: 'rate-limit', code: 'too_many_requests' }] } }, h);
  }
  if (fault.drop) {
    p.calls.record(method, routeName, 'dropped');
    req.socket.destroy();
    return;
  }
  if (fault.delayMs > 0) await sleep(fault.delayMs);
  if (fault.error !== null) {
    p.calls.record(method, routeName, fault.error);
    req.resume();
    return send(res, { status: fault.error, json: { errors: [{ detail: 'injected server error', source: 'sandbox', code: 'internal' }] } }, headers);
  }
  if (!matched || !route) {
    const status = matched && 'allowed' in matched ? 405 : 404;
    p.calls.record(method, routeName, status);
    req.resume();
    return send(res, { status, json: { errors: [{ detail: `no route ${method} ${path}`, source: 'path', code: status === 405 ? 'method_not_allowed' : 'not_found' }] } },
      status === 405 && matched && 'allowed' in matched ? { ...headers, allow: matched.allowed.join(', ') } : headers);
  }
  await dispatch(p, p.router, req, res, method, path, url, user, headers, fault.lostAfterWrite ? routeName : null);
}

async function dispatch(p: ServerParts, router: Router, req: IncomingMessage, res: ServerResponse, method: string, path: string, url: URL,
  user: User | null, headers: Record<string, string>, loseAs: string | null): Promise<void> {
  const { config } = p.deps;
  const matched = router.match(method, path);
  const isAdmin = router === p.adminRouter;
  if (!matched || !('route' in matched)) {
    return send(res, { status: matched ? 405 : 404, json: { errors: [{ detail: `no route ${method} ${path}`, source: 'path', code: 'not_found' }] } }, headers);
  }
  const { route, params } = matched;
  let reply: Reply;
  try {
    const limit = route.bodyLimit?.() ?? (route.zone === 'v1' ? config.importMaxBodyBytes : isAdmin ? 64 * 1024 * 1024 : config.maxBodyBytes);
    const rawBody = await readBody(req, limit);
    const ctx: Ctx = {
      req, method, path, params, query: url.searchParams, rawBody,
      body: route.rawBodyOnly ? undefined : parseJson(rawBody, req.headers['content-type']),
      user: user as User, baseUrl: p.deps.publicUrl(),
    };
    reply = await route.handler(ctx);
  } catch (err) {
    reply = errorReply(err);
  }
  if (!isAdmin) {
    // "Lost response": the write is committed, then the client never hears back.
    if (loseAs && reply.status < 400) {
      p.calls.record(method, loseAs, 'lost');
      res.socket?.destroy();
      return;
    }
    p.calls.record(method, route.pattern, reply.status);
  }
  if (reply.status === 413) headers = { ...headers, connection: 'close' };
  send(res, reply, headers);
}
