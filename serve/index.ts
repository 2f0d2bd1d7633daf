import { createHash, timingSafeEqual } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { isLoopbackHost } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { registerRoutes, type ServeDeps } from './routes.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The reconciliation server (R27): Fastify with JSON-schema'd routes, an OpenAPI document built
 * from those schemas (GET /openapi.json), and the HTML report page. With a token configured,
 * every route but /healthz needs `Authorization: Bearer <token>`.
 */
export async function buildServer(deps: ServeDeps & { log?: Logger }): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'deskport reconciliation API', version: '1', description: 'Runs, per-record reports (JSON/CSV), verification results and the report page of deskport migrations.' },
      ...(deps.config.serve.token ? { components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }, security: [{ bearer: [] }] } : {}),
    },
  });
  const token = deps.config.serve.token;
  if (token) {
    const want = digest(token);
    app.addHook('onRequest', async (req, reply) => {
      if (req.url === '/healthz') return;
      const m = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
      // Compare digests in constant time; the token itself never reaches a log.
      if (!m || !timingSafeEqual(digest(m[1]!.trim()), want)) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'a bearer token is required' });
      }
    });
  }
  app.setErrorHandler((err: { statusCode?: number; validation?: unknown; message: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) deps.log?.error({ err }, 'serve: request failed');
    void reply.code(status).send({ error: err.validation ? 'bad_request' : status === 500 ? 'internal' : 'error', message: status === 500 ? 'internal error' : err.message });
  });
  registerRoutes(app, deps);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

export interface ServeHandle { url: string; app: FastifyInstance; close(): Promise<void> }

/** Starts the server on the configured host/port; refuses a non-loopback address without a token. */
export async function startServe(deps: ServeDeps & { log?: Logger }, overrides: { host?: string; port?: number } = {}): Promise<ServeHandle> {
  const host = overrides.host ?? deps.config.serve.host;
  const port = overrides.port ?? deps.config.serve.port;
  if (!isLoopbackHost(host) && !deps.config.serve.token) {
    throw new ConfigError([`serve: binding ${host} (not loopback) requires a bearer token: set DESKPORT_SERVE_TOKEN`]);
  }
  const app = await buildServer(deps);
  await app.listen({ host, port });
  const addr = app.server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  deps.log?.info({ url, auth: deps.config.serve.token ? 'bearer' : 'none (loopback)' }, 'deskport serve listening');
  return { url, app, close: () => app.close() };
}
