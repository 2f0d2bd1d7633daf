import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { Agent, request, errors as undiciErrors, type Dispatcher } from 'undici';
import type { Registry } from 'prom-client';
import type { Config } from '../../core/config.ts';
import { DeskportError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { counter, gauge } from '../../core/metrics.ts';

/** Zendesk refused the credentials: one clear message, no stack trace needed, no secret in it. */
export class SourceAuthError extends DeskportError {
  constructor(status: number, baseUrl: string, how: string) {
    super('DESKPORT_SOURCE_AUTH', `Zendesk at ${baseUrl} rejected the credentials (${status}, ${how})`, {
      status, hint: status === 403
        ? 'The user lacks permission: incremental exports need an admin (API token of an admin, or an OAuth token with read scope).'
        : 'Check DESKPORT_SOURCE_EMAIL + DESKPORT_SOURCE_API_TOKEN (token access must be enabled) or DESKPORT_SOURCE_OAUTH_TOKEN.',
    });
  }
}

/** The source answered with an error we do not retry, or retries ran out. */
export class SourceHttpError extends DeskportError {
  declare readonly status: number | undefined;
  declare readonly endpoint: string;
  declare readonly attempts: number;
  constructor(message: string, opts: { status?: number; endpoint: string; attempts: number; cause?: unknown; hint?: string }) {
    super('DESKPORT_SOURCE_HTTP', message, opts);
  }
}

const NETWORK_ERRORS = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

function isNetworkError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return (code !== undefined && NETWORK_ERRORS.has(code)) || err instanceof undiciErrors.SocketError;
}

/** Endpoint label with ids and tokens folded, so metric labels stay bounded. */
export function endpointLabel(path: string): string {
  if (path.startsWith('/attachments/')) return '/attachments';
  return path.replace(/\/\d+(?=\/|\.json|$)/g, '/:id');
}

