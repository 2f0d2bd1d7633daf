import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, errors as undiciErrors } from 'undici';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import { DeskportError, TargetHttpError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { counter, gauge } from '../core/metrics.ts';
import { readRateHeaders, type RateBudget } from './rate-budget.ts';
import { firstProblem, RAW, responseSchema, UNREAD } from './target-schemas.ts';

/** A write whose outcome is unknown: the request may have reached the target before the failure. */
export class OutcomeUnknownError extends DeskportError {
  constructor(method: string, endpoint: string, cause: unknown) {
    super('DESKPORT_OUTCOME_UNKNOWN', `no answer to ${method} ${endpoint}; the write may or may not have happened`, { cause, method, endpoint });
  }
}

/** The target answered 2xx in a shape deskport does not read: the row fails with this, nothing is guessed. */
export class TargetShapeError extends DeskportError {
  declare readonly status: number;
  declare readonly endpoint: string;
  constructor(o: { status: number; method: string; endpoint: string; problem: string }) {
    super('DESKPORT_TARGET_SHAPE', `Teamwork Desk answered ${o.status} to ${o.method} ${o.endpoint} in a shape deskport does not read (${o.problem})`, {
      ...o, hint: 'The API may have changed: report the endpoint and the problem; rows that failed on it retry with load --retry-failed.',
    });
  }
}

export interface ClientOptions {
  /** Site base URL, e.g. https://acme.teamwork.com (no trailing path). */
  baseUrl: string;
  apiKey: string;
  authScheme: 'basic' | 'bearer';
  timeoutMs: number;
  budget: RateBudget;
  log: Logger;
  registry: Registry;
  /** Retries for 5xx and network errors on idempotent calls; 429s wait and do not count. */
  maxRetries?: number;
  max429Waits?: number;
}

export interface RequestOptions<T> {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /**
   * Validates the response body instead of the route's schema in load/target-schemas.ts (every
   * route deskport calls has one); a mismatch is an error naming the endpoint, status and problem.
   */
  schema?: z.ZodType<T>;
  /**
   * Safe to repeat after a network error or 5xx (GET, PATCH, DELETE, the deduping import).
   * A non-idempotent create that gets no clear answer throws OutcomeUnknownError instead.
   */
  idempotent?: boolean;
  /** Answer the body's bytes as a Buffer (file downloads for verify), not parsed JSON. */
  raw?: boolean;
}

const NETWORK_ERRORS = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** The retry table: what a failure means for the next step. */
function classify(err: unknown): 'network' | 'other' {
  const code = (err as { code?: string })?.code;
  if (code && NETWORK_ERRORS.has(code)) return 'network';
  if (err instanceof undiciErrors.SocketError || err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) return 'network';
  return 'other';
}

/** Endpoint label with ids folded, so metric labels stay bounded. */
export function endpointLabel(path: string): string {
  return path.replace(/\/\d+(?=\/|\.json|$)/g, '/:id');
}

/** Backoff with full jitter: 0.5 s, 1 s, 2 s … capped at 30 s. */
function backoffMs(attempt: number): number {
  return Math.random() * Math.min(30_000, 500 * 2 ** attempt);
}

/**
 * The Teamwork Desk HTTP client: keep-alive pool, timeouts, the shared rate budget before every
 * call, 429 handling (Retry-After, else the window reset), retries with jitter for what is safe to
 * repeat, and errors that carry status, endpoint and the API's message — never the credentials.
 */
export class TeamworkDeskClient {
  private readonly dispatcher: Agent;
  private readonly auth: string;
  private readonly calls;
  private readonly remainingGauge;
  private readonly limitGauge;
  private readonly throttled;
  private readonly retries;

  constructor(private readonly opts: ClientOptions) {
    this.dispatcher = new Agent({ connections: 8, keepAliveTimeout: 10_000, headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs });
    this.auth = opts.authScheme === 'basic'
      ? `Basic ${Buffer.from(`${opts.apiKey}:x`).toString('base64')}`
      : `Bearer ${opts.apiKey}`;
    this.calls = counter(opts.registry, 'deskport_load_http_requests_total', 'Calls to the target by endpoint and status', ['method', 'endpoint', 'status']);
    this.remainingGauge = gauge(opts.registry, 'deskport_load_rate_limit_remaining', 'X-Rate-Limit-Remaining as last seen');
    this.limitGauge = gauge(opts.registry, 'deskport_load_rate_limit_limit', 'X-Rate-Limit-Limit as last seen (requests per window)');
    this.throttled = counter(opts.registry, 'deskport_load_http_429_total', 'Calls answered 429 Too Many Requests');
    this.retries = counter(opts.registry, 'deskport_load_http_retries_total', 'Calls retried after a 5xx or network error', ['reason']);
  }

  /** Total calls sent, for the calls-per-record figure. */
  callCount = 0;

  get v2(): string {
    return '/desk/api/v2';
  }

  async request<T = unknown>(method: string, path: string, opts: RequestOptions<T> = {}): Promise<T> {
    const url = new URL(this.opts.baseUrl.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const endpoint = endpointLabel(path);
    const expected = opts.schema ?? responseSchema(method, endpoint);
    // Every answer deskport reads is checked: a call with no schema is a bug, refused before it is sent.
    if (expected === undefined) {
      throw new DeskportError('DESKPORT_TARGET_NO_SCHEMA', `${method} ${endpoint} has no response schema in load/target-schemas.ts`, { method, endpoint });
    }
    const idempotent = opts.idempotent ?? method === 'GET';
    const maxRetries = this.opts.maxRetries ?? 5;
    let failures = 0;
    let waits429 = 0;
    while (true) {
      await this.opts.budget.acquire();
      this.callCount++;
      let res;
      try {
        res = await request(url, {
          method: method as 'GET',
          dispatcher: this.dispatcher,
          headers: {
            authorization: this.auth,
            accept: 'application/json',
            ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        });
      } catch (err) {
        this.calls.inc({ method, endpoint, status: 'network' });
        if (classify(err) !== 'network') throw err;
        if (!idempotent) throw new OutcomeUnknownError(method, endpoint, err);
        if (++failures > maxRetries) throw new DeskportError('DESKPORT_TARGET_UNREACHABLE', `${method} ${endpoint} failed ${failures} times: ${(err as Error).message}`, { cause: err, endpoint });
        this.retries.inc({ reason: 'network' });
        this.opts.log.warn({ endpoint, method, attempt: failures, code: (err as { code?: string }).code }, 'network error; retrying');
        await sleep(backoffMs(failures));
        continue;
      }
      const status = res.statusCode;
      this.calls.inc({ method, endpoint, status: String(status) });
      const rate = readRateHeaders(res.headers);
      if (rate.remaining !== null) this.remainingGauge.set(rate.remaining);
      if (rate.limit !== null) this.limitGauge.set(rate.limit);
      await this.opts.budget.observe(rate);
      let text: string;
      let bytes: Buffer | undefined;
      try {
        if (opts.raw && status >= 200 && status < 300) {
          bytes = Buffer.from(await res.body.arrayBuffer());
          text = '';
        } else {
          text = await res.body.text();
        }
      } catch (err) {
        // Headers arrived but the body was cut: for a write, the target may have acted.
        if (!idempotent) throw new OutcomeUnknownError(method, endpoint, err);
        if (++failures > maxRetries) throw err;
        this.retries.inc({ reason: 'network' });
        await sleep(backoffMs(failures));
        continue;
      }
      if (status === 429) {
        this.throttled.inc();
        if (++waits429 > (this.opts.max429Waits ?? 50)) {
          throw new TargetHttpError({ status, method, endpoint, apiMessage: 'still rate limited after many waits' });
        }
        const until = retryAfter(res.headers['retry-after'], rate.resetAt);
        await this.opts.budget.block(until);
        this.opts.log.warn({ endpoint, waitMs: until.getTime() - Date.now() }, 'rate limited (429); waiting for the window to reset');
        await sleep(Math.max(0, until.getTime() - Date.now()));
        continue;
      }
      if (status >= 500) {
        if (!idempotent) throw new OutcomeUnknownError(method, endpoint, new TargetHttpError({ status, method, endpoint, apiMessage: apiMessage(text) }));
        if (++failures > maxRetries) throw new TargetHttpError({ status, method, endpoint, apiMessage: apiMessage(text) });
        this.retries.inc({ reason: String(status) });
        await sleep(backoffMs(failures));
        continue;
      }
      if (status >= 400) throw new TargetHttpError({ status, method, endpoint, apiMessage: apiMessage(text) });
      if (bytes) return bytes as T;
      const body = text === '' ? null : safeJson(text);
      if (expected === UNREAD || expected === RAW) return body as T;
      const parsed = expected.safeParse(body);
      if (!parsed.success) throw new TargetShapeError({ status, method, endpoint, problem: firstProblem(parsed.error) });
      return parsed.data as T;
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/** Retry-After (seconds or an HTTP date) wins; else the window's reset; else a minute. */
function retryAfter(header: string | string[] | undefined, resetAt: Date | null): Date {
  const v = Array.isArray(header) ? header[0] : header;
  if (v) {
    const secs = Number(v);
    if (Number.isFinite(secs)) return new Date(Date.now() + secs * 1000);
    const date = Date.parse(v);
    if (Number.isFinite(date)) return new Date(date);
  }
  return resetAt ?? new Date(Date.now() + 60_000);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The API's own words: `errors[].detail/source` when present, else the raw body (shortened). */
export function apiMessage(text: string): string {
  const body = safeJson(text) as { errors?: { detail?: string; source?: string; message?: string }[]; message?: string; error?: string } | string;
  if (typeof body === 'object' && body !== null) {
    if (Array.isArray(body.errors) && body.errors.length > 0) {
      return body.errors.map((e) => [e.source, e.detail ?? e.message].filter(Boolean).join(': ')).join('; ');
    }
    if (body.message) return body.message;
    if (body.error) return body.error;
  }
  return String(text).slice(0, 300) || '(empty body)';
}
