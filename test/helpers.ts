/**
 * Test helpers: every test gets real services — a fresh Postgres database migrated from
 * scratch, a unique Kafka topic prefix — and stops what it started.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createKafka } from '../core/bus.ts';
import { loadConfig, type Config, type ConfigInput } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { createRegistry } from '../core/metrics.ts';
import { ensureServices, type Services } from '../core/services/index.ts';
import { migrateStaging, openStaging, type Db } from '../staging/index.ts';
import type { PipelineDeps } from '../cli/pipeline.ts';

let shared: Promise<Services> | undefined;

/** DATABASE_URL and KAFKA_BROKERS from `npm test`, or embedded services for a lone test file. */
export function services(): Promise<Services> {
  shared ??= ensureServices({ workDir: process.env.DESKPORT_WORK_DIR ?? '.deskport' });
  return shared;
}

export async function stopServices(): Promise<void> {
  if (shared) await (await shared).stop();
  shared = undefined;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** A fresh, migrated database on the test server; `drop()` removes it. */
export async function freshDatabase(): Promise<{ db: Db; url: string; drop(): Promise<void> }> {
  const base = (await services()).databaseUrl;
  const name = uniqueName('dp_test');
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const db = openStaging(url.toString());
  await migrateStaging(db);
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.destroy();
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'deskport-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Config for a test: nothing from the environment but what is given, a unique topic prefix. */
export function testConfig(overrides: ConfigInput = {}): Config {
  return loadConfig({ env: {}, overrides: { topicPrefix: uniqueName('t'), logLevel: 'error', ...overrides } });
}

/** Pipeline dependencies over a fresh database and the shared Kafka. */
export async function pipelineDeps(): Promise<PipelineDeps & { databaseUrl: string; brokers: string[]; drop(): Promise<void> }> {
  const svc = await services();
  const database = await freshDatabase();
  const log = createLogger({ level: process.env.DESKPORT_TEST_LOG ?? 'error' });
  return {
    db: database.db, kafka: createKafka(svc.brokers, log), log, registry: createRegistry(), drop: database.drop,
    databaseUrl: database.url, brokers: svc.brokers,
  };
}
