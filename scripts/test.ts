/**
 * `npm test`: makes sure Postgres and Kafka are there (DATABASE_URL / KAFKA_BROKERS, else the
 * embedded ones under .deskport/), then runs node's test runner over test/**\/*.test.ts, or over
 * the files given as arguments (`npm test -- test/pipeline.test.ts`).
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureServices } from '../core/services/index.ts';

const args = process.argv.slice(2);
const files = args.length > 0
  ? args
  : (readdirSync('test', { recursive: true }) as string[]).filter((f) => f.endsWith('.test.ts')).map((f) => join('test', f)).sort();

const services = await ensureServices({ workDir: process.env.DESKPORT_WORK_DIR ?? '.deskport', log: (m) => console.error(m) });
let code = 1;
try {
  code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
      stdio: 'inherit',
      env: { ...process.env, DATABASE_URL: services.databaseUrl, KAFKA_BROKERS: services.brokers.join(',') },
    });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
  });
} finally {
  await services.stop();
}
process.exit(code);
