import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Config } from './config.ts';
import { DeskportError } from './errors.ts';
import type { Logger } from './log.ts';

export interface MetricsServer {
  /** Base URL, e.g. http://127.0.0.1:9464 (the real port when 0 was asked for). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  registry: Registry;
  log: Logger;
  port: number;
  host?: string;
  /** Extra health check (e.g. "staging reachable"); a throw makes `/healthz` answer 503. */
  health?: () => Promise<void>;
}

/**
 * Adds `GET /metrics` (Prometheus text format) and `GET /healthz` to a Fastify app. `serve`
 * mounts these on its own server; other long-running stages use startMetricsServer.
 */
export function registerMetricsRoutes(app: FastifyInstance, registry: Registry, health?: () => Promise<void>): void {
  app.get('/metrics', async (_req, reply) => {
    const body = await registry.metrics();
    return reply.header('content-type', registry.contentType).send(body);
  });
  app.get('/healthz', async (_req, reply) => {
    try {
      await health?.();
      return { status: 'ok' };
    } catch (err) {
      return reply.code(503).send({ status: 'unhealthy', error: (err as Error).message });
    }
  });
}

/** A tiny server for one stage's metrics; binds to loopback unless a host is given. */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const app = Fastify({ logger: false });
  registerMetricsRoutes(app, opts.registry, opts.health);
  const host = opts.host ?? '127.0.0.1';
  try {
    await app.listen({ port: opts.port, host });
  } catch (err) {
    await app.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    throw new DeskportError('DESKPORT_METRICS_LISTEN', `cannot expose metrics on ${host}:${opts.port} (${code ?? (err as Error).message})`, {
      cause: err,
      hint: code === 'EADDRINUSE' ? 'Another process uses that port; set DESKPORT_METRICS_PORT to a free one (0 picks one).' : undefined,
    });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  opts.log.info({ url: `${url}/metrics` }, 'metrics exposed');
  return { url, port, close: () => app.close() };
}

/** The metrics server a stage's config asks for, or null when `metrics.port` is unset. */
export async function maybeStartMetricsServer(
  deps: { registry: Registry; log: Logger }, config: Pick<Config, 'metrics'>, health?: () => Promise<void>,
): Promise<MetricsServer | null> {
  if (config.metrics.port === undefined) return null;
  return startMetricsServer({ ...deps, port: config.metrics.port, host: config.metrics.host, ...(health ? { health } : {}) });
}
