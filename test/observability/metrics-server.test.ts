/** The /metrics + /healthz server a long-running stage exposes, and its configuration. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { loadConfig } from '../../core/config.ts';
import { ConfigError, DeskportError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import { counter, createRegistry } from '../../core/metrics.ts';
import { maybeStartMetricsServer, startMetricsServer } from '../../core/metrics-server.ts';
import { setRunState } from '../../core/run-state.ts';

const log = createLogger({ level: 'silent' });

describe('metrics server', () => {
  test('serves the registry in Prometheus text format on loopback, and /healthz', async () => {
    const registry = createRegistry();
    counter(registry, 'deskport_test_things_total', 'Things', ['entity']).inc({ entity: 'tickets' }, 3);
    setRunState(registry, 'loading');
    const server = await startMetricsServer({ registry, log, port: 0 });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${server.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const body = await res.text();
      assert.match(body, /^deskport_test_things_total\{entity="tickets"\} 3$/m);
      assert.match(body, /^deskport_pipeline_run_state\{state="loading"\} 1$/m);
      assert.match(body, /^deskport_pipeline_run_state\{state="done"\} 0$/m);
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      assert.equal((await fetch(`${server.url}/nothing`)).status, 404);
    } finally {
      await server.close();
    }
    await assert.rejects(fetch(`${server.url}/metrics`), 'closed');
  });

  test('/healthz answers 503 with the reason when the health check fails', async () => {
    const server = await startMetricsServer({ registry: createRegistry(), log, port: 0, health: async () => { throw new Error('staging unreachable'); } });
    try {
      const res = await fetch(`${server.url}/healthz`);
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), { status: 'unhealthy', error: 'staging unreachable' });
      assert.equal((await fetch(`${server.url}/metrics`)).status, 200, 'metrics still answer');
    } finally {
      await server.close();
    }
  });

  test('a port in use is a clear error with a hint', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(startMetricsServer({ registry: createRegistry(), log, port }), (err: unknown) => {
        assert.ok(err instanceof DeskportError);
        assert.equal(err.code, 'DESKPORT_METRICS_LISTEN');
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`));
        assert.match(err.hint ?? '', /DESKPORT_METRICS_PORT/);
        return true;
      });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test('configured by DESKPORT_METRICS_PORT / DESKPORT_METRICS_HOST; off without a port', async () => {
    assert.deepEqual(loadConfig({ env: {} }).metrics, { host: '127.0.0.1' });
    assert.equal(await maybeStartMetricsServer({ registry: createRegistry(), log }, loadConfig({ env: {} })), null);
    assert.deepEqual(loadConfig({ env: { DESKPORT_METRICS_PORT: '9464', DESKPORT_METRICS_HOST: '0.0.0.0' } }).metrics, { port: 9464, host: '0.0.0.0' });
    const server = await maybeStartMetricsServer({ registry: createRegistry(), log }, loadConfig({ env: { DESKPORT_METRICS_PORT: '0' } }));
    assert.ok(server);
    await server.close();
    for (const bad of ['abc', '70000', '-1']) {
      assert.throws(() => loadConfig({ env: { DESKPORT_METRICS_PORT: bad } }), (err: unknown) => err instanceof ConfigError && /metrics\.port/.test(err.message));
    }
  });
});
