// The one door to the local services: use what the environment names, start the rest.
import path from 'node:path';
import { startKafka } from './kafka.ts';
import { startPostgres } from './postgres.ts';

export { ServiceError } from './postgres.ts';
export type { ServiceErrorCode } from './postgres.ts';

export interface ServicesOptions {
  /** Root for service state; callers default to `<cwd>/.deskport`. */
  workDir: string;
  /** Where DATABASE_URL and KAFKA_BROKERS are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  log?: (msg: string) => void;
  /** False: the caller only needs Postgres (serve, verify, report…); no broker is started. */
  kafka?: boolean;
}

export interface Services {
  databaseUrl: string;
  brokers: string[];
  /** Stops only the services this call started; safe to call twice. */
  stop(): Promise<void>;
}

interface Started<T> {
  value: T;
  stop(): Promise<void>;
}

const noop = async (): Promise<void> => undefined;

export async function ensureServices(opts: ServicesOptions): Promise<Services> {
  const env = opts.env ?? process.env;
  const workDir = path.resolve(opts.workDir);
  const log = opts.log ?? ((): void => undefined);

  const [postgres, kafka] = await Promise.allSettled([
    postgresFrom(env, workDir, (msg) => log(`[postgres] ${msg}`)),
    opts.kafka === false ? Promise.resolve({ value: [] as string[], stop: noop }) : kafkaFrom(env, workDir, (msg) => log(`[kafka] ${msg}`)),
  ]);
  if (postgres.status === 'rejected' || kafka.status === 'rejected') {
    // Don't leave the half that did start running.
    await Promise.all([postgres, kafka].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    const errors = [postgres, kafka].flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    throw errors.length === 1 ? errors[0] : new AggregateError(errors, 'neither Postgres nor Kafka could be started');
  }

  let stopping: Promise<void> | undefined;
  return {
    databaseUrl: postgres.value.value,
    brokers: kafka.value.value,
    stop: () => (stopping ??= Promise.all([postgres.value.stop(), kafka.value.stop()]).then(() => undefined)),
  };
}

async function postgresFrom(env: NodeJS.ProcessEnv, workDir: string, log: (msg: string) => void): Promise<Started<string>> {
  const url = env.DATABASE_URL?.trim();
  if (url) return { value: url, stop: noop };
  const pg = await startPostgres({ dataDir: path.join(workDir, 'pgdata'), log });
  return { value: pg.databaseUrl, stop: pg.stop };
}

async function kafkaFrom(env: NodeJS.ProcessEnv, workDir: string, log: (msg: string) => void): Promise<Started<string[]>> {
  const brokers = (env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length > 0) return { value: brokers, stop: noop };
  const kafka = await startKafka({ workDir: path.join(workDir, 'kafka'), log });
  return { value: kafka.brokers, stop: kafka.stop };
}
