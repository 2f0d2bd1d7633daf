// Teamwork Desk sandbox: a local stand-in of the Desk API (v2 + v1 import) for the demo,
// tests and benchmarks. One door in: startSandbox().

import type { AddressInfo } from 'node:net';
import { Agent, interceptors } from 'undici';
import { parseRuntime } from './config.ts';
import type { RuntimeConfig, SandboxOptions, SeedData } from './config.ts';
import { CallLog } from './calls.ts';
import type { CallCount } from './calls.ts';
import { FaultInjector } from './faults.ts';
import { Router } from './http.ts';
import type { EmailRecord, ImportRecord, Kind, Tables } from './model.ts';
import { Persister } from './persist.ts';
import { Presigner } from './presign.ts';
import { FixedWindowLimiter } from './rate-limit.ts';
import { DEFAULT_SEED, applySeed } from './seed.ts';
import { buildServer } from './server.ts';
import { Store } from './store.ts';
import { wireShapes } from './shapes.ts';
import { registerAdmin, updateConfig } from './routes/admin.ts';
import type { AdminDeps } from './routes/admin.ts';
import type { Deps } from './routes/common.ts';
import { registerCompanies } from './routes/companies.ts';
import { registerCustomFields } from './routes/customfields.ts';
import { registerCustomers } from './routes/customers.ts';
import { registerFiles } from './routes/files.ts';
import { registerHelpDocs } from './routes/helpdocs.ts';
import { registerImport } from './routes/import.ts';
import { registerInboxes } from './routes/inboxes.ts';
import { registerMessages } from './routes/messages.ts';
import { registerTags } from './routes/tags.ts';
import { registerTicketMeta } from './routes/ticket-meta.ts';
import { registerTickets } from './routes/tickets.ts';
import { registerTriggers } from './routes/triggers.ts';
import { registerUpload } from './routes/upload.ts';
import { registerUsers } from './routes/users.ts';

export type { SandboxOptions, SeedData, RuntimeConfig } from './config.ts';
export type { FaultOptions } from './config.ts';
export type * from './model.ts';
export type { CallCount } from './calls.ts';
export { wireShapes, type WireShapes } from './shapes.ts';

/** Typed read/write access to the sandbox for tests. */
export interface SandboxStore {
  /** The underlying store (all tables, blobs, emails, imports). */
  readonly raw: Store;
  list<K extends Kind>(kind: K, opts?: { includeDeleted?: boolean }): Tables[K][];
  get<K extends Kind>(kind: K, id: number): Tables[K] | undefined;
  fileBytes(fileId: number): Buffer | undefined;
  emails(): EmailRecord[];
  imports(): ImportRecord[];
  calls(): CallCount[];
  callCount(filter?: { method?: string; route?: string; status?: number | string }): number;
  config(): RuntimeConfig;
  /** Changes runtime config (rate limit, faults, import caps, ...). */
  configure(patch: Partial<SandboxOptions>): RuntimeConfig;
  /** Fresh account: default seed (+ `seed`). Clears calls and rate windows too. */
  reset(seed?: SeedData): void;
  seed(seed: SeedData): void;
  acceptInvite(userId: number): void;
  /** Adds an API key for a user (e.g. a non-admin agent). */
  addApiKey(apiKey: string, userId: number): void;
  /** Admin user (the default API key's user). */
  admin(): Tables['users'];
}

export interface Sandbox {
  /** Site base, e.g. http://127.0.0.1:PORT; the API is at url + '/desk/api/v2'. */
  url: string;
  apiUrl: string;
  apiKey: string;
  store: SandboxStore;
  close(): Promise<void>;
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const now = opts.now ?? Date.now;
  const config = parseRuntime(opts);
  const apiKeys = opts.apiKeys ?? ['sandbox-key'];
  const store = new Store(now);
  store.shapes = () => wireShapes(config.shapeSeed);
  const limiter = new FixedWindowLimiter(now);
  const faults = new FaultInjector(now);
  const calls = new CallLog();
  const presigner = new Presigner();
  // The import's downloader: follows redirects like a browser-ish fetcher would.
  const downloader = new Agent().compose(interceptors.redirect({ maxRedirections: 5 }));
  let baseUrl = '';
  const deps: Deps = { store, config, publicUrl: () => opts.publicUrl ?? baseUrl };

  const seedFresh = (extra?: SeedData) => {
    store.clear();
    if (opts.seed?.defaults !== false) applySeed(store, DEFAULT_SEED, apiKeys);
    if (opts.seed) applySeed(store, opts.seed, apiKeys);
    if (extra) applySeed(store, extra, apiKeys);
  };

  const persister = opts.stateFile ? new Persister(opts.stateFile, store, opts.persistDebounceMs ?? 200) : null;
  const resumed = persister && opts.resume !== false ? await persister.load() : false;
  if (!resumed) seedFresh();
  faults.sync(config.faults, true);
  if (persister) {
    store.onChange(() => persister.schedule());
    persister.schedule();
  }

  const router = new Router();
  registerUsers(router, deps);
  registerCustomers(router, deps);
  registerCompanies(router, deps);
  registerInboxes(router, deps);
  registerTags(router, deps);
  registerTicketMeta(router, deps);
  registerTickets(router, deps);
  registerMessages(router, deps);
  registerFiles(router, deps, presigner);
  registerUpload(router, deps, presigner);
  registerCustomFields(router, deps);
  registerHelpDocs(router, deps);
  registerImport(router, deps, downloader);
  registerTriggers(router, deps);

  const adminDeps: AdminDeps = {
    store, config, limiter, faults, calls, adminKeys: apiKeys,
    reset: (seed) => {
      seedFresh(seed);
      calls.reset();
      limiter.reset();
      faults.sync(config.faults, true);
    },
  };
  const adminRouter = new Router();
  registerAdmin(adminRouter, adminDeps);

  const server = buildServer({
    deps, router, adminRouter, limiter, faults, calls, oauthTokens: new Set(opts.oauthTokens ?? []), log: opts.log ?? false,
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const sandboxStore: SandboxStore = {
    raw: store,
    list: (kind, o) => (o?.includeDeleted ? store.all(kind) : store.list(kind)),
    get: (kind, id) => store.get(kind, id),
    fileBytes: (id) => store.blobs.get(id),
    emails: () => store.emails,
    imports: () => [...store.imports.values()],
    calls: () => calls.list(),
    callCount: (f) => calls.count(f),
    config: () => config,
    configure: (patch) => updateConfig(adminDeps, patch as Record<string, unknown>),
    reset: (seed) => adminDeps.reset(seed),
    seed: (seed) => applySeed(store, seed, apiKeys),
    acceptInvite: (id) => { store.update('users', id, { status: 'active' }, null); },
    addApiKey: (key, id) => { store.apiKeys.set(key, id); store.changed(); },
    admin: () => store.list('users').find((u) => u.role === 'admin')!,
  };

  let closed = false;
  return {
    url: baseUrl,
    apiUrl: `${baseUrl}/desk/api/v2`,
    apiKey: apiKeys[0]!,
    store: sandboxStore,
    async close() {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await downloader.close();
      if (persister) await persister.flush();
    },
  };
}
