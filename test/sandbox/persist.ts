// Write-behind persistence: changes are coalesced for `debounceMs`, then the snapshot is
// written to a temp file and renamed over the state file, so a reader never sees half a file.
// File bytes are stored beside it in `<stateFile>.blobs/<fileId>` (they can be large).

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { StateSnapshot, Store } from './store.ts';

export class Persister {
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly blobDir: string;
  private readonly file: string;
  private readonly store: Store;
  private readonly debounceMs: number;
  /** `${fileId}:${sha256}` already on disk; ids are reused after a reset, hence the hash. */
  private readonly written = new Set<string>();

  constructor(file: string, store: Store, debounceMs: number) {
    this.file = path.resolve(file);
    this.store = store;
    this.debounceMs = debounceMs;
    this.blobDir = `${this.file}.blobs`;
  }

  /** Loads a previous state if the file exists. Returns whether something was loaded. */
  async load(): Promise<boolean> {
    if (!existsSync(this.file)) return false;
    const snap = JSON.parse(await readFile(this.file, 'utf8')) as StateSnapshot;
    const blobs = new Map<number, Buffer>();
    for (const [id, sha] of Object.entries(snap.blobs ?? {})) {
      const p = path.join(this.blobDir, id);
      if (!existsSync(p)) continue;
      blobs.set(Number(id), await readFile(p));
      this.written.add(`${id}:${sha}`);
    }
    this.store.restore(snap, blobs);
    return true;
  }

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.writing = this.writing.then(() => this.write()).catch((err: unknown) => {
        process.emitWarning(`sandbox state write failed: ${String(err)}`);
      });
    }, this.debounceMs);
  }

  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.writing = this.writing.then(() => this.write());
    }
    await this.writing;
  }

  private async write(): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const snap = this.store.snapshot();
    if (this.store.blobs.size > 0) {
      await mkdir(this.blobDir, { recursive: true });
      for (const [id, bytes] of this.store.blobs) {
        const mark = `${id}:${snap.blobs[String(id)] ?? ''}`;
        if (this.written.has(mark)) continue;
        this.written.add(mark);
        const tmp = path.join(this.blobDir, `.${id}.tmp`);
        await writeFile(tmp, bytes);
        await rename(tmp, path.join(this.blobDir, String(id)));
      }
    }
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(snap, null, 2));
    await rename(tmp, this.file);
  }
}
