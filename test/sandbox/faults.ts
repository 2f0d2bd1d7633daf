// Seeded fault injection. Every faultable request draws the same number of random values,
// whatever the config, so the same seed and request sequence give the same faults.

import type { FaultConfig, FaultRates } from './config.ts';
import { mulberry32 } from '../prng.ts';


export interface FaultDecision {
  ordinal: number;
  storm: boolean;
  drop: boolean;
  error: number | null;
  delayMs: number;
  lostAfterWrite: boolean;
}


const ERROR_CODES = [500, 502, 503, 504] as const;

export class FaultInjector {
  private rand: () => number = mulberry32(1);
  private seed: number | null = null;
  private ordinal = 0;
  private readonly now: () => number;

  constructor(now: () => number) {
    this.now = now;
  }

  /** Re-seeds when the seed changes (or on reset), restarting the sequence. */
  sync(cfg: FaultConfig | null, force = false): void {
    const seed = cfg?.seed ?? 1;
    if (force || seed !== this.seed) {
      this.seed = seed;
      this.rand = mulberry32(seed);
      this.ordinal = 0;
    }
  }

  decide(cfg: FaultConfig | null, method: string, family: string, isWrite: boolean): FaultDecision {
    this.sync(cfg);
    this.ordinal += 1;
    const draws = [this.rand(), this.rand(), this.rand(), this.rand(), this.rand(), this.rand()] as const;
    const none: FaultDecision = { ordinal: this.ordinal, storm: false, drop: false, error: null, delayMs: 0, lostAfterWrite: false };
    if (!cfg) return none;
    const r: FaultRates = { ...pick(cfg), ...cfg.byMethod?.[method.toUpperCase()], ...cfg.byFamily?.[family] };
    const storm = (cfg.stormUntil !== undefined && this.now() < cfg.stormUntil)
      || (cfg.storms ?? []).some((s) => this.ordinal >= s.fromRequest && this.ordinal < s.fromRequest + s.requests);
    const drop = draws[0] < (r.drop ?? 0);
    const error = draws[1] < (r.error5xx ?? 0) ? ERROR_CODES[Math.floor(draws[2] * ERROR_CODES.length)]! : null;
    let delayMs = 0;
    if (draws[3] < (r.delay ?? 0)) {
      const d = r.delayMs ?? 1000;
      delayMs = typeof d === 'number' ? d : Math.round(d[0] + draws[4] * (d[1] - d[0]));
    }
    const lostAfterWrite = isWrite && draws[5] < (r.lostAfterWrite ?? 0);
    return { ordinal: this.ordinal, storm, drop, error, delayMs, lostAfterWrite };
  }
}

const pick = (c: FaultConfig): FaultRates => {
  const out: FaultRates = {};
  if (c.error5xx !== undefined) out.error5xx = c.error5xx;
  if (c.drop !== undefined) out.drop = c.drop;
  if (c.delay !== undefined) out.delay = c.delay;
  if (c.delayMs !== undefined) out.delayMs = c.delayMs;
  if (c.lostAfterWrite !== undefined) out.lostAfterWrite = c.lostAfterWrite;
  return out;
};
