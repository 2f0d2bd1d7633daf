import { Command, Option } from 'commander';
import { openApp, type App } from './app.ts';
import { loadConfig, type ConfigInput } from '../core/config.ts';
import { DeskportError, InputError } from '../core/errors.ts';
import { progressView } from '../core/progress-view.ts';
import { formatReport, type RunReport } from './report.ts';
import { forcedPast, getRun, keptAssigneeCounts, runCounts, runReasons, runWarnings } from '../staging/index.ts';
import { defaultHint } from './commands/hints.ts';
import { probeServices, probeSourceFile, probeTarget } from './commands/probes.ts';

// Each command imports its stage when it runs (below): a process loads only what it uses, which
// keeps a long-running stage's memory down (the extractor's RSS, bench/extract-export.ts).

interface GlobalOpts { config?: string; debug?: boolean; source?: string; topicPrefix?: string; logLevel?: string; mapping?: string }

/**
 * Opens services, staging and Kafka for one command, and closes them whatever happens.
 * `kafka: false` for commands that only use staging and the target: no broker is started.
 */
async function withApp(fn: (app: App) => Promise<void>, opts: { kafka?: boolean } = {}): Promise<void> {
  const config = configFrom(program.opts());
  // A wrong DATABASE_URL or KAFKA_BROKERS: one sentence in seconds, not a minute of retries.
  await probeServices(config, { kafka: opts.kafka });
  const app = await openApp(config, { kafka: opts.kafka });
  try {
    await fn(app);
  } finally {
    await app.close();
  }
}

