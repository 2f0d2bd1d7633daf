// Local single-node Apache Kafka 3.9 (KRaft) from the Maven Central jars, for when
// KAFKA_BROKERS is unset. Kafka 3.9 because kafkajs cannot talk to Kafka 4.
//
// workDir layout: libs/ (jars, cached; libs/.complete holds the pom hash),
// server.properties (rewritten each start: ports may change), data/ (log dirs),
// kafka.log (broker stdout/stderr), broker.pid (to find an orphan after a crash).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import {
  LogTail,
  ServiceError,
  choosePort,
  errorMessage,
  isAlive,
  isOwnedByLiveNode,
  processInfo,
  readPidFile,
  sleep,
  terminatePid,
} from './postgres.ts';

export interface KafkaOptions {
  workDir: string;
  /** Fixed broker port; must be free. Without it 39092 is tried, then any free port. */
  port?: number;
  log?: (msg: string) => void;
  /** How long to wait for the broker to answer an admin request (default 90s). */
  startTimeoutMs?: number;
}

export interface KafkaHandle {
  brokers: string[];
  stop(): Promise<void>;
}

const POM = fileURLToPath(new URL('./kafka/pom.xml', import.meta.url));
const LOG4J = fileURLToPath(new URL('./kafka/log4j.properties', import.meta.url));
const DEFAULT_PORT = 39092;
const DEFAULT_CONTROLLER_PORT = 39093;
const STOP_GRACE_MS = 30_000;
const JVM_ARGS = ['-Xms128m', '-Xmx1g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true'];

export async function startKafka(opts: KafkaOptions): Promise<KafkaHandle> {
  const workDir = path.resolve(opts.workDir);
  const log = opts.log ?? ((): void => undefined);
  await fs.mkdir(workDir, { recursive: true });
  requireTool('java', ['-version'], 'Java 17 is needed to run the local Kafka: install a JDK/JRE 17+ (e.g. `apt-get install openjdk-17-jre-headless`), or set KAFKA_BROKERS to use an existing broker.');

  const libs = await ensureLibs(workDir, log);
  const configFile = path.join(workDir, 'server.properties');
  await stopOrphanBroker(workDir, configFile, log);
  // Another process can take a port between our check and the broker's bind (parallel test
  // runs do): then start again on fresh ports, unless the caller fixed the port.
  for (let attempt = 0; ; attempt++) {
    try {
      return await startOnce(opts, workDir, libs, configFile, log, attempt);
    } catch (err) {
      // The whole log of this start (it is rewritten each time): the bind error can sit far above the tail.
      const bindRace = /Address already in use|failed to bind/i.test(`${(err as Error).message} ${readText(path.join(workDir, 'kafka.log')) ?? ''}`);
      if (!bindRace || opts.port !== undefined || attempt >= 3) throw err;
      log('a port was taken while the broker started; retrying on other ports');
    }
  }
}

async function startOnce(opts: KafkaOptions, workDir: string, libs: string, configFile: string, log: (msg: string) => void, attempt: number): Promise<KafkaHandle> {
  const port = await choosePort('kafka', opts.port, attempt === 0 ? DEFAULT_PORT : 0);
  const controllerPort = await choosePort('kafka', undefined, attempt === 0 ? DEFAULT_CONTROLLER_PORT : 0, [port]);
  await fs.writeFile(configFile, serverProperties(workDir, port, controllerPort));
  await formatStorageOnce(workDir, libs, configFile, log);

  const broker = `127.0.0.1:${port}`;
  const logFile = path.join(workDir, 'kafka.log');
  const child = spawnBroker(workDir, libs, configFile, logFile);
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  log(`broker pid ${child.pid} starting on ${broker} (log: ${logFile})`);
  // The broker outlives a parent that exits without stop(); SIGTERM lets it shut down cleanly on its own.
  const onExit = (): void => void child.kill('SIGTERM');
  process.on('exit', onExit);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.off('exit', onExit);
      await stopChild(child);
      await fs.rm(path.join(workDir, 'broker.pid'), { force: true });
    })();
    return stopping;
  };

  try {
    await waitUntilReady(broker, child, () => spawnError, logFile, opts.startTimeoutMs ?? 90_000);
  } catch (err) {
    await stop();
    throw err;
  }
  log(`broker ready on ${broker}`);
  return { brokers: [broker], stop };
}

function requireTool(cmd: string, args: string[], advice: string): void {
  const probe = spawnSync(cmd, args, { stdio: 'ignore' });
  if (probe.error) throw new ServiceError('MISSING_TOOL', 'kafka', `\`${cmd}\` was not found on PATH. ${advice}`, { cause: probe.error });
}

