import { setTimeout as sleep } from 'node:timers/promises';
import { observeBudget, takeTokens, type Db } from '../staging/index.ts';

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
  /** Tokens this process took from the shared row and has not spent yet (one DB trip per block). */
  private local = 0;
  private localUntil = 0;
  private taking: Promise<void> | null = null;
  private lastObserved = 0;
  /** Until a response told the real limit, calls go one at a time: the guess may be too high. */
  private learned = false;
  private probe: Promise<void> | null = null;
  private endProbe: (() => void) | null = null;

  constructor(private readonly db: Db, private readonly opts: {
    account: string; initialLimit: number; ceiling: number; windowMs?: number; onWait?: (ms: number) => void;
    /** Tokens taken per trip to Postgres; small, so a dying loader wastes little of a window. */
    block?: number;
  }) {
    this.windowLimit = opts.initialLimit;
    // Calls the target allows beyond our ceiling: subtracted from what it says remains.
    this.reserve = () => this.windowLimit - this.limit;
  }

  get limit(): number {
    return Math.max(1, Math.floor(this.windowLimit * this.opts.ceiling));
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    while (!this.learned) {
      if (this.probe) {
        await this.probe;
        continue;
      }
      this.probe = new Promise<void>((resolve) => {
        // A call that dies without an answer must not hold the others forever.
        const timer = setTimeout(resolve, 2_000);
        this.endProbe = () => { clearTimeout(timer); resolve(); };
      }).finally(() => { this.probe = null; });
      break;
    }
    while (true) {
      // Local tokens belong to the window they were taken in.
      if (this.local > 0 && Date.now() < this.localUntil) {
        this.local--;
        return;
      }
      this.local = 0;
      // One trip to Postgres at a time per process; concurrent callers wait for its tokens.
      this.taking ??= this.refill().finally(() => { this.taking = null; });
      const waitMs = await this.taking.then(() => (this.local > 0 ? 0 : this.nextWait));
      if (waitMs === 0) continue;
      this.opts.onWait?.(waitMs);
      await sleep(Math.min(waitMs, 5_000), undefined, { signal });
    }
  }

  private nextWait = 0;

  private async refill(): Promise<void> {
    const block = Math.max(1, Math.min(this.opts.block ?? 4, Math.floor(this.limit / 20) || 1));
    const { granted, waitMs } = await takeTokens(this.db, {
      account: this.opts.account, limit: this.limit, windowMs: this.opts.windowMs ?? 60_000, wanted: this.learned ? block : 1,
      limitIsGuess: !this.learned,
    });
    this.local = granted;
    this.localUntil = Date.now() + 1_000;
    this.nextWait = granted > 0 ? 0 : waitMs;
  }

  async observe(h: RateHeaders): Promise<void> {
    const first = !this.learned && h.limit !== null;
    try {
      await this.correct(h);
    } finally {
      if (first) {
        this.learned = true;
        this.endProbe?.();
      }
    }
  }

  private async correct(h: RateHeaders): Promise<void> {
    const limitChanged = h.limit !== null && h.limit > 0 && h.limit !== this.windowLimit;
    if (h.limit !== null && h.limit > 0) this.windowLimit = h.limit;
    if (h.remaining === null || h.resetAt === null) return;
    // Correcting the shared row after every response would cost a write per call; at high limits
    // a few times a second, and whenever the window is nearly spent, is enough to stay in step.
    const now = Date.now();
    if (!limitChanged && this.limit >= 300 && now - this.lastObserved < 250 && h.remaining > this.limit / 10) return;
    this.lastObserved = now;
    await observeBudget(this.db, { account: this.opts.account, limit: this.limit, remaining: Math.max(0, h.remaining - this.reserve()), resetAt: h.resetAt });
  }

  async block(until: Date): Promise<void> {
    this.local = 0;
    await observeBudget(this.db, { account: this.opts.account, limit: null, remaining: 0, resetAt: until });
  }
}
