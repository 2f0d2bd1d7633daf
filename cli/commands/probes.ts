import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { header, retryAfterMs } from '../../extract/zendesk-api/client.ts';
import { parseReset } from '../../load/rate-budget.ts';
import { firstProblem, responseSchema } from '../../load/target-schemas.ts';
import type { Config } from '../../core/config.ts';
import { DeskportError, InputError, ServiceUnavailableError } from '../../core/errors.ts';

/**
 * One cheap call to each thing a command depends on, made before the command starts, so an
 * operator's mistake (a wrong URL, key, DATABASE_URL or KAFKA_BROKERS) gives one sentence and a
 * hint within seconds instead of a minute of retries and a stack trace. Never echoes a secret.
 */

const PROBE_TIMEOUT_MS = 5000;
/** A probe rate-limited (a loader restarted right after a crash finds the window spent) waits and asks again, this many times. */
const PROBE_429_RETRIES = 5;
const PROBE_MAX_WAIT_MS = 60_000;

/**
 * GET for a probe: a 429 is not an answer about the site. It waits as the response says
 * (Retry-After, else X-Rate-Limit-Reset, else a growing pause; at most a minute each) and asks
 * again, saying so on stderr; the last answer is returned whatever it is.
 */
async function probeGet(url: string, headers: Record<string, string>): Promise<Dispatcher.ResponseData> {
  for (let attempt = 0; ; attempt++) {
    const res = await request(url, { headers, headersTimeout: PROBE_TIMEOUT_MS, bodyTimeout: PROBE_TIMEOUT_MS });
    if (res.statusCode !== 429 || attempt >= PROBE_429_RETRIES) return res;
    await res.body.dump();
    const reset = parseReset(header(res.headers, 'x-rate-limit-reset'));
    const wait = Math.min(PROBE_MAX_WAIT_MS, retryAfterMs(res.headers['retry-after']) ?? (reset ? reset.getTime() - Date.now() : 2000 * 2 ** attempt));
    process.stderr.write(`${new URL(url).origin} is rate limiting (429): checking again in ${Math.ceil(Math.max(0, wait) / 1000)} s\n`);
    await sleep(Math.max(0, wait));
  }
}

function rateLimited(what: string): DeskportError {
  return new DeskportError('DESKPORT_RATE_LIMITED', `${what} still answers 429 (rate limited) after ${PROBE_429_RETRIES + 1} tries`, {
    hint: 'Something else is spending the account\'s rate limit (another deskport process, an integration): wait a minute and start again.',
  });
}

function netCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.cause?.code ?? e?.code ?? (err instanceof Error ? err.message : String(err));
}

