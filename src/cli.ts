import { Command, Option } from 'commander';
import { openApp, type App } from './app.ts';
import { loadConfig, type ConfigInput } from './config.ts';
import { runDemo } from './demo.ts';
import { DeskportError } from './errors.ts';
import { runLoadStage, formatLoadSummary } from './load-stage.ts';
import { runPipeline } from './pipeline.ts';
import { progressView } from './progress-view.ts';
import { formatReport } from './report.ts';
import { getRun, runCounts, runReasons } from '../staging/index.ts';

interface GlobalOpts { config?: string; debug?: boolean; source?: string; topicPrefix?: string; logLevel?: string; mapping?: string }

/** Opens services, staging and Kafka for one command, and closes them whatever happens. */
async function withApp(fn: (app: App) => Promise<void>): Promise<void> {
  const app = await openApp(configFrom(program.opts()));
  try {
    await fn(app);
  } finally {
    await app.close();
  }
}

function configFrom(opts: GlobalOpts, extra: ConfigInput = {}) {
  const overrides: ConfigInput = { ...extra };
  if (opts.source) overrides.source = { path: opts.source };
  if (opts.topicPrefix) overrides.topicPrefix = opts.topicPrefix;
  if (opts.logLevel) overrides.logLevel = opts.logLevel as ConfigInput['logLevel'];
  if (opts.mapping) overrides.mapping = { file: opts.mapping };
  return loadConfig({ file: opts.config, overrides });
}

const program = new Command('deskport')
  .description('Migrate a whole help desk into Teamwork Desk, with nothing lost and proof of it.')
  .addOption(new Option('-c, --config <file>', 'JSON config file (env DESKPORT_CONFIG)'))
  .addOption(new Option('--source <path>', 'the source export file (env DESKPORT_SOURCE_PATH)'))
  .addOption(new Option('-m, --mapping <file>', 'mapping file, YAML or JSON (env DESKPORT_MAPPING); see examples/mapping.yaml'))
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
    await withApp(async (app) => {
      const view = progressView();
      const { report, sandboxStateFile } = await runDemo(app, { onProgress: view.update }).finally(view.stop);
      console.log(formatReport(report));
      if (sandboxStateFile) {
        console.log(`\nThe sandbox's content is saved in ${sandboxStateFile}; browse it with:\n  npm run sandbox -- --state-file ${sandboxStateFile}`);
      }
      process.exitCode = report.counts.some((c) => c.failed > 0 || c.missing > 0) ? 2 : 0;
    });
  });

program.command('run')
  .description('The whole migration into the configured target: extract, transform, load, report')
  .addHelpText('after', '\nExample:\n  DESKPORT_TARGET_URL=https://acme.teamwork.com DESKPORT_TARGET_API_KEY_FILE=~/.tw-key npx deskport run --source export.json')
  .action(async () => {
    await withApp(async (app) => {
      const view = progressView();
      const report = await runPipeline(app, app.config, { kind: 'run', onProgress: view.update }).finally(view.stop);
      console.log(formatReport(report));
      process.exitCode = report.counts.some((c) => c.failed > 0 || c.missing > 0) ? 2 : 0;
    });
  });

program.command('load')
  .description('Load what staging holds into the target: a stage of its own; several can run at once and share the rate limit')
  .option('--retry-failed', 'put the failed rows back to pending first (only those are retried)')
  .option('--final', 'transform has caught up: fail tickets still missing comments instead of waiting for them')
  .addHelpText('after', '\nExamples:\n  npx deskport load\n  npx deskport load --retry-failed')
  .action(async (opts: { retryFailed?: boolean; final?: boolean }) => {
    await withApp(async (app) => {
      // Ctrl-C stops claiming new rows; the calls in flight finish and are recorded. A second Ctrl-C quits at once.
      const stop = new AbortController();
      process.once('SIGINT', () => {
        console.error('\nstopping after the calls in flight (Ctrl-C again to quit now)…');
        stop.abort();
        process.once('SIGINT', () => process.exit(130));
    });
    const summary = await runLoadStage(app, { retryFailed: opts.retryFailed === true, finalPass: opts.final === true, signal: stop.signal });
    console.log(formatLoadSummary(summary));
    process.exitCode = summary.tickets.failed + summary.people.failed + summary.companies.failed > 0 ? 2 : 0;
    });
  });

program.command('transform')
  .description('The transform stage: consume the raw topics into staging (until Ctrl-C); or re-apply the mapping / check its references')
  .option('--remap', 're-apply the current mapping file to every staged record, from the raw records staging keeps (no re-extract)')
  .option('--preflight', 'list every mapping reference (agents, inboxes, statuses, custom fields, groups) missing in the source or target')
  .addHelpText('after', '\nExamples:\n  npx deskport transform\n  npx deskport --mapping mapping.yaml transform --remap\n  npx deskport --mapping mapping.yaml transform --preflight')
  .action(async (opts: { remap?: boolean; preflight?: boolean }) => {
    await withApp(async (app) => {
      if (opts.remap) {
        const { remapStaged } = await import('../transform/remap.ts');
        const summary = await remapStaged(app.db, app.config, { log: app.log });
        for (const [entity, s] of Object.entries(summary.byEntity)) {
          console.log(`${entity.padEnd(10)} ${String(s.rows).padStart(8)} remapped  ${String(s.changed).padStart(8)} changed${s.noRaw > 0 ? `  ${s.noRaw} without a raw record (re-extract them)` : ''}`);
        }
        console.log(`remap took ${summary.seconds.toFixed(1)} s`);
      }
      if (opts.preflight) {
        const { preflightAgainstTarget, formatPreflight } = await import('../transform/preflight.ts');
        const { TargetDirectory } = await import('../load/target-directory.ts');
        const { connectTarget } = await import('./target.ts');
        const client = connectTarget(app, app.config);
        try {
          const result = await preflightAgainstTarget(app.db, app.config, await TargetDirectory.read(client), client);
          console.log(formatPreflight(result));
          process.exitCode = result.errors.length > 0 ? 2 : 0;
        } finally {
          await client.close();
        }
      }
      if (!opts.remap && !opts.preflight) {
        const { startTransform } = await import('../transform/index.ts');
        const handle = await startTransform(app, app.config);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await handle.close();
      }
    });
  });

