// Fixed-window rate limit per account with the X-Rate-Limit-* headers, on a fake clock.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSandbox } from './index.ts';
import { call, fakeClock } from './test-helpers.ts';

describe('rate limit', () => {
  it('the 121st request inside a minute gets 429 with a correct reset; the next window is fresh', async () => {
    const clock = fakeClock();
    const sb = await startSandbox({ now: clock.now });
    try {
      for (let i = 1; i <= 120; i++) {
        const r = await call(sb, 'GET', '/inboxes.json');
        assert.equal(r.status, 200);
        assert.equal(r.headers['x-rate-limit-remaining'], String(120 - i));
        if (i === 1) clock.advance(15_000);
      }
      const limited = await call(sb, 'GET', '/tickets.json');
      assert.equal(limited.status, 429);
      assert.equal(limited.headers['x-rate-limit-limit'], '120');
      assert.equal(limited.headers['x-rate-limit-remaining'], '0');
      assert.equal(limited.headers['x-rate-limit-reset'], '45');
      assert.equal(limited.headers['retry-after'], undefined);
      assert.equal(limited.json.errors[0].code, 'too_many_requests');
      // Admin surface is not limited.
      assert.equal((await call(sb, 'GET', '/_sandbox/health', undefined, { auth: null })).status, 200);
      clock.advance(45_000);
      const fresh = await call(sb, 'GET', '/tickets.json');
      assert.equal(fresh.status, 200);
      assert.equal(fresh.headers['x-rate-limit-remaining'], '119');
      assert.equal(fresh.headers['x-rate-limit-reset'], '60');
      assert.equal(sb.store.callCount({ status: 429 }), 1);
    } finally { await sb.close(); }
  });

  it('epoch reset style, Retry-After when enabled, configurable limit', async () => {
    const clock = fakeClock(Date.UTC(2025, 0, 1, 0, 0, 0));
    const sb = await startSandbox({ now: clock.now, rateLimitPerMinute: 2, resetStyle: 'epoch', retryAfterHeader: true });
    try {
      await call(sb, 'GET', '/tags.json');
      clock.advance(10_000);
      const second = await call(sb, 'GET', '/tags.json');
      assert.equal(second.headers['x-rate-limit-reset'], String(Date.UTC(2025, 0, 1, 0, 1, 0) / 1000));
      const third = await call(sb, 'GET', '/tags.json');
      assert.equal(third.status, 429);
      assert.equal(third.headers['retry-after'], '50');
      sb.store.configure({ rateLimitPerMinute: 5 });
      assert.equal((await call(sb, 'GET', '/tags.json')).headers['x-rate-limit-limit'], '5');
    } finally { await sb.close(); }
  });

  it('v1 import shares the budget by default; separate budget as an option', async () => {
    const clock = fakeClock();
    const body = { source: 's', fallbackInboxId: 1, tickets: [] };
    const shared = await startSandbox({ now: clock.now, rateLimitPerMinute: 1 });
    try {
      await call(shared, 'GET', '/tags.json');
      assert.equal((await call(shared, 'POST', '/desk/v1/import/tickets.json', body)).status, 429);
    } finally { await shared.close(); }
    const separate = await startSandbox({ now: clock.now, rateLimitPerMinute: 1, importSharesBudget: false, importRateLimitPerMinute: 1 });
    try {
      await call(separate, 'GET', '/tags.json');
      assert.equal((await call(separate, 'POST', '/desk/v1/import/tickets.json', body)).status, 400, 'reaches validation');
      assert.equal((await call(separate, 'POST', '/desk/v1/import/tickets.json', body)).status, 429);
    } finally { await separate.close(); }
  });
});
