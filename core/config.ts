import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { MappingExtras, MappingFileError, mappingFileToConfig, readMappingFile } from './mapping-file.ts';

/**
 * The one place that reads process.env. Configuration comes from (lowest to highest priority)
 * defaults, an optional JSON config file, environment variables, then explicit overrides
 * (CLI flags). It is validated once, every problem listed at once, then deep-frozen.
 */

const statusNames = z.enum(['Active', 'Waiting on customer', 'On-hold', 'Solved', 'Closed', 'Spam']);

export const ConfigSchema = z.object({
  /** Where embedded services, blobs and reports live. */
  workDir: z.string().min(1).default('.deskport'),
  databaseUrl: z.string().min(1).optional(),
  kafkaBrokers: z.array(z.string().min(1)).min(1).optional(),
  /** Topics are `<prefix>.raw.<source>.<entity>`; tests use a unique prefix each. */
  topicPrefix: z.string().regex(/^[a-zA-Z0-9._-]+$/).default('deskport'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  source: z.object({
    /** zendesk-export: a JSON/NDJSON export file (or directory, .gz allowed); zendesk-api: the live API. */
    kind: z.enum(['zendesk-export', 'zendesk-api']).default('zendesk-export'),
    /** Short name used in topics, staging keys and tags. */
    name: z.string().regex(/^[a-z0-9_-]+$/).default('zendesk'),
    path: z.string().min(1).default('data/sample/zendesk-export.json'),
    /** Zendesk API: a full base URL (https://acme.zendesk.com, http://127.0.0.1:8080) or a subdomain (acme). */
    url: z.string().min(1).optional(),
    /** Basic auth `{email}/token:{apiToken}`; or a bearer oauthToken. Tokens come from the environment only. */
    email: z.string().min(1).optional(),
    apiToken: z.string().min(1).optional(),
    oauthToken: z.string().min(1).optional(),
    /** First run's start: unix seconds or an ISO date; later delta runs start from the stored high-water mark. */
    startTime: z.union([z.number().int().nonnegative(), z.iso.datetime({ offset: true })]).default(0),
    pageSize: z.number().int().min(1).max(1000).default(1000),
    /** Bounded retries: 429s and 5xx/network errors per request before the extractor stops with a clear error. */
    maxRetries: z.number().int().min(0).default(8),
    /** A Retry-After longer than this is not waited out (never hang); the run stops and says so. */
    maxRetryAfterSeconds: z.number().int().positive().default(600),
    /** First backoff after a 5xx/network error (doubles per attempt). */
    retryBaseMs: z.number().int().positive().default(1000),
    requestTimeoutMs: z.number().int().positive().default(60_000),
    /** Attachments and inline images are streamed into this content-addressed store; default `<workDir>/blobs`. */
    blobDir: z.string().min(1).optional(),
    fetchAttachments: z.boolean().default(true),
    attachmentConcurrency: z.number().int().min(1).max(32).default(4),
    helpCenter: z.boolean().default(true),
  }).superRefine((s, ctx) => {
    if (s.kind !== 'zendesk-api') return;
    if (!s.url) ctx.addIssue({ code: 'custom', path: ['url'], message: 'required for the zendesk-api source (DESKPORT_SOURCE_URL: a URL or a subdomain)' });
    if (!s.oauthToken && !(s.email && s.apiToken)) {
      ctx.addIssue({ code: 'custom', path: ['apiToken'], message: 'the zendesk-api source needs DESKPORT_SOURCE_EMAIL + DESKPORT_SOURCE_API_TOKEN, or DESKPORT_SOURCE_OAUTH_TOKEN' });
    }
  }).prefault({}),
  target: z.object({
    /** Site base URL, e.g. https://acme.teamwork.com. Unset: the embedded sandbox is started. */
    url: z.url().optional(),
    apiKey: z.string().min(1).optional(),
    authScheme: z.enum(['basic', 'bearer']).default('basic'),
    /** The v1 import's `source` string: the target dedupes imported tickets by (source, id). */
    importSource: z.string().min(1).default('Zendesk (deskport)'),
    importBatchSize: z.number().int().min(1).max(100).default(10),
    /** The import's request body cap (undocumented; the sandbox assumes 10 MB): a bigger ticket goes through v2 instead. */
    importMaxBodyBytes: z.number().int().positive().default(10 * 1024 * 1024),
    /** Inbox used when a ticket's routing matches none; default: the first inbox of the site. */
    fallbackInboxId: z.number().int().positive().optional(),
    /** Help Docs site the knowledge base goes to (R8); default: the target's first site. */
    helpDocsSiteId: z.number().int().positive().optional(),
    /**
     * A migrated article's public address, which links between articles are rewritten to. Placeholders:
     * {siteUrl} (https://<customDomain>, else https://<subdomain>.teamwork.com), {id}, {slug}.
     * Desk does not document the form: check one article in the site and set this to match.
     */
    helpDocsArticleUrl: z.string().min(1).default('{siteUrl}/{slug}'),
    /** A migrated category's (or section's) public address, for links to Help Center sections and categories; same placeholders, equally undocumented. */
    helpDocsCategoryUrl: z.string().min(1).default('{siteUrl}/{slug}'),
    /** Deprecated alias of the mapping's `kb.labels` (true: description, false: none); see kbLabelsMode. */
    kbLabelsInDescription: z.boolean().optional(),
    /** Share of the target's rate limit deskport may spend (leave room for live integrations). */
    rateLimitCeiling: z.number().gt(0).max(1).default(1),
    /** The target's rate-limit window (documented: a minute); the limit itself is learned from its headers. */
    rateLimitWindowSeconds: z.number().positive().default(60),
    requestTimeoutMs: z.number().int().positive().default(30_000),
  }).prefault({}),
  mapping: z.object({
    extraTags: z.array(z.string().min(1)).default(['migrated', 'src:zendesk']),
    /** Agent that authors private notes whose original author is not an agent in the target. */
    fallbackAgentEmail: z.email().optional(),
    /** Zendesk status → Teamwork Desk status name. */
    statusMap: z.record(z.string(), statusNames).default({
      new: 'Active', open: 'Active', pending: 'Waiting on customer', hold: 'On-hold', solved: 'Solved', closed: 'Closed',
    }),
    defaultStatus: statusNames.default('Active'),
    priorityMap: z.record(z.string(), z.string()).default({ low: 'Low', normal: 'Medium', high: 'High', urgent: 'Urgent' }),
    typeMap: z.record(z.string(), z.string()).default({ question: 'Question', incident: 'Incident', problem: 'Problem', task: 'Task' }),
    /** Customers without an email get `<source>-user-<id>@<domain>` so their tickets still migrate. */
    placeholderEmailDomain: z.string().min(3).default('customers.deskport.invalid'),
    // Agent overrides, custom fields, routing, filters, enrichments: core/mapping-file.ts.
    ...MappingExtras,
  }).prefault({}),
  /** Serves attachment bytes to the target's import under signed, expiring URLs. */
  blobServer: z.object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(0),
    /** The address the target downloads from (a tunnel or proxy to this server for a real site). */
    publicUrl: z.url().optional(),
    linkTtlSeconds: z.number().int().positive().default(6 * 3600),
  }).prefault({}),
  load: z.object({
    /** A live loader renews its claims every third of this; a dead loader's rows are taken over after it. */
    leaseSeconds: z.number().int().positive().default(30),
    maxAttempts: z.number().int().min(1).default(5),
    /** Calls one loader keeps in flight; the shared rate budget still sets the pace. */
    concurrency: z.number().int().min(1).max(64).default(6),
    /** History written through v2 (oversize tickets, delta appends) as public replies instead of private notes: a v2 reply emails the customer. */
    v2PublicReplies: z.boolean().default(false),
  }).prefault({}),
  /** Prometheus `/metrics` (and `/healthz`) of a long-running stage; no port: not exposed. */
  metrics: z.object({
    port: z.number().int().min(0).max(65535).optional(),
    /** Loopback unless told otherwise (a container sets 0.0.0.0 so Prometheus can reach it). */
    host: z.string().min(1).default('127.0.0.1'),
  }).prefault({}),
  /** `deskport serve`: the reconciliation API and report page (R27). */
  serve: z.object({
    /** Loopback by default; any other address requires a bearer token. */
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787),
    /** Bearer token (DESKPORT_SERVE_TOKEN, environment only); required unless bound to loopback. */
    token: z.string().min(16, 'must be at least 16 characters').optional(),
  }).superRefine((s, ctx) => {
    if (!isLoopbackHost(s.host) && !s.token) {
      ctx.addIssue({ code: 'custom', path: ['host'], message: `binding ${s.host} (not loopback) requires a bearer token: set DESKPORT_SERVE_TOKEN` });
    }
  }).prefault({}),
});

