import type { Knex } from 'knex';

/**
 * The rate budget of one target account, shared by every loader through one row (R24, R25).
 * Takes up to `wanted` tokens at once (one transaction for several calls): returns how many
 * were granted, and when none were, how long to wait before asking again. The window refills
 * when its reset time has passed; the target's headers correct it (`observeBudget`).
 */
export async function takeTokens(db: Knex, opts: {
  account: string; limit: number; windowMs: number; wanted: number;
  /** The caller has not heard the target's limit yet: another loader's learned one wins. */
  limitIsGuess?: boolean;
}): Promise<{ granted: number; waitMs: number }> {
  return db.transaction(async (trx) => {
    await trx.raw(
      `INSERT INTO rate_budget (account, window_limit, remaining, reset_at) VALUES (?, ?, ?, now()) ON CONFLICT (account) DO NOTHING`,
      [opts.account, opts.limit, opts.limit],
    );
    const { rows } = await trx.raw(
      `SELECT remaining, window_limit, reset_at <= now() AS expired,
              GREATEST(0, EXTRACT(EPOCH FROM (reset_at - now())) * 1000)::int AS wait_ms
       FROM rate_budget WHERE account = ? FOR UPDATE`,
      [opts.account],
    );
    const row = rows[0];
    if (row.expired) {
      const limit = opts.limitIsGuess ? Math.min(opts.limit, row.window_limit) : opts.limit;
      const granted = Math.min(opts.wanted, limit);
      await trx.raw(
        `UPDATE rate_budget SET window_limit = ?, remaining = ?::int - ?::int, reset_at = now() + make_interval(secs => ?), updated_at = now() WHERE account = ?`,
        [limit, limit, granted, opts.windowMs / 1000, opts.account],
      );
      return { granted, waitMs: 0 };
    }
    if (row.remaining > 0) {
      const granted = Math.min(opts.wanted, row.remaining);
      await trx.raw(`UPDATE rate_budget SET remaining = remaining - ?::int, updated_at = now() WHERE account = ?`, [granted, opts.account]);
      return { granted, waitMs: 0 };
    }
    return { granted: 0, waitMs: Math.max(row.wait_ms, 50) };
  });
}

/**
 * What the target said about its window after a response. Inside the same window the budget
 * only goes down (responses arrive out of order); a later reset means a new window, and a new
 * limit means our guess was wrong: adopt what the target says.
 */
export async function observeBudget(db: Knex, opts: { account: string; limit: number | null; remaining: number; resetAt: Date }): Promise<void> {
  await db.raw(
    `UPDATE rate_budget SET
       remaining = CASE WHEN ?::timestamptz > reset_at + interval '1 second' OR window_limit <> COALESCE(?::int, window_limit)
                        THEN ? ELSE LEAST(remaining, ?) END,
       window_limit = COALESCE(?::int, window_limit),
       -- The target's clock decides when its window ends (a 429's Retry-After too), give or take
       -- the second its "seconds until reset" rounds away; a reset already past is a late answer
       -- from an old window and changes nothing.
       reset_at = CASE WHEN ?::timestamptz > now()
                       THEN GREATEST(?::timestamptz, LEAST(reset_at, ?::timestamptz + interval '1 second'))
                       ELSE reset_at END,
       updated_at = now()
     WHERE account = ?`,
    [opts.resetAt, opts.limit, opts.remaining, opts.remaining, opts.limit, opts.resetAt, opts.resetAt, opts.resetAt, opts.account],
  );
}