/** DATABASE_URL names a Postgres that answers and accepts the login. */
export async function probePostgres(url: string): Promise<void> {
  let host = '(unparseable URL)';
  try {
    host = new URL(url).host;
  } catch {
    throw new ServiceUnavailableError('Postgres', 'DATABASE_URL is not a URL', { hint: 'Use postgres://user:password@host:5432/database, or unset DATABASE_URL to use the embedded Postgres.' });
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    const code = netCode(err);
    const why = code === '28P01' ? 'the password was refused' : code === '3D000' ? 'the database does not exist' : `it cannot be reached (${code})`;
    throw new ServiceUnavailableError('Postgres', `the staging database at ${host} cannot be used: ${why}`, {
      cause: err, hint: 'Check DATABASE_URL, or unset it to use the embedded Postgres.',
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

function tcpReachable(hostPort: string): Promise<string | null> {
  const i = hostPort.lastIndexOf(':');
  const host = i > 0 ? hostPort.slice(0, i).replace(/^\[|\]$/g, '') : hostPort;
  const port = i > 0 ? Number(hostPort.slice(i + 1)) : 9092;
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    socket.once('connect', () => { socket.destroy(); resolve(null); });
    socket.once('timeout', () => { socket.destroy(); resolve('ETIMEDOUT'); });
    socket.once('error', (err) => resolve(netCode(err)));
  });
}

/** At least one of KAFKA_BROKERS accepts a connection (kafkajs itself would retry for a minute). */
export async function probeKafka(brokers: readonly string[]): Promise<void> {
  const results = await Promise.all(brokers.map(tcpReachable));
  if (results.every((r) => r !== null)) {
    throw new ServiceUnavailableError('Kafka', `no broker of KAFKA_BROKERS answers (${brokers.map((b, i) => `${b}: ${results[i]}`).join(', ')})`, {
      hint: 'Check KAFKA_BROKERS (host:port,host:port), or unset it to use the local Kafka deskport starts itself.',
    });
  }
}

/** The export file (or directory) exists and can be read. */
export async function probeSourceFile(path: string): Promise<void> {
  try {
    await stat(path);
    await access(path, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `the source export ${path} does not exist` : `the source export ${path} cannot be read (${code})`, {
      path, cause: err, hint: 'Pass the export with --source <file> (or DESKPORT_SOURCE_PATH); JSON, NDJSON, .gz or a directory of them.',
    });
  }
}

export interface SourceProbe { kind: Config['source']['kind']; detail: string }

/** The configured source is usable: the export file is readable, or the Zendesk API accepts the credentials. */
export async function probeSource(config: Config): Promise<SourceProbe> {
  const src = config.source;
  if (src.kind === 'zendesk-export') {
    await probeSourceFile(src.path);
    return { kind: src.kind, detail: `export file ${src.path} is readable` };
  }
  const { normalizeBaseUrl } = await import('../../extract/zendesk-api/client.ts');
  const base = normalizeBaseUrl(src.url ?? '');
  const how = src.oauthToken ? 'OAuth token' : `API token of ${src.email}`;
  const auth = src.oauthToken ? `Bearer ${src.oauthToken}` : `Basic ${Buffer.from(`${src.email}/token:${src.apiToken}`).toString('base64')}`;
  let res;
  try {
    res = await probeGet(`${base}/api/v2/users/me.json`, { authorization: auth, accept: 'application/json' });
  } catch (err) {
    throw new DeskportError('DESKPORT_SOURCE_UNREACHABLE', `Zendesk at ${base} cannot be reached (${netCode(err)})`, {
      cause: err, hint: 'Check DESKPORT_SOURCE_URL: https://<subdomain>.zendesk.com or just the subdomain.',
    });
  }
  const text = await res.body.text();
  let me: { user?: { id?: number | null; role?: string; email?: string } } | null = null;
  try { me = JSON.parse(text); } catch { me = null; }
  if (res.statusCode === 401 || res.statusCode === 403 || (res.statusCode === 200 && me && !me.user?.id)) {
    throw new DeskportError('DESKPORT_SOURCE_AUTH', `Zendesk at ${base} rejected the credentials (${res.statusCode === 200 ? 'anonymous user' : res.statusCode}, ${how})`, {
      hint: 'Check DESKPORT_SOURCE_EMAIL + DESKPORT_SOURCE_API_TOKEN (token access must be enabled in Zendesk) or DESKPORT_SOURCE_OAUTH_TOKEN.',
    });
  }
  if (res.statusCode === 429) throw rateLimited(`Zendesk at ${base}`);
  if (res.statusCode !== 200 || !me) {
    throw new DeskportError('DESKPORT_SOURCE_HTTP', `${base} does not answer like a Zendesk account (${res.statusCode} for /api/v2/users/me.json)`, {
      hint: 'Check DESKPORT_SOURCE_URL: https://<subdomain>.zendesk.com or just the subdomain.',
    });
  }
  const role = me.user?.role ?? 'unknown';
  return { kind: src.kind, detail: `Zendesk API at ${base} accepts the ${how} (role ${role}${role === 'admin' ? '' : ' — incremental exports need an admin'})` };
}

export interface TargetProbe {
  url: string;
  /** The account's calls per window, from X-Rate-Limit-Limit; null when the header is absent. */
  rateLimit: number | null;
  user: { id?: number; email?: string; firstName?: string; lastName?: string; role?: string } | null;
}

/** One authenticated call (`GET /me.json`) to the configured Teamwork Desk site. */
export async function probeTarget(config: Config): Promise<TargetProbe> {
  const { url, apiKey, authScheme } = config.target;
  if (!url || !apiKey) {
    throw new DeskportError('DESKPORT_TARGET_NOT_CONFIGURED', 'no Teamwork Desk target is configured', {
      hint: 'Set DESKPORT_TARGET_URL (e.g. https://acme.teamwork.com) and DESKPORT_TARGET_API_KEY or DESKPORT_TARGET_API_KEY_FILE.',
    });
  }
  const base = url.replace(/\/+$/, '');
  const auth = authScheme === 'basic' ? `Basic ${Buffer.from(`${apiKey}:x`).toString('base64')}` : `Bearer ${apiKey}`;
  const urlHint = 'Check DESKPORT_TARGET_URL: the site\'s address, e.g. https://acme.teamwork.com (no path).';
  let res;
  try {
    res = await probeGet(`${base}/desk/api/v2/me.json`, { authorization: auth, accept: 'application/json' });
  } catch (err) {
    throw new DeskportError('DESKPORT_TARGET_UNREACHABLE', `Teamwork Desk at ${base} cannot be reached (${netCode(err)})`, { cause: err, hint: urlHint });
  }
  const text = await res.body.text();
  if (res.statusCode === 401) {
    throw new DeskportError('DESKPORT_TARGET_AUTH', `Teamwork Desk at ${base} rejected the API key (401)`, {
      hint: `Check DESKPORT_TARGET_API_KEY or DESKPORT_TARGET_API_KEY_FILE (the key from your Desk profile)${authScheme === 'basic' ? '; an OAuth token needs target.authScheme "bearer"' : ''}.`,
    });
  }
  if (res.statusCode === 403) {
    throw new DeskportError('DESKPORT_TARGET_AUTH', `Teamwork Desk at ${base} accepted the API key but refuses it access (403)`, { hint: 'Use the API key of a Desk administrator.' });
  }
  if (res.statusCode === 429) throw rateLimited(`Teamwork Desk at ${base}`);
  let json: unknown = null;
  try { json = JSON.parse(text); } catch { json = null; }
  // The same schema the client checks /me.json with (load/target-schemas.ts).
  const parsed = (responseSchema('GET', '/desk/api/v2/me.json') as z.ZodType<{ user: NonNullable<TargetProbe['user']> }>).safeParse(json);
  if (res.statusCode !== 200 || !parsed.success) {
    const why = res.statusCode === 200 && !parsed.success ? `: ${firstProblem(parsed.error)}` : '';
    throw new DeskportError('DESKPORT_TARGET_URL', `${base} does not answer like a Teamwork Desk site (${res.statusCode} for /desk/api/v2/me.json${why})`, { hint: urlHint });
  }
  const body = parsed.data;
  const limit = Number(res.headers['x-rate-limit-limit']);
  return { url: base, rateLimit: Number.isFinite(limit) && limit > 0 ? limit : null, user: body.user };
}

/** Before opening the app: the named services answer (embedded ones are started by openApp). */
export async function probeServices(config: Config, needs: { kafka?: boolean } = {}): Promise<void> {
  if (config.databaseUrl) await probePostgres(config.databaseUrl);
  if (needs.kafka !== false && config.kafkaBrokers) await probeKafka(config.kafkaBrokers);
}
