import { setTimeout as sleep } from 'node:timers/promises';
import { observeBudget, takeToken, type Db } from '../staging/index.ts';

/** What a rate budget needs to know of a response. */
export interface RateHeaders {
  limit: number | null;
  remaining: number | null;
  /** Absolute time the window resets, if the target said. */
  resetAt: Date | null;
}

export interface RateBudget {
  /** Resolves when one call may be sent. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Feeds what the target said back into the budget. */
  observe(headers: RateHeaders): Promise<void>;
  /** Nothing may be sent before `until` (a 429 or Retry-After). */
  block(until: Date): Promise<void>;
  readonly limit: number;
}

/**
 * `X-Rate-Limit-Reset` is documented ambiguously: seconds until the reset, or an epoch time.
 * Values above 1e9 can only be epochs; smaller ones are a delay.
 */
export function parseReset(value: string | null | undefined, now = Date.now()): Date | null {
  if (value == null || value.trim() === '') return null;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) return null;
  return new Date(n > 1e9 ? n * 1000 : now + n * 1000);
}

export function readRateHeaders(headers: Record<string, string | string[] | undefined>, now = Date.now()): RateHeaders {
  const one = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const num = (name: string) => {
    const v = one(name);
    const n = v == null ? NaN : Number(v);
    return Number.isFinite(n) ? n : null;
  };
  return { limit: num('x-rate-limit-limit'), remaining: num('x-rate-limit-remaining'), resetAt: parseReset(one('x-rate-limit-reset'), now) };
}

/**
 * A token bucket shared by every loader of one target account, kept in Postgres. `ceiling` is
 * the share of the target's limit deskport may spend (e.g. 0.9 leaves room for live integrations).
 */
export class PostgresRateBudget implements RateBudget {
  private windowLimit: number;
  private readonly reserve: () => number;

  constructor(private readonly db: Db, private readonly opts: {
    account: string; initialLimit: number; ceiling: number; windowMs?: number; onWait?: (ms: number) => void;
  }) {
    this.windowLimit = opts.initialLimit;
    // Calls the target allows beyond our ceiling: subtracted from what it says remains.
    this.reserve = () => this.windowLimit - this.limit;
  }

  get limit(): number {
    return Math.max(1, Math.floor(this.windowLimit * this.opts.ceiling));
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    while (true) {
      const waitMs = await takeToken(this.db, { account: this.opts.account, limit: this.limit, windowMs: this.opts.windowMs ?? 60_000 });
      if (waitMs === 0) return;
      this.opts.onWait?.(waitMs);
      await sleep(Math.min(waitMs, 5_000), undefined, { signal });
    }
  }

  async observe(h: RateHeaders): Promise<void> {
    if (h.limit !== null && h.limit > 0) this.windowLimit = h.limit;
    if (h.remaining === null || h.resetAt === null) return;
    await observeBudget(this.db, { account: this.opts.account, limit: this.limit, remaining: Math.max(0, h.remaining - this.reserve()), resetAt: h.resetAt });
  }

  async block(until: Date): Promise<void> {
    await observeBudget(this.db, { account: this.opts.account, limit: null, remaining: 0, resetAt: until });
  }
}
