import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

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
    kind: z.literal('zendesk-export').default('zendesk-export'),
    /** Short name used in topics, staging keys and tags. */
    name: z.string().regex(/^[a-z0-9_-]+$/).default('zendesk'),
    path: z.string().min(1).default('data/sample/zendesk-export.json'),
  }).prefault({}),
  target: z.object({
    /** Site base URL, e.g. https://acme.teamwork.com. Unset: the embedded sandbox is started. */
    url: z.url().optional(),
    apiKey: z.string().min(1).optional(),
    authScheme: z.enum(['basic', 'bearer']).default('basic'),
    /** The v1 import's `source` string: the target dedupes imported tickets by (source, id). */
    importSource: z.string().min(1).default('Zendesk (deskport)'),
    importBatchSize: z.number().int().min(1).max(100).default(10),
    /** Inbox used when a ticket's routing matches none; default: the first inbox of the site. */
    fallbackInboxId: z.number().int().positive().optional(),
    /** Share of the target's rate limit deskport may spend (leave room for live integrations). */
    rateLimitCeiling: z.number().gt(0).max(1).default(1),
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
  }).prefault({}),
  load: z.object({
    /** A row claimed longer ago than this by a loader that vanished is taken over (in doubt). */
    leaseSeconds: z.number().int().positive().default(300),
    maxAttempts: z.number().int().min(1).default(5),
  }).prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;
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
  if (env.DESKPORT_TARGET_URL) out.target.url = env.DESKPORT_TARGET_URL;
  if (env.DESKPORT_TARGET_API_KEY) out.target.apiKey = env.DESKPORT_TARGET_API_KEY;
  if (env.DESKPORT_TARGET_API_KEY_FILE) out.target.apiKey = readSecretFile(env.DESKPORT_TARGET_API_KEY_FILE);
  return out;
}

/** A secret file must not be readable by group or others, like ssh keys. */
function readSecretFile(path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new ConfigError([`DESKPORT_TARGET_API_KEY_FILE: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`]);
  }
  if (mode & 0o077) {
    throw new ConfigError([`DESKPORT_TARGET_API_KEY_FILE: ${path} is readable by others; run: chmod 600 ${path}`]);
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
    if (isPlainObject(parsed.target) && 'apiKey' in parsed.target) {
      throw new ConfigError([`config file ${path}: target.apiKey must not be stored in the config file; use DESKPORT_TARGET_API_KEY or DESKPORT_TARGET_API_KEY_FILE`]);
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
  if (file) raw = merge(raw, readConfigFile(file));
  raw = merge(raw, fromEnv(env));
  if (opts.overrides) raw = merge(raw, opts.overrides as Record<string, unknown>);
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return deepFreeze(parsed.data);
}
