import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { probeTarget } from '../../cli/commands/probes.ts';
import { DeskportError } from '../../core/errors.ts';
import { testConfig } from '../helpers.ts';

/**
 * A loader restarted right after a crash finds the target's rate-limit window spent: its start-up
 * check must wait as the 429 says and ask again, not call the site "not Teamwork Desk".
 */
describe('the target probe under a rate limit', () => {
  let server: Server;
  let url = '';
  let limited = 0;
  const seen: number[] = [];
  before(async () => {
    server = createServer((_req, res) => {
      seen.push(Date.now());
      if (limited > 0) {
        limited--;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1', 'x-rate-limit-limit': '120', 'x-rate-limit-remaining': '0' });
        res.end('{"errors":["rate limit"]}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-rate-limit-limit': '120', 'x-rate-limit-remaining': '119' });
      res.end(JSON.stringify({ user: { id: 1, email: 'admin@example.com', firstName: 'Ada', lastName: 'Admin', role: 'admin' } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test('429 with Retry-After: waits that long, asks again, and succeeds', async () => {
    limited = 2;
    seen.length = 0;
    const probe = await probeTarget(testConfig({ target: { url, apiKey: 'k' } }));
    assert.equal(probe.user?.email, 'admin@example.com');
    assert.equal(seen.length, 3);
    assert.ok(seen[1]! - seen[0]! >= 950 && seen[2]! - seen[1]! >= 950, `waited Retry-After between tries: ${seen.map((t) => t - seen[0]!)}`);
  });

  test('a 429 that never ends is said as such, not as a wrong URL', async () => {
    limited = 100;
    await assert.rejects(probeTarget(testConfig({ target: { url, apiKey: 'k' } })), (err: DeskportError) => {
      assert.equal(err.code, 'DESKPORT_RATE_LIMITED');
      assert.match(err.message, /still answers 429 \(rate limited\) after 6 tries/);
      return true;
    });
  });
});