program.command('init')
  .description('Write a starter mapping file from what the source has (staged agents, groups, statuses, custom fields)')
  .argument('[file]', 'where to write it', 'mapping.yaml')
  .option('--force', 'overwrite an existing file')
  .action(async (file: string, opts: { force?: boolean }) => {
    await withApp(async (app) => {
      const { writeStarterMapping } = await import('../transform/init.ts');
      await writeStarterMapping(app.db, app.config, file, { force: opts.force === true });
      console.log(`wrote ${file}; edit it, then: npx deskport --mapping ${file} transform --preflight`);
    });
  });

program.command('verify')
  .description('Read back from the target what a run loaded and compare it, field by field, with staging (R21)')
  .option('--run <id>', 'run id (default: the newest finished run)', (v) => Number.parseInt(v, 10))
  .option('--sample <n>', 'read back N tickets picked at random instead of all', (v) => Number.parseInt(v, 10))
  .addHelpText('after', `
Reads through the documented v2 API inside the shared rate budget (about 2 calls per ticket, plus one
per attachment), and stores every difference in verify_results. Exit code 2 when anything differs.
Examples:
  npx deskport verify                       # every ticket of the newest run
  npx deskport verify --run 3 --sample 200  # a random sample of 200 tickets of run 3`)
  .action(async (opts: { run?: number; sample?: number }) => {
    await withApp(async (app) => {
      const { runVerify } = await import('../load/verify.ts');
      const { connectTarget } = await import('./target.ts');
      const { verifyResults } = await import('../staging/index.ts');
      const client = connectTarget(app, app.config);
      try {
        const v = await runVerify({ ...app, client }, app.config, { runId: opts.run, sample: opts.sample });
        console.log(`verification ${v.id} of run ${v.runId}: ${v.checked} read back, ${v.ok} identical, ${v.different} different, ${v.errors} errors (${v.calls} API calls)`);
        for (const [check, why] of Object.entries(v.unchecked)) console.log(`  not compared: ${check} (${why})`);
        for (const r of await verifyResults(app.db, v.id, { limit: 50 })) {
          console.log(`  ${r.entity} ${r.sourceId} → ${r.targetId ?? '?'}: ${r.status}`);
          for (const d of r.diffs) console.log(`      ${d.field}: expected ${JSON.stringify(d.expected)}, got ${JSON.stringify(d.actual)}`);
        }
        // The run's report files carry the latest verification too.
        const { writeReportFiles } = await import('./report-files.ts');
        const files = await writeReportFiles(app.db, app.config.workDir, v.runId);
        if (files) console.log(`report files: ${files.dir}`);
        process.exitCode = v.different > 0 || v.errors > 0 ? 2 : 0;
      } finally {
        await client.close();
      }
    });
  });

program.command('serve')
  .description('Serve the reconciliation API and the HTML report page (R27)')
  .option('--host <host>', 'address to bind (env DESKPORT_SERVE_HOST; default 127.0.0.1)')
  .option('--port <port>', 'port (env DESKPORT_SERVE_PORT; default 8787)', (v) => Number.parseInt(v, 10))
  .addHelpText('after', `
Routes: /healthz /metrics /runs /runs/:id /runs/:id/report (JSON; CSV with Accept: text/csv or
?format=csv; the HTML page with a browser or ?format=html) /runs/:id/records?status=&entity=
/runs/:id/verify /openapi.json. Binds 127.0.0.1 unless told otherwise; any other address needs a
bearer token in DESKPORT_SERVE_TOKEN, which every route but /healthz then requires.
Examples:
  npx deskport serve                    # then open http://127.0.0.1:8787/
  DESKPORT_SERVE_TOKEN=$(openssl rand -hex 24) npx deskport serve --host 0.0.0.0`)
  .action(async (opts: { host?: string; port?: number }) => {
    const config = configFrom(program.opts(), { serve: { ...(opts.host ? { host: opts.host } : {}), ...(opts.port !== undefined ? { port: opts.port } : {}) } });
    const app = await openApp(config);
    const { startServe } = await import('./serve/index.ts');
    const server = await startServe({ db: app.db, registry: app.registry, config, log: app.log });
    console.log(`deskport serve: ${server.url}/`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await app.close();
  });

program.command('report')
  .description('Print the report of a run')
  .requiredOption('--run <id>', 'run id', (v) => Number.parseInt(v, 10))
  .action(async (opts: { run: number }) => {
    await withApp(async (app) => {
      const run = await getRun(app.db, opts.run);
      if (!run) throw new DeskportError('DESKPORT_NO_RUN', `there is no run ${opts.run}`);
      const summary = (run.summary ?? {}) as { calls?: number; seconds?: number };
      console.log(formatReport({ runId: run.id, counts: await runCounts(app.db, run.id), reasons: await runReasons(app.db, run.id), calls: summary.calls ?? 0, seconds: summary.seconds ?? 0 }));
    });
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
