import { createInterface } from 'node:readline/promises';
import { DeskportError } from '../../core/errors.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { applyPreparation, type AppliedChange } from '../../load/prepare-apply.ts';
import { gatherPrepareInputs, targetKey } from '../../load/prepare-inputs.ts';
import { describeChange, describeDone, planPreparation, type PreparePlan } from '../../load/prepare-plan.ts';
import { TargetDirectory } from '../../load/target-directory.ts';
import type { App } from '../app.ts';
import { probeTarget } from './probes.ts';
import { updateMappingFile, type MappingUpdate } from './prepare-mapping.ts';
import { ensureStaged } from './stage.ts';

/**
 * `deskport prepare [--apply] [--yes]` (issue 22): what the target needs before the migration —
 * custom fields with their options and inboxes, statuses, priorities, ticket types, the mapping's
 * tags, automatic triggers to pause — listed as a dry run, made with --apply (after a
 * confirmation unless --yes), each change recorded in staging before its call. Agents and inboxes
 * are never created: they are listed as hand work.
 */

export interface PrepareOptions { apply?: boolean; yes?: boolean; signal?: AbortSignal; say?: (line: string) => void }
interface Io { stdin: NodeJS.ReadStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }

export function formatPlan(plan: PreparePlan, target: string, dryRun: boolean): string {
  const out = [`deskport prepare: ${target}${dryRun ? ' (dry run: nothing is changed)' : ''}`];
  const n = plan.changes.length;
  if (n === 0) out.push(`nothing to change in the target: every field, option, status, priority, type and tag the mapping needs is there${plan.triggerProblem ? '' : ', and no automatic trigger is active'}`);
  else out.push(`${n} change${n === 1 ? '' : 's'} to make in the target:`, ...plan.changes.map((c) => `  + ${describeChange(c)}`));
  if (plan.paused.length > 0) {
    out.push(`paused by an earlier prepare, until npx deskport restore-target: ${plan.paused.map((c) => `trigger "${String(c.request.name ?? '')}" (${c.targetId})`).join(', ')}`);
  }
  if (plan.manual.length > 0) out.push('hand work prepare does not do:', ...plan.manual.map((m) => `  - ${m}`));
  return out.join('\n');
}

function formatResult(r: AppliedChange): string {
  if (r.outcome === 'failed') return `  ✗ ${describeChange(r.change)}: ${r.error}`;
  if (r.outcome === 'skipped') return `  - ${describeChange(r.change)}: ${r.error ?? 'already so in the target'}`;
  return `  ✓ ${describeDone(r.change, r.targetId)}${r.found ? ' — found in the target after an answer was lost, not made twice' : ''}`;
}

async function confirm(io: Io, n: number, target: string): Promise<void> {
  if (!io.stdin.isTTY) {
    throw new DeskportError('DESKPORT_CONFIRM_REQUIRED', `prepare --apply makes ${n} change${n === 1 ? '' : 's'} in ${target} and needs a confirmation, but there is no terminal to ask on`, {
      hint: 'Read the list with npx deskport prepare, then pass --yes: npx deskport prepare --apply --yes',
    });
  }
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    const answer = await rl.question(`\nMake these ${n} change${n === 1 ? '' : 's'} in ${target}? Type "yes" to go on: `);
    if (answer.trim().toLowerCase() !== 'yes') {
      throw new DeskportError('DESKPORT_PREPARE_CANCELLED', 'prepare cancelled; nothing was changed in the target', { hint: 'Answer "yes" to go on, or pass --yes.' });
    }
  } finally {
    rl.close();
  }
}

function formatMappingUpdate(u: MappingUpdate): string {
  if (u.file === null) return `mapping file: not changed (${u.why})`;
  return `mapping file ${u.file}: ${u.notes} note${u.notes === 1 ? '' : 's'} on what was created, as comments beside the entries that name it`;
}

/** Returns the exit code: 0, or 2 when a change failed. */
export async function prepareCommand(app: App, opts: PrepareOptions, io: Io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const out = (...lines: string[]) => { for (const l of lines.length > 0 ? lines : ['']) io.stdout.write(`${l}\n`); };
  const { config } = app;
  const probe = await probeTarget(config);
  await ensureStaged(app, { say: opts.say ?? ((l) => io.stderr.write(`${l}\n`)) });
  const client = connectTarget(app, config);
  try {
    const directory = await TargetDirectory.read(client);
    const plan = planPreparation(await gatherPrepareInputs(app.db, config, client, directory));
    out(formatPlan(plan, probe.url, !opts.apply));
    if (!opts.apply) {
      out('', plan.changes.length > 0 ? 'dry run: nothing was changed. To make these changes: npx deskport prepare --apply' : 'dry run: nothing was changed.');
      return 0;
    }
    if (plan.changes.length === 0) return 0;
    if (!opts.yes) await confirm(io, plan.changes.length, probe.url);
    out('');
    const results = await applyPreparation({ db: app.db, client, log: app.log, target: targetKey(config) }, plan.changes, {
      onChange: (r) => out(formatResult(r)), ...(opts.signal ? { signal: opts.signal } : {}),
    });
    out('', formatMappingUpdate(updateMappingFile(config, results)));
    const made = results.filter((r) => r.outcome === 'made').length;
    const failed = results.filter((r) => r.outcome === 'failed').length;
    const paused = results.filter((r) => r.outcome === 'made' && r.change.kind === 'pause-trigger').length;
    const left = plan.changes.length - results.length;
    out(`${results.length} of ${plan.changes.length} changes: ${made} made, ${failed} failed${left > 0 ? `, ${left} not tried (stopped)` : ''}.`
      + `${paused > 0 ? ` ${paused} trigger${paused === 1 ? ' is' : 's are'} paused: npx deskport restore-target puts ${paused === 1 ? 'it' : 'them'} back after the run.` : ''}`);
    if (failed > 0 || left > 0) out('Run npx deskport prepare --apply again: what was made is looked up, not made twice.');
    return failed > 0 || left > 0 ? 2 : 0;
  } finally {
    await client.close();
  }
}
