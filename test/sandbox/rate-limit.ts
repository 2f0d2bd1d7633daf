// Fixed-window limiter per account (bucket). The window opens at the first request after
// the previous one ended, lasts `windowMs`, and allows `limit` requests.

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetAtMs: number;
}

interface Window {
  startMs: number;
  count: number;
}

export class FixedWindowLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly now: () => number;

  constructor(now: () => number) {
    this.now = now;
  }

  hit(bucket: string, limit: number, windowMs: number): RateDecision {
    const now = this.now();
    let w = this.windows.get(bucket);
    if (!w || now >= w.startMs + windowMs) {
      w = { startMs: now, count: 0 };
      this.windows.set(bucket, w);
    }
    w.count += 1;
    return {
      allowed: w.count <= limit,
      limit,
      remaining: Math.max(0, limit - w.count),
      resetAtMs: w.startMs + windowMs,
    };
  }

  reset(): void {
    this.windows.clear();
  }
}

/** The three documented headers, plus Retry-After on 429 when enabled. */
export function rateHeaders(
  d: RateDecision,
  now: number,
  style: 'seconds' | 'epoch',
  retryAfter: boolean,
  limited: boolean,
): Record<string, string> {
  const secondsLeft = Math.max(0, Math.ceil((d.resetAtMs - now) / 1000));
  const h: Record<string, string> = {
    'x-rate-limit-limit': String(d.limit),
    'x-rate-limit-remaining': String(limited ? 0 : d.remaining),
    'x-rate-limit-reset': style === 'seconds' ? String(secondsLeft) : String(Math.ceil(d.resetAtMs / 1000)),
  };
  if (limited && retryAfter) h['retry-after'] = String(Math.max(1, secondsLeft));
  return h;
}
