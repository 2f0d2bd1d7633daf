import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { migrateStaging, openStaging, type Db } from '../staging/index.ts';
import { ensureServices, type Services } from '../core/services/index.ts';
import { createKafka } from '../core/bus.ts';
import type { Config } from '../core/config.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { createRegistry } from '../core/metrics.ts';
import { maybeStartMetricsServer, type MetricsServer } from '../core/metrics-server.ts';

/** Everything a command needs, opened once: services (env-named or embedded), staging, Kafka. */
export interface App {
  config: Config;
  log: Logger;
  registry: Registry;
  db: Db;
  kafka: Kafka;
  services: Services;
  close(): Promise<void>;
}

/** `kafka: false` for commands that only read and write staging and the target: no broker is started. */
export async function openApp(config: Config, opts: { log?: Logger; kafka?: boolean } = {}): Promise<App> {
  const log = opts.log ?? createLogger({ level: config.logLevel });
  const services = await ensureServices({
    workDir: config.workDir,
    env: { DATABASE_URL: config.databaseUrl, KAFKA_BROKERS: config.kafkaBrokers?.join(',') },
    kafka: opts.kafka !== false,
    // Postgres' own server log is for --log-level debug; deskport's service messages stay visible.
    log: (msg) => (/^\[postgres\] (\d{4}-\d\d-\d\d |\s)/.test(msg) ? log.debug(msg) : log.info(msg)),
  });
  const db = openStaging(services.databaseUrl);
  try {
    await migrateStaging(db);
  } catch (err) {
    await db.destroy();
    await services.stop();
    throw err;
  }
  const kafka = opts.kafka === false ? noKafka() : createKafka(services.brokers, log);
  const registry = createRegistry();
  // With metrics.port set (DESKPORT_METRICS_PORT), every command — run, transform, load, serve —
  // exposes /metrics and /healthz (staging reachable) for as long as it lives.
  let metrics: MetricsServer | null;
  try {
    metrics = await maybeStartMetricsServer({ registry, log }, config, async () => { await db.raw('select 1'); });
  } catch (err) {
    await db.destroy();
    await services.stop();
    throw err;
  }
  return {
    config, log, registry, db, kafka, services,
    async close() {
      await metrics?.close();
      await db.destroy();
      await services.stop();
    },
  };
}

/** Stands for Kafka in a command opened without it: passing it along is fine, using it is a bug. */
function noKafka(): Kafka {
  return new Proxy({} as Kafka, {
    get(_target, prop) {
      throw new Error(`this command was opened without Kafka (openApp with kafka: false), yet used kafka.${String(prop)}`);
    },
  });
}
