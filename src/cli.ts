import { Command, Option } from 'commander';
import { openApp } from './app.ts';
import { loadConfig, type ConfigInput } from './config.ts';
import { runDemo } from './demo.ts';
import { DeskportError } from './errors.ts';
import { runPipeline } from './pipeline.ts';
import { formatReport } from './report.ts';
import { getRun, runCounts, runReasons } from '../staging/index.ts';

interface GlobalOpts { config?: string; debug?: boolean; source?: string; topicPrefix?: string; logLevel?: string }

function configFrom(opts: GlobalOpts) {
  const overrides: ConfigInput = {};
  if (opts.source) overrides.source = { path: opts.source };
  if (opts.topicPrefix) overrides.topicPrefix = opts.topicPrefix;
  if (opts.logLevel) overrides.logLevel = opts.logLevel as ConfigInput['logLevel'];
  return loadConfig({ file: opts.config, overrides });
}

const program = new Command('deskport')
  .description('Migrate a whole help desk into Teamwork Desk, with nothing lost and proof of it.')
  .addOption(new Option('-c, --config <file>', 'JSON config file (env DESKPORT_CONFIG)'))
  .addOption(new Option('--source <path>', 'the source export file (env DESKPORT_SOURCE_PATH)'))
  .addOption(new Option('--topic-prefix <prefix>', 'Kafka topic prefix (env DESKPORT_TOPIC_PREFIX)'))
  .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
  .option('--debug', 'show stack traces on errors')
  .addHelpText('after', `
Secrets: the target API key is read from DESKPORT_TARGET_API_KEY or from the file named by
DESKPORT_TARGET_API_KEY_FILE (chmod 600). It is never printed, logged or written to staging.
Services: DATABASE_URL and KAFKA_BROKERS name existing ones; unset, deskport starts an embedded
Postgres and a local Kafka under .deskport/ (DESKPORT_WORK_DIR).`);

program.command('demo')
  .description('Migrate the bundled sample export into the local Teamwork Desk sandbox and print the report')
  .addHelpText('after', '\nExample:\n  npx deskport demo\n  DESKPORT_TARGET_URL=https://acme.teamwork.com DESKPORT_TARGET_API_KEY=… npx deskport demo --source export.json')
  .action(async () => {
    const app = await openApp(configFrom(program.opts()));
    try {
      const { report, sandboxStateFile } = await runDemo(app);
      console.log(formatReport(report));
      if (sandboxStateFile) {
        console.log(`\nThe sandbox's content is saved in ${sandboxStateFile}; browse it with:\n  npm run sandbox -- --state-file ${sandboxStateFile}`);
      }
      process.exitCode = report.counts.some((c) => c.failed > 0 || c.missing > 0) ? 2 : 0;
    } finally {
      await app.close();
    }
  });

program.command('run')
  .description('The whole migration into the configured target: extract, transform, load, report')
  .addHelpText('after', '\nExample:\n  DESKPORT_TARGET_URL=https://acme.teamwork.com DESKPORT_TARGET_API_KEY_FILE=~/.tw-key npx deskport run --source export.json')
  .action(async () => {
    const app = await openApp(configFrom(program.opts()));
    try {
      const report = await runPipeline(app, app.config, { kind: 'run' });
      console.log(formatReport(report));
      process.exitCode = report.counts.some((c) => c.failed > 0 || c.missing > 0) ? 2 : 0;
    } finally {
      await app.close();
    }
  });

program.command('report')
  .description('Print the report of a run')
  .requiredOption('--run <id>', 'run id', (v) => Number.parseInt(v, 10))
  .action(async (opts: { run: number }) => {
    const app = await openApp(configFrom(program.opts()));
    try {
      const run = await getRun(app.db, opts.run);
      if (!run) throw new DeskportError('DESKPORT_NO_RUN', `there is no run ${opts.run}`);
      const summary = (run.summary ?? {}) as { calls?: number; seconds?: number };
      console.log(formatReport({ runId: run.id, counts: await runCounts(app.db, run.id), reasons: await runReasons(app.db, run.id), calls: summary.calls ?? 0, seconds: summary.seconds ?? 0 }));
    } finally {
      await app.close();
    }
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  const debug = program.opts().debug === true;
  if (err instanceof DeskportError && !debug) {
    console.error(`deskport: ${err.message}`);
    if (err.hint) console.error(`hint: ${err.hint}`);
  } else {
    console.error(debug ? err : `deskport: ${(err as Error)?.message ?? String(err)}\n(run again with --debug for details)`);
  }
  process.exitCode = 1;
});
