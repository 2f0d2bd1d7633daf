// Starts the local services (embedded Postgres, single-node Kafka) unless DATABASE_URL /
// KAFKA_BROKERS already point elsewhere, prints their addresses, and stays up until
// SIGINT/SIGTERM.
//
//   tsx scripts/services.ts [--print-env-file <path>] [--verbose]
//
// --print-env-file writes the two KEY=value lines once everything answers (and removes
// the file on shutdown), so a shell script can start this in the background, wait for
// the file, then `. <path>`.
import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ensureServices } from '../core/services/index.ts';

const { values: args } = parseArgs({
  options: {
    'print-env-file': { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});
const envFile = args['print-env-file'];

async function main(): Promise<void> {
  // A leftover file from a crashed run would make a waiting script source dead addresses.
  if (envFile) await fs.rm(envFile, { force: true });
  const started = Date.now();
  const services = await ensureServices({
    workDir: '.deskport',
    log: (msg) => (args.verbose || !/^\[postgres\]/.test(msg) ? console.error(msg) : undefined),
  });
  const lines = [`DATABASE_URL=${shellQuote(services.databaseUrl)}`, `KAFKA_BROKERS=${shellQuote(services.brokers.join(','))}`];
  console.log(lines.join('\n'));
  if (envFile) await writeAtomically(envFile, `${lines.join('\n')}\n`);
  console.error(`services ready in ${((Date.now() - started) / 1000).toFixed(1)}s; Ctrl-C to stop`);

  const sig = await nextSignal();
  console.error(`${sig}: stopping services`);
  // A second signal means "now": exit handlers still signal the children on the way out.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  await services.stop();
  if (envFile) await fs.rm(envFile, { force: true });
}

function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

// Rename so a polling reader never sees a half-written file.
async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, file);
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]*$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

main().catch((err: unknown) => {
  const errors = err instanceof AggregateError ? err.errors : [err];
  for (const e of errors) console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
