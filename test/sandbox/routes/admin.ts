// Admin/read-back surface under /_sandbox/ for tests, demo and verification: loopback only,
// no API key, not rate-limited, no faults, not counted.

import { ZodError } from 'zod';
import { ApiError, badRequest, notFound } from '../errors.ts';
import { runtimeSchema, seedSchema } from '../config.ts';
import type { RuntimeConfig, SeedData } from '../config.ts';
import type { CallLog } from '../calls.ts';
import type { FaultInjector } from '../faults.ts';
import type { Router } from '../http.ts';
import { isKind } from '../model.ts';
import type { FixedWindowLimiter } from '../rate-limit.ts';
import { isObj } from '../query.ts';
import { applySeed } from '../seed.ts';
import type { Store } from '../store.ts';

export interface AdminDeps {
  store: Store;
  config: RuntimeConfig;
  limiter: FixedWindowLimiter;
  faults: FaultInjector;
  calls: CallLog;
  adminKeys: string[];
  reset(seed?: SeedData): void;
}

const zodToApi = (err: unknown): unknown => {
  if (err instanceof ZodError) {
    return new ApiError(400, err.issues.map((i) => ({ detail: i.message, source: i.path.join('.') || 'body', code: 'invalid' })));
  }
  return err;
};

/** Replaces runtime config fields; `faults` is replaced as a whole (null turns faults off). */
export function updateConfig(a: AdminDeps, patch: Record<string, unknown>): RuntimeConfig {
  const next = runtimeSchema.parse({ ...a.config, ...patch });
  Object.assign(a.config, next);
  if ('faults' in patch) a.faults.sync(a.config.faults); // a new seed restarts the sequence
  if ('rateLimitPerMinute' in patch || 'rateLimitWindowMs' in patch) a.limiter.reset();
  return a.config;
}

export function registerAdmin(r: Router, a: AdminDeps): void {
  const { store } = a;
  const o = { family: 'admin' };
  const P = '/_sandbox';
  r.add('GET', `${P}/health`, 'admin', o, () => ({ status: 200, json: { ok: true } }));
  r.add('GET', `${P}/state`, 'admin', o, () => ({ status: 200, json: { ...store.snapshot(), config: a.config, calls: a.calls.list() } }));
  r.add('GET', `${P}/entities/:kind`, 'admin', o, (ctx) => {
    const kind = ctx.params.kind!;
    if (!isKind(kind)) throw notFound('kind', `unknown kind ${kind}`);
    const state = ctx.query.get('state');
    const rows = store.all(kind).filter((x) => !state || x.state === state);
    return { status: 200, json: { [kind]: rows, count: rows.length } };
  });
  r.add('GET', `${P}/entities/:kind/:id`, 'admin', o, (ctx) => {
    const kind = ctx.params.kind!;
    if (!isKind(kind)) throw notFound('kind', `unknown kind ${kind}`);
    const rec = store.raw(kind, Number(ctx.params.id));
    if (!rec) throw notFound(kind);
    return { status: 200, json: rec };
  });
  r.add('GET', `${P}/files/:id/content`, 'admin', o, (ctx) => {
    const f = store.raw('files', Number(ctx.params.id));
    const bytes = f && store.blobs.get(f.id);
    if (!f || !bytes) throw notFound('file');
    return { status: 200, raw: bytes, headers: { 'content-type': f.mimeType || 'application/octet-stream', 'x-sha256': f._sandbox.sha256 ?? '' } };
  });
  r.add('GET', `${P}/calls`, 'admin', o, () => ({ status: 200, json: { calls: a.calls.list(), total: a.calls.count() } }));
  r.add('DELETE', `${P}/calls`, 'admin', o, () => { a.calls.reset(); return { status: 204 }; });
  r.add('GET', `${P}/emails`, 'admin', o, () => ({ status: 200, json: { emails: store.emails, count: store.emails.length } }));
  r.add('GET', `${P}/imports`, 'admin', o, () => ({ status: 200, json: { imports: [...store.imports.values()] } }));
  r.add('POST', `${P}/reset`, 'admin', o, (ctx) => {
    try {
      const seed = isObj(ctx.body) && isObj(ctx.body.seed) ? seedSchema.parse(ctx.body.seed) : undefined;
      a.reset(seed as SeedData | undefined);
    } catch (err) { throw zodToApi(err); }
    return { status: 200, json: { ok: true } };
  });
  r.add('POST', `${P}/seed`, 'admin', o, (ctx) => {
    try {
      applySeed(store, seedSchema.parse(ctx.body ?? {}) as SeedData, a.adminKeys);
    } catch (err) { throw zodToApi(err); }
    return { status: 200, json: { ok: true } };
  });
  r.add('POST', `${P}/users/:id/accept`, 'admin', o, (ctx) => {
    const u = store.get('users', Number(ctx.params.id));
    if (!u) throw notFound('user');
    return { status: 200, json: { user: store.update('users', u.id, { status: 'active' }, null) } };
  });
  r.add('POST', `${P}/keys`, 'admin', o, (ctx) => {
    const b = isObj(ctx.body) ? ctx.body : {};
    if (typeof b.apiKey !== 'string' || typeof b.userId !== 'number' || !store.get('users', b.userId)) throw badRequest('body', 'need {apiKey, userId}');
    store.apiKeys.set(b.apiKey, b.userId);
    store.changed();
    return { status: 200, json: { ok: true } };
  });
  r.add('GET', `${P}/config`, 'admin', o, () => ({ status: 200, json: a.config }));
  r.add('PATCH', `${P}/config`, 'admin', o, (ctx) => {
    try {
      return { status: 200, json: updateConfig(a, isObj(ctx.body) ? ctx.body : {}) };
    } catch (err) { throw zodToApi(err); }
  });
  r.add('POST', `${P}/storm`, 'admin', o, (ctx) => {
    const ms = isObj(ctx.body) && typeof ctx.body.durationMs === 'number' ? ctx.body.durationMs : 60_000;
    const faults = { ...(a.config.faults ?? { seed: 1 }), stormUntil: store.now() + ms };
    updateConfig(a, { faults });
    return { status: 200, json: { stormUntil: faults.stormUntil } };
  });
}