/** `acme` → https://acme.zendesk.com; a URL is kept (trailing slash and /api/v2 dropped). */
export function normalizeBaseUrl(raw: string): string {
  if (/^[a-z0-9][a-z0-9-]*$/i.test(raw)) return `https://${raw.toLowerCase()}.zendesk.com`;
  const u = new URL(raw);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/api\/v2\/?$/, '').replace(/\/+$/, '')}`;
}

/** Parses Retry-After (seconds, or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A response header's first value. */
export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export interface ZendeskClientOptions {
  source: Config['source'];
  log: Logger;
  registry: Registry;
  /** Base backoff for 5xx/network retries (tests shorten it). */
  backoffMs?: number;
}

/**
 * The Zendesk HTTP client: one retry table for every call. 429 waits Retry-After exactly (60 s
 * when absent, as Zendesk's own docs advise), 5xx / network errors back off exponentially, both
 * bounded by `maxRetries`; 401/403 stop at once with one message. It paces by the rate headers:
 * when the window has one call left it sleeps until the reset instead of tripping the limit.
 * Credentials go only to the account's own origin (content URLs may live on other hosts).
 */
export class ZendeskClient {
  readonly baseUrl: string;
  private readonly origin: string;
  private readonly auth: string;
  private readonly dispatcher: Agent;
  private readonly opts: Config['source'];
  private readonly log: Logger;
  private readonly backoffMs: number;
  private readonly requests;
  private readonly waits;
  private readonly waitSeconds;
  private readonly remaining;
  /** Calls made, by endpoint label (the benchmark reports requests per 1,000 tickets). */
  readonly calls = new Map<string, number>();
  callCount = 0;

  constructor(o: ZendeskClientOptions) {
    this.opts = o.source;
    this.baseUrl = normalizeBaseUrl(o.source.url ?? '');
    this.origin = new URL(this.baseUrl).origin;
    this.auth = o.source.oauthToken
      ? `Bearer ${o.source.oauthToken}`
      : `Basic ${Buffer.from(`${o.source.email}/token:${o.source.apiToken}`).toString('base64')}`;
    this.dispatcher = new Agent({ connections: 8, headersTimeout: o.source.requestTimeoutMs, bodyTimeout: o.source.requestTimeoutMs });
    this.log = o.log;
    this.backoffMs = o.backoffMs ?? o.source.retryBaseMs;
    this.requests = counter(o.registry, 'deskport_extract_http_requests_total', 'Source API calls by endpoint and status', ['endpoint', 'status']);
    this.waits = counter(o.registry, 'deskport_extract_rate_limited_total', 'Source 429 answers', ['endpoint']);
    this.waitSeconds = counter(o.registry, 'deskport_extract_rate_limit_wait_seconds_total', 'Seconds spent waiting for the source rate limit (429 Retry-After and header pacing)', ['reason']);
    this.remaining = gauge(o.registry, 'deskport_extract_rate_limit_remaining', 'Calls left in the source rate-limit window (last seen)');
  }

  private url(pathOrUrl: string, query?: Record<string, string | number | undefined>): URL {
    const u = pathOrUrl.startsWith('http') ? new URL(pathOrUrl) : new URL(`${this.baseUrl}${pathOrUrl}`);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  /** GET a JSON document. */
  async getJson<T = Record<string, unknown>>(pathOrUrl: string, query?: Record<string, string | number | undefined>): Promise<T> {
    const res = await this.send(this.url(pathOrUrl, query));
    try {
      return (await res.body.json()) as T;
    } catch (err) {
      throw new SourceHttpError(`Zendesk sent a body that is not JSON for ${endpointLabel(this.url(pathOrUrl).pathname)}`, {
        endpoint: endpointLabel(this.url(pathOrUrl).pathname), attempts: 1, cause: err,
      });
    }
  }

  /**
   * GET a download as a stream (never buffered whole). Same retry table; a retry after a body
   * failed half-way is the caller's (the blob store discards the partial file).
   */
  async download(url: string): Promise<{ body: Readable; contentType: string | undefined; status: number }> {
    const res = await this.send(this.url(url), { download: true });
    return { body: res.body as unknown as Readable, contentType: header(res.headers, 'content-type'), status: res.statusCode };
  }

  /** Whether Zendesk credentials may be sent to this URL (only the account's own origin). */
  sameOrigin(url: string): boolean {
    try {
      return new URL(url, this.baseUrl).origin === this.origin;
    } catch {
      return false;
    }
  }

  private async send(u: URL, o: { download?: boolean } = {}): Promise<Dispatcher.ResponseData> {
    const endpoint = endpointLabel(u.pathname);
    const headers: Record<string, string> = { accept: o.download ? '*/*' : 'application/json', 'user-agent': 'deskport' };
    if (u.origin === this.origin) headers.authorization = this.auth;
    // A download that keeps failing is recorded as failed by the caller; it must not hold a page for minutes.
    const maxRetries = o.download ? Math.min(this.opts.maxRetries, 3) : this.opts.maxRetries;
    let attempt = 0;
    for (;;) {
      attempt++;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(u, { method: 'GET', headers, dispatcher: this.dispatcher });
      } catch (err) {
        this.requests.inc({ endpoint, status: 'network' });
        if (!isNetworkError(err) || attempt > maxRetries) {
          throw new SourceHttpError(`cannot reach Zendesk for ${endpoint} after ${attempt} attempt(s): ${(err as Error).message}`, {
            endpoint, attempts: attempt, cause: err, hint: 'Check DESKPORT_SOURCE_URL and the network.',
          });
        }
        await this.backoff(endpoint, attempt, 'network error');
        continue;
      }
      this.callCount++;
      this.calls.set(endpoint, (this.calls.get(endpoint) ?? 0) + 1);
      this.requests.inc({ endpoint, status: String(res.statusCode) });
      const status = res.statusCode;
      if (status >= 200 && status < 300) {
        await this.pace(res.headers);
        return res;
      }
      // Follow a redirect by hand: a download may move to a storage host, which gets no credentials.
      if ((status === 301 || status === 302 || status === 307 || status === 308) && header(res.headers, 'location')) {
        await res.body.dump();
        const next = new URL(header(res.headers, 'location')!, u);
        if (attempt > this.opts.maxRetries) throw new SourceHttpError(`too many redirects for ${endpoint}`, { status, endpoint, attempts: attempt });
        u = next;
        if (u.origin !== this.origin) delete headers.authorization;
        continue;
      }
      const text = await res.body.text().catch(() => '');
      if (status === 401 || status === 403) {
        throw new SourceAuthError(status, this.baseUrl, this.opts.oauthToken ? 'OAuth bearer token' : `API token of ${this.opts.email}`);
      }
      if (status === 429) {
        this.waits.inc({ endpoint });
        const wait = retryAfterMs(res.headers['retry-after']) ?? 60_000;
        if (attempt > this.opts.maxRetries || wait > this.opts.maxRetryAfterSeconds * 1000) {
          throw new SourceHttpError(
            `Zendesk kept rate-limiting ${endpoint}: gave up after ${attempt} attempt(s) (last Retry-After ${Math.round(wait / 1000)} s)`,
            { status, endpoint, attempts: attempt, hint: 'Another integration may be using the account limit; resume later — the checkpoint keeps the position.' },
          );
        }
        this.log.warn({ endpoint, waitSeconds: wait / 1000, attempt }, 'Zendesk rate limit hit (429); waiting Retry-After');
        this.waitSeconds.inc({ reason: '429' }, wait / 1000);
        await sleep(wait);
        continue;
      }
      if ((status >= 500 || status === 409) && attempt <= maxRetries) {
        await this.backoff(endpoint, attempt, `HTTP ${status}`);
        continue;
      }
      throw new SourceHttpError(`Zendesk answered ${status} to GET ${endpoint}${attempt > 1 ? ` after ${attempt} attempts` : ''}: ${text.slice(0, 200)}`, {
        status, endpoint, attempts: attempt,
      });
    }
  }

  private async backoff(endpoint: string, attempt: number, why: string): Promise<void> {
    const wait = Math.min(30_000, this.backoffMs * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
    this.log.warn({ endpoint, attempt, waitSeconds: Math.round(wait) / 1000, why }, 'Zendesk call failed; retrying');
    await sleep(wait);
  }

  /** Spends the window to its last call, then sleeps until it resets (both header families). */
  private async pace(headers: Record<string, string | string[] | undefined>): Promise<void> {
    const remainingRaw = header(headers, 'ratelimit-remaining') ?? header(headers, 'x-rate-limit-remaining');
    if (remainingRaw === undefined) return;
    const remaining = Number(remainingRaw);
    if (!Number.isFinite(remaining)) return;
    this.remaining.set(remaining);
    if (remaining > 1) return;
    const reset = Number(header(headers, 'ratelimit-reset') ?? '');
    // ratelimit-reset is seconds until the window resets; without it, wait a short window.
    const wait = Number.isFinite(reset) && reset > 0 ? Math.min(reset, this.opts.maxRetryAfterSeconds) * 1000 : 1000;
    this.log.info({ waitSeconds: wait / 1000 }, 'Zendesk rate-limit window spent; pausing until it resets');
    this.waitSeconds.inc({ reason: 'pacing' }, wait / 1000);
    await sleep(wait);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
