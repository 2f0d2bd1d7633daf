import { createInterface } from 'node:readline/promises';
import { rollbackView } from '../../core/progress-view.ts';
import { executeRollback, planCounts, planRollback, type RollbackPlan, type RollbackSummary } from '../../load/rollback.ts';
import type { App } from '../app.ts';
import { DeskportError } from '../../core/errors.ts';
import { connectTarget } from '../../load/connect-target.ts';

export interface RollbackCommandOptions {
  run: number;
  yes?: boolean;
  dryRun?: boolean;
  force?: boolean;
  /** Ctrl-C: stop after the deletes in flight (the run stays rolling_back; run the command again). */
  signal?: AbortSignal;
}
interface Io { stdin: NodeJS.ReadStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream }

const LIST_LIMIT = 50;

/** `deskport rollback --run <id>`: plan, show, confirm, delete; returns the exit code. */
export async function rollbackCommand(app: App, opts: RollbackCommandOptions, io: Io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const out = (line = '') => io.stdout.write(`${line}\n`);
  if (!Number.isInteger(opts.run) || opts.run < 1) {
    throw new DeskportError('DESKPORT_BAD_ARGUMENT', '--run takes a run id, a positive whole number', { hint: 'e.g. npx deskport rollback --run 3 --dry-run' });
  }
  const plan = await planRollback(app.db, opts.run, { force: opts.force === true, placeholderDomain: app.config.mapping.placeholderEmailDomain });
  out(describePlan(plan, opts.dryRun === true));
  const toDelete = planCounts(plan).reduce((n, c) => n + c.delete, 0);
  if (opts.dryRun) {
    out(`\ndry run: nothing was deleted or changed. To do it: npx deskport rollback --run ${plan.run.id}`);
    return 0;
  }
  if (!opts.yes && toDelete + plan.placeholders.length > 0) await confirm(io, plan, toDelete, app.config.target.url ?? '(no target configured)');

  const client = connectTarget(app, app.config);
  const view = rollbackView(io.stderr);
  let summary: RollbackSummary;
  try {
    summary = await executeRollback({ ...app, client }, plan, {
      concurrency: app.config.load.concurrency, importSource: app.config.target.importSource, onProgress: view.update,
      ...(app.config.target.helpDocsSiteId ? { helpDocsSiteId: app.config.target.helpDocsSiteId } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    }).finally(view.stop);
  } finally {
    await client.close();
  }
  out(formatSummary(summary));
  if (summary.failures.length > 0 || summary.stopped) {
    const first = summary.failures[0];
    throw new DeskportError('DESKPORT_ROLLBACK_INCOMPLETE',
      summary.stopped ? `rollback of run ${plan.run.id} stopped before it finished`
        : `rollback of run ${plan.run.id} is incomplete: ${summary.failures.length} ${first!.label} could not be deleted (first: ${first!.targetId}: ${first!.reason})`,
      { hint: `Run the same command again (npx deskport rollback --run ${plan.run.id}); it carries on where this one stopped.` });
  }
  return 0;
}

function describePlan(plan: RollbackPlan, listIds: boolean): string {
  const lines = [`run ${plan.run.id} (${plan.run.kind}, ${plan.run.status}, started ${new Date(plan.run.started_at).toISOString()}):`];
  for (const c of planCounts(plan)) {
    if (c.delete + c.release + c.keep === 0) continue;
    lines.push(`  ${c.label.padEnd(10)} delete ${String(c.delete).padStart(6)}   not deleted ${String(c.release + c.keep).padStart(6)}`);
    for (const [reason, n] of Object.entries(c.reasons)) lines.push(`      ${n} ${reason}`);
  }
  if (plan.placeholders.length > 0) {
    lines.push(`  and the customers the import made for up to ${plan.placeholders.length} people without an email (placeholder addresses, looked up when it runs)`);
  }
  if (listIds) {
    for (const { kind, rows } of plan.kinds) {
      const ids = rows.filter((r) => r.action === 'delete').map((r) => `${r.targetId} (${kind.entity === 'people' ? 'person' : kind.entity.replace(/s$/, '')} ${r.sourceId})`);
      if (ids.length === 0) continue;
      lines.push(`would delete ${ids.length} ${kind.label}:`);
      for (const id of ids.slice(0, LIST_LIMIT)) lines.push(`  ${id}`);
      if (ids.length > LIST_LIMIT) lines.push(`  … and ${ids.length - LIST_LIMIT} more`);
    }
  }
  lines.push('Rows not deleted go back to pending all the same (the next run matches them again); kept ones stay loaded.');
  return lines.join('\n');
}

async function confirm(io: Io, plan: RollbackPlan, toDelete: number, target: string): Promise<void> {
  if (!io.stdin.isTTY) {
    throw new DeskportError('DESKPORT_CONFIRM_REQUIRED', `rollback deletes ${toDelete} records from ${target} and needs a confirmation, but there is no terminal to ask on`, {
      hint: `Check with --dry-run, then pass --yes: npx deskport rollback --run ${plan.run.id} --yes`,
    });
  }
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    const answer = await rl.question(`\nDelete these ${toDelete} records from ${target}? This cannot be undone. Type "yes" to go on: `);
    if (answer.trim().toLowerCase() !== 'yes') {
      throw new DeskportError('DESKPORT_ROLLBACK_CANCELLED', 'rollback cancelled; nothing was deleted', { hint: 'Answer "yes" to go on, or pass --yes.' });
    }
  } finally {
    rl.close();
  }
}

export function formatSummary(s: RollbackSummary): string {
  const lines = [`rollback of run ${s.runId}:`];
  for (const [label, c] of Object.entries(s.byKind)) {
    lines.push(`  ${label.padEnd(10)} deleted ${c.deleted}  already gone ${c.alreadyGone}  not deleted ${c.released + c.kept}${c.failed > 0 ? `  FAILED ${c.failed}` : ''}`);
  }
  for (const f of s.failures.slice(0, 10)) lines.push(`  could not delete ${f.label} ${f.targetId}: ${f.reason}`);
  lines.push(`target calls: ${s.calls} in ${s.seconds.toFixed(1)} s; the next load imports tickets as "${s.nextImportSource}"`);
  if (s.failures.length === 0 && !s.stopped) lines.push(`run ${s.runId} is rolled back; its records are pending again, and the next run loads them.`);
  return lines.join('\n');
}
