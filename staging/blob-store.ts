import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface StoredBlob { sha256: string; size: number; blobPath: string }

/**
 * Content-addressed blob store on a local directory: `<dir>/<aa>/<bb>/<sha256>`. Bytes are
 * streamed to a temp file while hashed (never buffered whole), then renamed into place, so a
 * crash leaves no half blob under a content name, and storing the same bytes twice is a no-op.
 */
export class BlobStore {
  constructor(readonly dir: string) {}

  relPath(sha256: string): string {
    return join(sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  fullPath(blobPath: string): string {
    return join(this.dir, blobPath);
  }

  async put(body: Readable, opts: { maxBytes?: number } = {}): Promise<StoredBlob> {
    const tmpDir = join(this.dir, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${Date.now()}-${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (opts.maxBytes !== undefined && size > opts.maxBytes) return cb(new Error(`larger than ${opts.maxBytes} bytes`));
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(body, tap, createWriteStream(tmp));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    const sha256 = hash.digest('hex');
    const blobPath = this.relPath(sha256);
    const dest = this.fullPath(blobPath);
    const exists = await stat(dest).then(() => true, () => false);
    if (exists) await rm(tmp, { force: true });
    else {
      await mkdir(join(this.dir, blobPath, '..'), { recursive: true });
      await rename(tmp, dest);
    }
    return { sha256, size, blobPath };
  }
}