// Resolves the jars once; the marker stores the pom hash so editing the pom re-resolves.
async function ensureLibs(workDir: string, log: (msg: string) => void): Promise<string> {
  const libs = path.join(workDir, 'libs');
  const pom = await fs.readFile(POM);
  const pomHash = createHash('sha256').update(pom).digest('hex');
  if (readText(path.join(libs, '.complete')) === pomHash) return libs;

  requireTool('mvn', ['-v'], 'Maven is needed once to download the Kafka jars: install it (e.g. `apt-get install maven`), or set KAFKA_BROKERS to use an existing broker.');
  log('downloading Kafka jars from Maven Central (first run only)');
  // Resolve into a side directory and rename, so an interrupted download never looks complete.
  const partial = path.join(workDir, 'libs.partial');
  await fs.rm(partial, { recursive: true, force: true });
  await fs.writeFile(path.join(workDir, 'pom.xml'), pom);
  const mvnArgs = ['-q', '-B', '-f', path.join(workDir, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${partial}`, '-DincludeScope=runtime'];
  await run('mvn', mvnArgs, workDir, 'Maven could not download the Kafka jars');
  await fs.writeFile(path.join(partial, '.complete'), pomHash);
  await fs.rm(libs, { recursive: true, force: true });
  await fs.rename(partial, libs);
  return libs;
}

// A broker from a run whose node process was killed still holds the ports and the
// log-dir lock; stop it unless a live deskport process still owns it.
async function stopOrphanBroker(workDir: string, configFile: string, log: (msg: string) => void): Promise<void> {
  const pidFile = path.join(workDir, 'broker.pid');
  const pid = readPidFile(pidFile);
  if (pid === undefined) return;
  const info = isAlive(pid) ? processInfo(pid) : undefined;
  if (info !== undefined && info.args.includes('kafka.Kafka') && info.args.includes(configFile)) {
    if (isOwnedByLiveNode(info)) {
      throw new ServiceError('IN_USE', 'kafka', `another process (pid ${info.ppid}) is already running Kafka from ${workDir}; stop it or point KAFKA_BROKERS at it`);
    }
    log(`stopping orphaned broker ${pid} left by a previous run`);
    await terminatePid(pid, ['SIGTERM', 'SIGKILL'], STOP_GRACE_MS);
  }
  await fs.rm(pidFile, { force: true });
}

function serverProperties(workDir: string, port: number, controllerPort: number): string {
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': path.join(workDir, 'data'),
    'num.partitions': 4,
    'auto.create.topics.enable': true,
    'offsets.topic.replication.factor': 1,
    // 50 partitions by default; a handful makes the first consumer group start faster.
    'offsets.topic.num.partitions': 8,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 8,
    'group.initial.rebalance.delay.ms': 0,
  };
  const lines = Object.entries(props).map(([key, value]) => `${key}=${value}`);
  return `# Generated by core/services/kafka.ts on every start; edits are overwritten.\n${lines.join('\n')}\n`;
}

async function formatStorageOnce(workDir: string, libs: string, configFile: string, log: (msg: string) => void): Promise<void> {
  if (existsSync(path.join(workDir, 'data', 'meta.properties'))) return;
  log('formatting Kafka storage (first run only)');
  const args = [...javaBase(libs), 'kafka.tools.StorageTool', 'format', '-t', randomClusterId(), '-c', configFile];
  await run('java', args, workDir, 'kafka.tools.StorageTool format failed');
}

// Same shape as Kafka's Uuid.randomUuid(): 16 random bytes, base64url, not starting with '-'.
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function javaBase(libs: string): string[] {
  return [...JVM_ARGS, `-Dlog4j.configuration=${pathToFileURL(LOG4J).href}`, '-cp', path.join(libs, '*')];
}

function spawnBroker(workDir: string, libs: string, configFile: string, logFile: string): ChildProcess {
  // Output goes straight to a file: no pipe to drain, and the broker survives our exit cleanly.
  const fd = openSync(logFile, 'w');
  try {
    const child = spawn('java', [...javaBase(libs), 'kafka.Kafka', configFile], { cwd: workDir, stdio: ['ignore', fd, fd] });
    if (child.pid !== undefined) writeFileSync(path.join(workDir, 'broker.pid'), `${child.pid}\n`);
    return child;
  } finally {
    closeSync(fd);
  }
}

async function waitUntilReady(broker: string, child: ChildProcess, spawnError: () => Error | undefined, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const err = spawnError();
    if (err) throw startError(`could not run java: ${err.message}`, logFile);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw startError(`the broker exited (code ${child.exitCode ?? child.signalCode}) before accepting connections`, logFile);
    }
    if (await brokerAnswers(broker)) return;
    if (Date.now() >= deadline) throw startError(`the broker did not answer on ${broker} within ${timeoutMs / 1000}s`, logFile);
    await sleep(500);
  }
}

async function brokerAnswers(broker: string): Promise<boolean> {
  const kafka = new Kafka({ clientId: 'deskport-probe', brokers: [broker], logLevel: logLevel.NOTHING, connectionTimeout: 1_000, retry: { retries: 0 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    // Brokers only appear once registered and unfenced with the KRaft controller.
    const { brokers } = await admin.describeCluster();
    return brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function startError(reason: string, logFile: string): ServiceError {
  const tail = new LogTail(30);
  tail.push(readText(logFile) ?? '');
  return new ServiceError('START_FAILED', 'kafka', `local Kafka failed to start: ${reason}.\n--- last lines of ${logFile} ---\n${tail.text()}`, {
    logTail: tail.text(),
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Runs a command to completion; on failure the error quotes the tail of its output. */
function run(cmd: string, args: string[], cwd: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const tail = new LogTail(30);
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => tail.push(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => tail.push(chunk.toString('utf8')));
    child.once('error', (err) => reject(new ServiceError('START_FAILED', 'kafka', `${what}: ${errorMessage(err)}`, { cause: err })));
    child.once('close', (code, sig) => {
      if (code === 0) return resolve();
      reject(new ServiceError('START_FAILED', 'kafka', `${what} (exit ${code ?? sig}):\n${tail.text()}`, { logTail: tail.text() }));
    });
  });
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
