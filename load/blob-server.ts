import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '../core/config.ts';

/**
 * Serves blob-store files to the target under signed, expiring URLs: the v1 import takes
 * attachments as download URLs that Teamwork Desk fetches itself. Only a URL deskport signed
 * opens a blob; there is no listing, and nothing else is served.
 */
export interface BlobServer {
  /** A URL the target can download `blobPath` from until `ttlSeconds` from now. */
  sign(blobPath: string, fileName: string, ttlSeconds?: number): string;
  close(): Promise<void>;
  readonly url: string;
}

const BLOB_PATH = /^[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}$/;

function signature(secret: Buffer, blobPath: string, exp: number): string {
  return createHmac('sha256', secret).update(`${blobPath}\n${exp}`).digest('base64url');
}

export async function startBlobServer(opts: {
  blobDir: string; host?: string; port?: number; publicUrl?: string; secret?: string; defaultTtlSeconds?: number;
}): Promise<BlobServer> {
  const secret = opts.secret ? Buffer.from(opts.secret) : randomBytes(32);
  const app: FastifyInstance = Fastify({ logger: false });
  app.get<{ Params: { a: string; b: string; sha: string }; Querystring: { exp?: string; sig?: string; name?: string } }>(
    '/blobs/:a/:b/:sha',
    async (req, reply) => {
      const blobPath = `${req.params.a}/${req.params.b}/${req.params.sha}`;
      const exp = Number(req.query.exp);
      const given = Buffer.from(req.query.sig ?? '');
      const wanted = Buffer.from(Number.isFinite(exp) ? signature(secret, blobPath, exp) : '');
      if (!BLOB_PATH.test(blobPath) || given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
        return reply.code(403).send({ error: 'invalid signature' });
      }
      if (exp * 1000 < Date.now()) return reply.code(410).send({ error: 'link expired' });
      const file = join(opts.blobDir, blobPath);
      const info = await stat(file).catch(() => null);
      if (!info) return reply.code(404).send({ error: 'not found' });
      const name = (req.query.name ?? 'file').replace(/["\r\n]/g, '');
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', String(info.size))
        .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(name)}`)
        .send(createReadStream(file));
    },
  );
  const address = await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
  const base = (opts.publicUrl ?? address).replace(/\/+$/, '');
  return {
    url: base,
    sign(blobPath, fileName, ttlSeconds = opts.defaultTtlSeconds ?? 3600) {
      const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
      const q = new URLSearchParams({ exp: String(exp), sig: signature(secret, blobPath, exp), name: fileName });
      return `${base}/blobs/${blobPath}?${q}`;
    },
    close: () => app.close(),
  };
}

/** The blob server for a configured run: the blob store of the source, the configured address. */
export function startBlobServerFor(config: Config): Promise<BlobServer> {
  return startBlobServer({
    blobDir: config.source.blobDir ?? join(config.workDir, 'blobs'),
    host: config.blobServer.host, port: config.blobServer.port, defaultTtlSeconds: config.blobServer.linkTtlSeconds,
    ...(config.blobServer.publicUrl ? { publicUrl: config.blobServer.publicUrl } : {}),
  });
}
