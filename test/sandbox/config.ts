// Sandbox options: validated once with zod. The runtime part (limits, faults) stays mutable
// so tests and the admin surface can change it while the server runs.

import { z } from 'zod';

const rates = z.object({
  /** Probability of answering 500/502/503/504 without doing the work. */
  error5xx: z.number().min(0).max(1).optional(),
  /** Probability of destroying the socket before any work or response. */
  drop: z.number().min(0).max(1).optional(),
  /** Probability of delaying the response by `delayMs`. */
  delay: z.number().min(0).max(1).optional(),
  delayMs: z.union([z.number().int().min(0), z.tuple([z.number().int().min(0), z.number().int().min(0)])]).optional(),
  /** Probability (writes only) of committing the write, then destroying the socket. */
  lostAfterWrite: z.number().min(0).max(1).optional(),
});
export type FaultRates = z.infer<typeof rates>;

export const faultSchema = rates.extend({
  seed: z.number().int().default(1),
  byMethod: z.record(z.string(), rates).optional(),
  /** Keys are endpoint families: tickets, messages, customers, files, upload, import, ... */
  byFamily: z.record(z.string(), rates).optional(),
  /** 429 storms by request ordinal (1-based, counting faultable requests). */
  storms: z.array(z.object({ fromRequest: z.number().int().min(1), requests: z.number().int().min(1) })).optional(),
  /** 429 storm until this clock time (ms since epoch); set by POST /_sandbox/storm. */
  stormUntil: z.number().optional(),
});
export type FaultConfig = z.infer<typeof faultSchema>;
export type FaultOptions = z.input<typeof faultSchema>;

export const runtimeSchema = z.object({
  rateLimitPerMinute: z.number().int().min(1).default(120),
  rateLimitWindowMs: z.number().int().min(1).default(60_000),
  resetStyle: z.enum(['seconds', 'epoch']).default('seconds'),
  retryAfterHeader: z.boolean().default(false),
  importSharesBudget: z.boolean().default(true),
  importRateLimitPerMinute: z.number().int().min(1).default(120),
  importMaxTickets: z.number().int().min(1).default(10),
  importMaxBodyBytes: z.number().int().min(1).default(10 * 1024 * 1024),
  importDownloadTimeoutMs: z.number().int().min(1).default(30_000),
  maxBodyBytes: z.number().int().min(1).default(10 * 1024 * 1024),
  /** Require PATCH files/{id}.json before a file may be attached (strict reading, see README). */
  requireFileConfirm: z.boolean().default(true),
  /** Which of the shapes Teamwork's sources disagree on the answers use, one bit each (shapes.ts). */
  shapeSeed: z.number().int().min(0).default(0),
  faults: faultSchema.nullable().default(null),
});
export type RuntimeConfig = z.infer<typeof runtimeSchema>;
export type RuntimeOptions = z.input<typeof runtimeSchema>;

const person = z.object({
  firstName: z.string().default(''),
  lastName: z.string().default(''),
  email: z.string().email(),
});

export const seedSchema = z.object({
  /** false = do not apply the built-in default seed first (startSandbox only). */
  defaults: z.boolean().optional(),
  admin: person.extend({ apiKey: z.string().optional() }).optional(),
  agents: z.array(person.extend({
    role: z.enum(['admin', 'agent']).default('agent'),
    status: z.enum(['active', 'invited']).default('active'),
    apiKey: z.string().optional(),
  })).optional(),
  inboxes: z.array(z.object({ name: z.string(), email: z.string().email(), localPart: z.string().optional() })).optional(),
  statuses: z.array(z.object({ id: z.number().int().optional(), name: z.string(), code: z.string().optional(), color: z.string().optional() })).optional(),
  priorities: z.array(z.object({ name: z.string(), color: z.string().optional() })).optional(),
  types: z.array(z.object({ name: z.string() })).optional(),
  sources: z.array(z.object({ name: z.string() })).optional(),
  tags: z.array(z.object({ name: z.string(), color: z.string().optional() })).optional(),
  customfields: z.array(z.object({
    agentLabel: z.string(),
    kind: z.enum(['dropdown', 'text', 'number', 'date', 'checkbox', 'multiselect']),
    options: z.array(z.string()).optional(),
  })).optional(),
  helpdocssites: z.array(z.object({ name: z.string(), subdomain: z.string() })).optional(),
  /** Triggers, enabled for every inbox. */
  triggers: z.array(z.object({
    name: z.string(), description: z.string().default(''),
    type: z.enum(['Automatic', 'Manual']).default('Automatic'), state: z.enum(['active', 'inactive']).default('active'),
  })).optional(),
});
export type SeedData = z.input<typeof seedSchema>;

export interface SandboxOptions extends RuntimeOptions {
  host?: string;
  port?: number;
  /** API keys of the admin user (Basic username or Bearer). Default ['sandbox-key']. */
  apiKeys?: string[];
  /** OAuth bearer tokens accepted for the admin user (v2 only). */
  oauthTokens?: string[];
  stateFile?: string;
  /** Write-behind delay for the state file. */
  persistDebounceMs?: number;
  /** Load an existing state file on start instead of seeding (default true). */
  resume?: boolean;
  seed?: SeedData;
  /** Fake clock for rate-limit windows, timestamps and presign expiry. */
  now?: () => number;
  /** Base URL put into presigned upload URLs (default: the server's own URL). */
  publicUrl?: string;
  /** Log each request to stderr. */
  log?: boolean;
}

export const parseRuntime = (opts: RuntimeOptions): RuntimeConfig => runtimeSchema.parse(opts);
