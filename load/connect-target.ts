import type { Registry } from 'prom-client';
import type { Config } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { gauge } from '../core/metrics.ts';
import { TeamworkDeskClient } from './client.ts';
import { PostgresRateBudget } from './rate-budget.ts';
import type { Db } from '../staging/index.ts';

/** Builds the Teamwork Desk client for the configured site, sharing the account's rate budget. */
export function connectTarget(deps: { db: Db; log: Logger; registry: Registry }, config: Config): TeamworkDeskClient {
  const { url, apiKey } = config.target;
  const problems: string[] = [];
  if (!url) problems.push('target.url is not set (DESKPORT_TARGET_URL), e.g. https://acme.teamwork.com');
  if (!apiKey) problems.push('the target API key is not set (DESKPORT_TARGET_API_KEY or DESKPORT_TARGET_API_KEY_FILE)');
  if (problems.length > 0) throw new ConfigError(problems);
  const waiting = gauge(deps.registry, 'deskport_load_rate_wait_seconds', 'Last wait imposed by the shared rate budget');
  const budget = new PostgresRateBudget(deps.db, {
    account: new URL(url!).origin, initialLimit: 120, ceiling: config.target.rateLimitCeiling,
    windowMs: config.target.rateLimitWindowSeconds * 1000,
    onWait: (ms) => waiting.set(ms / 1000),
  });
  return new TeamworkDeskClient({
    baseUrl: url!, apiKey: apiKey!, authScheme: config.target.authScheme, timeoutMs: config.target.requestTimeoutMs,
    budget, log: deps.log.child({ stage: 'load' }), registry: deps.registry,
  });
}