/** 127.0.0.0/8, ::1 and localhost only reach this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export type Config = z.infer<typeof ConfigSchema>;

/** Where Help Center labels go (R8): the mapping's `kb.labels`, else the old `target.kbLabelsInDescription` flag, else the description. */
export function kbLabelsMode(config: Pick<Config, 'mapping' | 'target'>): 'description' | 'footer' | 'none' {
  if (config.mapping.kbLabels) return config.mapping.kbLabels;
  if (config.target.kbLabelsInDescription !== undefined) return config.target.kbLabelsInDescription ? 'description' : 'none';
  return 'description';
}

/** JSON with object keys in a fixed order: the same mapping always gives the same text. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * A fingerprint of the mapping in effect (defaults, config file, mapping file, env — all of
 * `config.mapping` but the file's name): staging records it on every row it maps, so a loader can
 * tell rows mapped with an older mapping (issue 16.5). Comments and key order in the file do not count.
 */
export function mappingHash(mapping: Config['mapping']): string {
  const { file: _file, ...rest } = mapping;
  return createHash('sha256').update(stableJson(rest)).digest('hex').slice(0, 16);
}
export type ConfigInput = z.input<typeof ConfigSchema>;

type Env = Record<string, string | undefined>;

/** Environment variables deskport reads, and where each goes. */
function fromEnv(env: Env): Record<string, unknown> {
  const out: Record<string, any> = { source: {}, target: {} };
  if (env.DESKPORT_WORK_DIR) out.workDir = env.DESKPORT_WORK_DIR;
  if (env.DATABASE_URL) out.databaseUrl = env.DATABASE_URL;
  if (env.KAFKA_BROKERS) out.kafkaBrokers = env.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean);
  if (env.DESKPORT_TOPIC_PREFIX) out.topicPrefix = env.DESKPORT_TOPIC_PREFIX;
  if (env.DESKPORT_LOG_LEVEL) out.logLevel = env.DESKPORT_LOG_LEVEL;
  if (env.DESKPORT_SOURCE_PATH) out.source.path = env.DESKPORT_SOURCE_PATH;
  if (env.DESKPORT_MAPPING) out.mapping = { file: env.DESKPORT_MAPPING };
  if (env.DESKPORT_SOURCE_KIND) out.source.kind = env.DESKPORT_SOURCE_KIND;
  if (env.DESKPORT_SOURCE_URL) out.source.url = env.DESKPORT_SOURCE_URL;
  if (env.DESKPORT_SOURCE_EMAIL) out.source.email = env.DESKPORT_SOURCE_EMAIL;
  if (env.DESKPORT_SOURCE_API_TOKEN) out.source.apiToken = env.DESKPORT_SOURCE_API_TOKEN;
  if (env.DESKPORT_SOURCE_OAUTH_TOKEN) out.source.oauthToken = env.DESKPORT_SOURCE_OAUTH_TOKEN;
  if (env.DESKPORT_SOURCE_START_TIME) out.source.startTime = /^\d+$/.test(env.DESKPORT_SOURCE_START_TIME) ? Number(env.DESKPORT_SOURCE_START_TIME) : env.DESKPORT_SOURCE_START_TIME;
  if (env.DESKPORT_BLOB_DIR) out.source.blobDir = env.DESKPORT_BLOB_DIR;
  if (env.DESKPORT_TARGET_URL) out.target.url = env.DESKPORT_TARGET_URL;
  if (env.DESKPORT_HELP_DOCS_SITE_ID) out.target.helpDocsSiteId = Number(env.DESKPORT_HELP_DOCS_SITE_ID);
  if (env.DESKPORT_BLOB_PUBLIC_URL) out.blobServer = { publicUrl: env.DESKPORT_BLOB_PUBLIC_URL };
  if (env.DESKPORT_TARGET_API_KEY) out.target.apiKey = env.DESKPORT_TARGET_API_KEY;
  if (env.DESKPORT_TARGET_API_KEY_FILE) out.target.apiKey = readSecretFile(env.DESKPORT_TARGET_API_KEY_FILE);
  // Source tokens may come from owner-only files too (same rule as the target key).
  if (env.DESKPORT_SOURCE_API_TOKEN_FILE) out.source.apiToken = readSecretFile(env.DESKPORT_SOURCE_API_TOKEN_FILE, 'DESKPORT_SOURCE_API_TOKEN_FILE');
  if (env.DESKPORT_SOURCE_OAUTH_TOKEN_FILE) out.source.oauthToken = readSecretFile(env.DESKPORT_SOURCE_OAUTH_TOKEN_FILE, 'DESKPORT_SOURCE_OAUTH_TOKEN_FILE');
  if (env.DESKPORT_SERVE_HOST || env.DESKPORT_SERVE_PORT || env.DESKPORT_SERVE_TOKEN) {
    out.serve = {
      ...(env.DESKPORT_SERVE_HOST ? { host: env.DESKPORT_SERVE_HOST } : {}),
      ...(env.DESKPORT_SERVE_PORT ? { port: Number(env.DESKPORT_SERVE_PORT) } : {}),
      ...(env.DESKPORT_SERVE_TOKEN ? { token: env.DESKPORT_SERVE_TOKEN } : {}),
    };
  }
  if (env.DESKPORT_TARGET_RATE_CEILING) out.target.rateLimitCeiling = Number(env.DESKPORT_TARGET_RATE_CEILING);
  if (env.DESKPORT_LOAD_CONCURRENCY) out.load = { concurrency: Number(env.DESKPORT_LOAD_CONCURRENCY) };
  if (env.DESKPORT_METRICS_PORT) out.metrics = { ...out.metrics, port: Number(env.DESKPORT_METRICS_PORT) };
  if (env.DESKPORT_METRICS_HOST) out.metrics = { ...out.metrics, host: env.DESKPORT_METRICS_HOST };
  return out;
}