/** Ctrl-C aborts the returned signal (what is in flight finishes and is recorded); a second Ctrl-C quits at once. */
function stopOnCtrlC(inFlight: string): AbortController {
  const stop = new AbortController();
  process.once('SIGINT', () => {
    console.error(`\nstopping after ${inFlight} (Ctrl-C again to quit now)…`);
    stop.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  return stop;
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
  .description('A sample end to end: the N newest tickets (or --ids) into the configured target; without a target, the bundled sample into the local sandbox (R17)')
  .option('--newest <n>', 'the N newest staged tickets (default 10 with a configured target)', (v) => Number.parseInt(v, 10))
  .option('--ids <ids>', 'these source ticket ids, comma-separated', (v) => v.split(',').map((x) => x.trim()).filter(Boolean))
  .option('--refresh', 'extract and transform the source again before picking the tickets')
  .option('--force', 'go on past blocking preflight problems (the same as check lists); the demo\'s report records them')
  .addHelpText('after', `
The preflight of \`deskport check\` runs first: a blocking problem stops the demo (exit 2) before
anything is written, unless --force. With DESKPORT_TARGET_URL set, only the chosen tickets go over — with the customers and companies
they need — recorded as a run of kind 'demo'; the ticket URLs and a report are printed. Staging is
filled first when empty (extract + transform). The later full run neither duplicates nor loses them;
\`deskport rollback --run <id>\` deletes a demo from the target. Without a target, the bundled sample
goes into the in-process sandbox.
Examples:
  npx deskport demo                                              # bundled sample → local sandbox
  DESKPORT_TARGET_URL=https://acme.teamwork.com DESKPORT_TARGET_API_KEY_FILE=~/.tw-key \\
    npx deskport --source export.json demo --newest 20
  npx deskport demo --ids 1043,1044,1187`)
  .action(async (opts: { newest?: number; ids?: string[]; refresh?: boolean; force?: boolean }) => {
    await withApp(async (app) => {
      const view = progressView();
      const { preflightGate } = await import('./commands/preflight-gate.ts');
      const beforeLoad = preflightGate(app, { command: 'demo', force: opts.force === true, say: (l) => console.error(l) });
      if (app.config.target.url) {
        const { runTargetDemo, formatDemo } = await import('./commands/demo.ts');
        const result = await runTargetDemo(app, { ...opts, say: (l) => console.error(l), onProgress: view.update, beforeLoad }).finally(view.stop);
        console.log(formatDemo(result));
        process.exitCode = result.tickets.some((t) => t.state !== 'loaded' && t.state !== 'skipped') ? 2 : 0;
        return;
      }
      if (opts.newest !== undefined || opts.ids) {
        throw new DeskportError('DESKPORT_DEMO_NO_TARGET', '--newest and --ids need a configured target', {
          hint: 'Set DESKPORT_TARGET_URL and DESKPORT_TARGET_API_KEY (or _FILE); without them the demo runs the bundled sample into the local sandbox.',
        });
      }
      const { runDemo } = await import('./demo.ts');
      const { report, sandboxStateFile } = await runDemo(app, { onProgress: view.update, say: (l) => console.error(l), beforeLoad }).finally(view.stop);
      console.log(formatReport(report));
      if (sandboxStateFile) {
        console.log(`\nThe sandbox's content is saved in ${sandboxStateFile}; browse it with:\n  npm run sandbox -- --state-file ${sandboxStateFile}`);
      }
      process.exitCode = report.counts.some((c) => c.failed > 0 || c.missing > 0) ? 2 : 0;
    });
  });

program.command('run')
  .description('The whole migration into the configured target: extract, transform, load, report')
  .option('--force', 'go on past blocking preflight problems (the same as check lists); the report records them')
  .addHelpText('after', `
Once the source is staged, and before anything is written to the target, the preflight of
\`deskport check\` runs: a blocking problem stops the run (exit 2, the run recorded as refused),
unless --force, which report.json and the terminal report then record with the problems.
Example:
  DESKPORT_TARGET_URL=https://acme.teamwork.com DESKPORT_TARGET_API_KEY_FILE=~/.tw-key npx deskport run --source export.json`)
  .action(async (opts: { force?: boolean }) => {
    await withApp(async (app) => {
      if (app.config.source.kind === 'zendesk-export') await probeSourceFile(app.config.source.path);
      await probeTarget(app.config);
      const view = progressView();
      const { runPipeline } = await import('./pipeline.ts');
      const { preflightGate } = await import('./commands/preflight-gate.ts');
      const beforeLoad = preflightGate(app, { command: 'run', force: opts.force === true, say: (l) => console.error(l) });
      const report = await runPipeline(app, app.config, { kind: 'run', onProgress: view.update, say: (l) => console.error(l), beforeLoad }).finally(view.stop);
      console.log(formatReport(report));
      process.exitCode = report.counts.some((c) => c.failed > 0 || c.missing > 0) ? 2 : 0;
    });
  });

program.command('delta')
  .description('Bring over what the source created or changed since the last run: new tickets, new comments, changed fields (R19)')
  .addHelpText('after', `
Extracts from the stored high-water marks (an export file: the newer file, unchanged records are
recognised by content hash), transforms until caught up, then imports new tickets, appends new
comments on migrated tickets through v2 as private notes (load.v2PublicReplies: true makes public
replies, which email the customer) and PATCHes changed status, assignee, priority, type, tags,
subject and custom fields. A delta with nothing new writes nothing. Exit code 2 when anything failed.
The preflight of \`deskport check\` runs before anything is written: a blocking problem stops the
delta (exit 2) unless --force, which its report records.
Examples:
  npx deskport delta
  DESKPORT_SOURCE_PATH=export-2026-12.json npx deskport delta`)
  .option('--force', 'go on past blocking preflight problems (the same as check lists); the report records them')
  .action(async (opts: { force?: boolean }) => {
    await withApp(async (app) => {
      const { runDelta, formatDeltaReport } = await import('./commands/delta.ts');
      if (app.config.source.kind === 'zendesk-export') await probeSourceFile(app.config.source.path);
      await probeTarget(app.config);
      const view = progressView();
      const { preflightGate } = await import('./commands/preflight-gate.ts');
      const beforeLoad = preflightGate(app, { command: 'delta', force: opts.force === true, say: (l) => console.error(l) });
      const report = await runDelta(app, app.config, { onProgress: view.update, say: (l) => console.error(l), beforeLoad }).finally(view.stop);
      console.log(formatDeltaReport(report));
      const failed = report.failed.tickets + report.failed.people + report.failed.companies + report.appended.failed + report.updated.failed;
      process.exitCode = failed > 0 ? 2 : 0;
    });
  });

program.command('load')
  .description('Load what staging holds into the target: a stage of its own; several can run at once and share the rate limit')
  .option('--retry-failed', 'put the failed rows back to pending first (only those are retried)')
  .option('--final', 'transform has caught up: fail tickets still missing comments instead of waiting for them')
  .addHelpText('after', '\nExamples:\n  npx deskport load\n  npx deskport load --retry-failed')
  .action(async (opts: { retryFailed?: boolean; final?: boolean }) => {
    await withApp(async (app) => {
      await probeTarget(app.config);
      // Ctrl-C stops claiming new rows; the calls in flight finish and are recorded. A second Ctrl-C quits at once.
      const stop = stopOnCtrlC('the calls in flight');
      const { runLoadStage, formatLoadSummary } = await import('./load-stage.ts');
      const summary = await runLoadStage(app, { retryFailed: opts.retryFailed === true, finalPass: opts.final === true, signal: stop.signal, say: (l) => console.error(l) });
      console.log(formatLoadSummary(summary));
      process.exitCode = summary.tickets.failed + summary.people.failed + summary.companies.failed > 0 ? 2 : 0;
    }, { kafka: false });
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
        const { preflightAgainstTarget, formatPreflight } = await import('../load/preflight.ts');
        const { TargetDirectory } = await import('../load/target-directory.ts');
        const { connectTarget } = await import('../load/connect-target.ts');
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
  .description('Write a starter mapping file and a config file from what the source and the target have (agents, fields, groups, inboxes, statuses)')
  .argument('[file]', 'where to write the mapping', 'mapping.yaml')
  .option('--config-out <file>', 'where to write the config file', 'deskport.config.json')
  .option('--force', 'overwrite existing files')
  .addHelpText('after', `
Stages the source first when staging is empty (extract + transform). With DESKPORT_TARGET_URL set,
every agent, inbox, status and custom field the mapping names is checked against the target and
the missing ones are marked "MISSING in the target" for you to review. The config file holds no
secret: keys and tokens stay in environment variables or owner-only files.
Examples:
  npx deskport init
  DESKPORT_TARGET_URL=https://acme.teamwork.com DESKPORT_TARGET_API_KEY_FILE=~/.tw-key npx deskport init mapping.yaml --force`)
  .action(async (file: string, opts: { configOut: string; force?: boolean }) => {
    await withApp(async (app) => {
      const { runInit } = await import('./commands/init.ts');
      await runInit(app, { mappingPath: file, configPath: opts.configOut, force: opts.force === true, say: (line) => console.log(line) });
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
      const { connectTarget } = await import('../load/connect-target.ts');
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
        const { writeReportFiles } = await import('../serve/report-files.ts');
        const files = await writeReportFiles(app.db, app.config.workDir, v.runId);
        if (files) console.log(`report files: ${files.dir}`);
        process.exitCode = v.different > 0 || v.errors > 0 ? 2 : 0;
      } finally {
        await client.close();
      }
    }, { kafka: false });
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
    const app = await openApp(config, { kafka: false });
    const { startServe } = await import('../serve/index.ts');
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
  .addHelpText('after', '\nExample:\n  npx deskport report --run 3')
  .action(async (opts: { run: number }) => {
    await withApp(async (app) => {
      const run = await getRun(app.db, opts.run);
      if (!run) throw new DeskportError('DESKPORT_NO_RUN', `there is no run ${opts.run}`);
      const summary = (run.summary ?? {}) as { calls?: number; seconds?: number };
      console.log(formatReport({
        runId: run.id, counts: await runCounts(app.db, run.id), reasons: await runReasons(app.db, run.id), warnings: await runWarnings(app.db, run.id),
        calls: summary.calls ?? 0, seconds: summary.seconds ?? 0, forcedPast: forcedPast(run),
        kept: await keptAssigneeCounts(app.db, run.id), ...((run.summary as { updated?: RunReport['updated'] } | null)?.updated ? { updated: (run.summary as { updated: RunReport['updated'] }).updated } : {}),
      }));
      if (run.status === 'refused') console.log(`\nrun ${run.id} was refused by the preflight: it staged the source and wrote nothing to the target (${String((run.summary as { error?: string } | null)?.error ?? '').split('\n')[0]}).`);
      if (run.status === 'rolled_back' || run.status === 'rolling_back') {
        const rb = (run.rollback ?? {}) as { finishedAt?: string; deleted?: Record<string, number> };
        console.log(`\nrun ${run.id} was ${run.status === 'rolled_back' ? `rolled back (${rb.finishedAt ?? '?'})` : 'being rolled back (unfinished: run deskport rollback again)'}: deleted ${Object.entries(rb.deleted ?? {}).map(([k, n]) => `${n} ${k}`).join(', ') || 'nothing yet'}; its records are pending again.`);
      }
    }, { kafka: false });
  });

program.command('rollback')
  .description('Delete from the target what one run created (tickets, Help Docs, then customers, then companies) and put its records back to pending (R17)')
  .requiredOption('--run <id>', 'the run to roll back', (v) => Number.parseInt(v, 10))
  .option('--dry-run', 'list what would be deleted, with counts; delete nothing')
  .option('-y, --yes', 'do not ask for confirmation')
  .option('--force', 'roll back a run still marked running (its process died), or while some ticket loads have no known outcome')
  .addHelpText('after', `
Agents, and customers or companies that existed before the run (matched or reused), are never
deleted. Calls share the target's rate budget with every loader. Interrupted (Ctrl-C, a crash,
target errors), the same command carries on; a record already gone counts as deleted. The next
run loads the records again, importing tickets under a new import source ("<importSource>#2").
Examples:
  npx deskport rollback --run 3 --dry-run   # what would be deleted
  npx deskport rollback --run 3             # asks before deleting
  npx deskport rollback --run 3 --yes       # no question (scripts)`)
  .action(async (opts: { run: number; dryRun?: boolean; yes?: boolean; force?: boolean }) => {
    await withApp(async (app) => {
      const { rollbackCommand } = await import('./commands/rollback.ts');
      const stop = stopOnCtrlC('the deletes in flight');
      process.exitCode = await rollbackCommand(app, { ...opts, signal: stop.signal });
    }, { kafka: false });
  });

program.command('check')
  .description('Preflight (R16): credentials, agents, inboxes, custom fields, notifications to turn off, call count and duration')
  .option('--raised-limit <n>', 'also estimate the duration at this rate limit (calls/min; ask Teamwork support for one)', (v) => Number.parseInt(v, 10), 600)
  .option('--refresh', 'extract and transform the source again before checking')
  .addHelpText('after', `
Checks the source credentials (Zendesk API token/OAuth, or that the export file is readable) and the
target's (one authenticated call, which also gives the current rate limit), then compares what
staging holds — source agents, groups, custom fields — with the target through the mapping
(transform --preflight's checks, plus invited and deactivated agents). Staging is filled first when
it holds nothing for the source (extract + transform), so run it after \`deskport extract\` +
\`deskport transform\`, or on its own. Exit code 2 when something blocks the migration, else 0.
Statuses, priorities and ticket types (the mapping's and the staged tickets' own) must exist in the
target, a type must be enabled for each inbox its tickets land in, and every migrated custom field
needs its field and options. What \`deskport prepare\` can fix is offered at the end.
Examples:
  DESKPORT_TARGET_URL=https://acme.teamwork.com DESKPORT_TARGET_API_KEY_FILE=~/.tw-key npx deskport --source export.json check
  npx deskport --mapping mapping.yaml check --raised-limit 1200`)
  .action(async (opts: { raisedLimit: number; refresh?: boolean }) => {
    await withApp(async (app) => {
      const { runCheck, formatCheck } = await import('./commands/check.ts');
      const result = await runCheck(app, { raisedLimit: opts.raisedLimit, refresh: opts.refresh === true, say: (l) => console.error(l) });
      console.log(formatCheck(result));
      process.exitCode = result.blocking.length > 0 ? 2 : 0;
    });
  });

program.command('prepare')
  .description('Prepare the target for the migration: create the custom fields, options, statuses, priorities, ticket types and tags the mapping needs, pause automatic triggers (a dry run unless --apply)')
  .option('--apply', 'make the changes (asks first unless --yes)')
  .option('-y, --yes', 'do not ask for confirmation')
  .addHelpText('after', `
Lists every change it would make, from what staging holds (the source is staged first when staging
is empty), the mapping and the target as it is: custom fields with their kind, options (the source's
option labels, through the mapping's value maps) and inboxes; options an existing field lacks;
ticket statuses, priorities and types the mapping names; a type's missing inboxes; the mapping's
tags; automatic triggers to pause. Never creates agents (they must accept an invitation) or inboxes
(mail routing is yours): those are listed as hand work, and stay blocking problems in check.
Each change is recorded in staging before its call: interrupted or with a lost answer, the same
command looks up what was made and never makes it twice. The mapping file gets a comment beside each
entry naming what was created. \`deskport restore-target\` puts paused triggers back.
Examples:
  npx deskport prepare                  # the dry run: what would change
  npx deskport prepare --apply          # asks, then makes the changes
  npx deskport prepare --apply --yes    # no question (scripts)`)
  .action(async (opts: { apply?: boolean; yes?: boolean }) => {
    await withApp(async (app) => {
      const stop = stopOnCtrlC('the change in flight');
      const { prepareCommand } = await import('./commands/prepare.ts');
      process.exitCode = await prepareCommand(app, { ...opts, signal: stop.signal });
    });
  });

program.command('restore-target')
  .description('Put back what deskport prepare switched off in the target for the migration (the triggers it paused)')
  .option('--dry-run', 'list what would be put back; change nothing')
  .addHelpText('after', `
Reads what prepare recorded in staging before each switch (so it works after a crash, and twice is
harmless) and sets each paused trigger back to its state before. Fields, types and statuses prepare
created stay: the migrated tickets use them. Exit code 2 when something could not be put back.
Examples:
  npx deskport restore-target --dry-run
  npx deskport restore-target`)
  .action(async (opts: { dryRun?: boolean }) => {
    await withApp(async (app) => {
      const { restoreTargetCommand } = await import('./commands/restore-target.ts');
      process.exitCode = await restoreTargetCommand(app, opts, (l) => console.log(l));
    }, { kafka: false });
  });

program.command('extract')
  .description('The extract stage as its own process (R25): the source into the raw Kafka topics, resumable, until done')
  .option('--metrics-port <port>', 'serve /metrics and /healthz on this port (env DESKPORT_METRICS_PORT)', (v) => Number.parseInt(v, 10))
  .option('--progress-every <seconds>', 'seconds between progress lines on stderr', (v) => Number.parseFloat(v), 2)
  .addHelpText('after', `
Reads the configured source (export file, or the Zendesk API with DESKPORT_SOURCE_KIND=zendesk-api)
and produces one message per record; checkpoints move only after Kafka's acks. Ctrl-C stops it and
marks the run interrupted; the next \`deskport extract\` resumes from the checkpoints. Run
\`deskport transform\` (as many as there are partitions) beside it to stage the records.
Examples:
  npx deskport --source export.json extract --metrics-port 9464
  DESKPORT_SOURCE_KIND=zendesk-api DESKPORT_SOURCE_URL=acme DESKPORT_SOURCE_EMAIL=ops@acme.com \\
    DESKPORT_SOURCE_API_TOKEN=… npx deskport extract`)
  .action(async (opts: { metricsPort?: number; progressEvery: number }) => {
    if (!(opts.progressEvery > 0)) throw new InputError(`--progress-every must be a number of seconds above 0, not ${opts.progressEvery}`);
    const config = configFrom(program.opts(), opts.metricsPort !== undefined ? { metrics: { port: opts.metricsPort } } : {});
    const { probeSource } = await import('./commands/probes.ts');
    await probeServices(config);
    await probeSource(config);
    const app = await openApp(config);
    const { extractCommand } = await import('./commands/extract.ts');
    let code = 1;
    try {
      code = await extractCommand(app, (l) => console.error(l), (l) => console.log(l), opts.progressEvery * 1000);
    } finally {
      await app.close().catch(() => undefined);
    }
    // Ctrl-C: the abandoned producer would keep the process alive.
    if (code === 130) process.exit(130);
  });

program.command('status')
  .description('Every run (kind, state, times, counts per entity), the newest checkpoint per stream, the transform lag')
  .option('--json', 'machine-readable output')
  .option('--limit <n>', 'newest N runs', (v) => Number.parseInt(v, 10), 50)
  .addHelpText('after', '\nExamples:\n  npx deskport status\n  npx deskport status --json | jq \'.runs[0]\'')
  .action(async (opts: { json?: boolean; limit: number }) => {
    await withApp(async (app) => {
      const { collectStatus, formatStatus } = await import('./commands/status.ts');
      const status = await collectStatus(app, { limit: opts.limit });
      console.log(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    });
  });

program.command('post-checklist')
  .description('What to do by hand after a run (R22), as markdown filled in with its data; printed and written to the run\'s report folder')
  .option('--run <id>', 'run id (default: the newest finished run)', (v) => Number.parseInt(v, 10))
  .addHelpText('after', `
Lists the inboxes whose notifications, triggers, auto-replies and surveys to switch back on, email
forwarding per inbox (source mailbox → inbox address, from the routing), agents still invited,
records to review (counts and report files), KB links left as they were, article dates not kept.
Examples:
  npx deskport post-checklist
  npx deskport post-checklist --run 7 > checklist.md`)
  .action(async (opts: { run?: number }) => {
    await withApp(async (app) => {
      const { collectChecklist, formatChecklist, writeChecklist } = await import('./commands/post-checklist.ts');
      const data = await collectChecklist(app, opts.run);
      const file = await writeChecklist(data);
      console.log(formatChecklist(data));
      console.error(`written to ${file}`);
    }, { kafka: false });
  });

// Every subcommand's --help says where secrets come from (R23).
for (const cmd of program.commands) {
  cmd.addHelpText('after', `
Secrets come from the environment (DESKPORT_TARGET_API_KEY, DESKPORT_SOURCE_API_TOKEN,
DESKPORT_SOURCE_OAUTH_TOKEN) or an owner-only file (the same names + _FILE, chmod 600; a file
others can read is refused). They are never echoed, logged or written to staging or reports.`);
}

program.parseAsync(process.argv).catch((err: unknown) => {
  const debug = program.opts().debug === true;
  if (err instanceof DeskportError && !debug) {
    console.error(`deskport: ${err.message}`);
    const hint = err.hint ?? defaultHint(err);
    if (hint) console.error(`hint: ${hint}`);
  } else {
    console.error(debug ? err : `deskport: ${(err as Error)?.message ?? String(err)}\n(run again with --debug for details)`);
  }
  // A preflight refusal is check's exit code 2; every other error is 1.
  const code = (err as { exitCode?: unknown })?.exitCode;
  process.exitCode = typeof code === 'number' ? code : 1;
});