/** A secret file must not be readable by group or others, like ssh keys. */
function readSecretFile(path: string, variable = 'DESKPORT_TARGET_API_KEY_FILE'): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new ConfigError([`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`]);
  }
  if (mode & 0o077) {
    throw new ConfigError([`${variable}: ${path} is readable by others; run: chmod 600 ${path}`]);
  }
  return readFileSync(path, 'utf8').trim();
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? merge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`config file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`]);
  }
  try {
    const parsed = JSON.parse(text);
    if (!isPlainObject(parsed)) throw new Error('top level is not an object');
    if (isPlainObject(parsed.source) && ('apiToken' in parsed.source || 'oauthToken' in parsed.source)) {
      throw new ConfigError([`config file ${path}: source tokens must not be stored in the config file; use DESKPORT_SOURCE_API_TOKEN or DESKPORT_SOURCE_OAUTH_TOKEN`]);
    }
    if (isPlainObject(parsed.target) && 'apiKey' in parsed.target) {
      throw new ConfigError([`config file ${path}: target.apiKey must not be stored in the config file; use DESKPORT_TARGET_API_KEY or DESKPORT_TARGET_API_KEY_FILE`]);
    }
    if (isPlainObject(parsed.serve) && 'token' in parsed.serve) {
      throw new ConfigError([`config file ${path}: serve.token must not be stored in the config file; use DESKPORT_SERVE_TOKEN`]);
    }
    return parsed;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([`config file ${path}: not valid JSON (${(err as Error).message})`]);
  }
}

export function loadConfig(opts: { file?: string; env?: Env; overrides?: ConfigInput } = {}): Readonly<Config> {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.DESKPORT_CONFIG;
  let raw: Record<string, unknown> = {};
  const fileLayer = file ? readConfigFile(file) : {};
  const envLayer = fromEnv(env);
  const overrideLayer = (opts.overrides ?? {}) as Record<string, unknown>;
  raw = merge(merge(fileLayer, envLayer), overrideLayer);
  // The mapping file sits above the config file and below env and flags.
  const mappingPath = (raw.mapping as { file?: unknown } | undefined)?.file;
  if (typeof mappingPath === 'string' && mappingPath) {
    let fromMapping: Record<string, unknown>;
    try {
      fromMapping = mappingFileToConfig(readMappingFile(mappingPath));
    } catch (err) {
      if (err instanceof MappingFileError) throw new ConfigError(err.problems.map((p) => `mapping file ${mappingPath}: ${p}`));
      throw err;
    }
    raw = merge(merge(merge(fileLayer, { mapping: fromMapping }), envLayer), overrideLayer);
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return deepFreeze(parsed.data);
}
