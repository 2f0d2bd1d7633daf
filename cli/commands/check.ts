import { INVITATION_STATE_UNREADABLE, isDeletedUser, listAll, TargetDirectory } from '../../load/target-directory.ts';
import type { TeamworkDeskClient } from '../../load/client.ts';
import { gatherPrepareInputs } from '../../load/prepare-inputs.ts';
import { planPreparation, type PrepareInputs, type PreparePlan } from '../../load/prepare-plan.ts';
import { firingTriggers, PAUSED_STATE } from '../../load/triggers.ts';
import type { App } from '../app.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { probeSource, probeTarget, type SourceProbe, type TargetProbe } from './probes.ts';
import { ensureStaged } from './stage.ts';
import { ensureCurrentMapping } from '../current-mapping.ts';

/**
 * `deskport check` (R16): everything that would stop or spoil a migration, found before a single
 * record is written. It works on staged data (agents, groups, fields, counts): when staging holds
 * nothing for the source yet, it stages it first (extract + transform), so one command answers.
 * Blocking problems give exit code 2; warnings and reminders do not.
 */

export interface InboxNote { id: number; name: string; email: string | null; autoReplyEnabled: boolean | null; happinessRatingEnabled: boolean | null }
export interface CallEstimate {
  companies: number; customers: number; importCalls: number; statusPatches: number; fieldPatches: number; kb: number; directory: number;
  total: number;
  /** Calls per minute the target allows now (X-Rate-Limit-Limit of check's own call). */
  currentLimit: number;
  currentMinutes: number;
  raisedLimit: number;
  raisedMinutes: number;
}
export interface CheckResult {
  source: SourceProbe;
  target: TargetProbe;
  stagedRunId: number | null;
  blocking: string[];
  warnings: string[];
  missingAgents: { sourceId: string; email: string | null }[];
  /**
   * Matched agents whose invitation state `check` could not read (Teamwork's API shows none):
   * the operator confirms in Teamwork Desk that each accepted.
   */
  unconfirmedAgents: string[];
  /** Why invitation state is not reported; null if it could be read. */
  invitationState: string | null;
  /** Deactivated, suspended or deleted source agents, with what the load will really do with what they own. */
  inactiveSourceAgents: { sourceId: string; email: string | null; tickets: number; comments: number; ticketsFate: string; messagesFate: string }[];
  inactiveTargetAgents: string[];
  inboxes: InboxNote[];
  estimate: CallEstimate;
  /** What `deskport prepare` would change in the target (fixable gaps, triggers to pause). */
  plan: PreparePlan;
  /** Active automatic triggers, null when they could not be read. */
  firingTriggers: { id: number; name: string }[] | null;
}

/** What blocks a migration and what only warns: the same for `check` and for the preflight of run, demo and delta. */
export interface Assessment {
  inputs: PrepareInputs;
  blocking: string[];
  warnings: string[];
  unconfirmedAgents: string[];
  inactiveTargetAgents: string[];
  staged: { source_id: string; data: any }[];
}

const lc = (s: string) => s.toLowerCase();

/** The target calls the staged, not yet loaded records will cost, and how long at two limits. */
export async function estimateCalls(app: App, rateLimit: number, raisedLimit: number): Promise<CallEstimate> {
  const { db, config } = app;
  const source = config.source.name;
  const count = async (q: ReturnType<typeof db>) => Number(((await q.count<{ n: string }[]>('* as n'))[0]!).n);
  const pending = (table: string) => db(table).where({ source }).whereIn('load_state', ['pending', 'loading']);
  const companies = await count(pending('companies'));
  const customers = await count(pending('people').whereNot({ role: 'agent' }));
  const tickets = await count(pending('tickets'));
  const batches = Math.ceil(tickets / config.target.importBatchSize);
  // The import closes every ticket; one bulk PATCH per batch and per other final status sets it.
  const byStatus = await pending('tickets').select(db.raw(`data->>'status' AS status`)).count<{ status: string; n: string }[]>('* as n').groupByRaw(`data->>'status'`);
  const statusPatches = byStatus.filter((r) => lc(r.status ?? '') !== 'closed').reduce((sum, r) => sum + Math.min(Number(r.n), batches), 0);
  // A ticket with custom-field values costs one v2 PATCH (the import does not take them).
  // Empty values (and unmapped fields) are not sent, so only tickets with something to set count.
  const fieldPatches = await count(pending('tickets').whereRaw(`EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(data->'customFields', '[]'::jsonb)) f
    WHERE coalesce(f->'target', 'null'::jsonb) <> 'null'::jsonb AND coalesce(f->'value', 'null'::jsonb) NOT IN ('null'::jsonb, '""'::jsonb, 'false'::jsonb, '[]'::jsonb))`));
  let kb = 0;
  for (const table of ['kb_categories', 'kb_articles']) {
    if (await db.schema.hasTable(table)) kb += await count(pending(table));
  }
  const directory = 5;
  const total = companies + customers + batches + statusPatches + fieldPatches + kb + directory;
  const minutes = (limit: number) => total / (limit * config.target.rateLimitCeiling) * (config.target.rateLimitWindowSeconds / 60);
  return {
    companies, customers, importCalls: batches, statusPatches, fieldPatches, kb, directory, total,
    currentLimit: rateLimit, currentMinutes: minutes(rateLimit), raisedLimit, raisedMinutes: minutes(raisedLimit),
  };
}

export async function runCheck(app: App, opts: { raisedLimit: number; refresh?: boolean; say?: (line: string) => void }): Promise<CheckResult> {
  const { db, config } = app;
  // Credentials first: a wrong key stops here with one sentence (probes throw DeskportErrors).
  const source = await probeSource(config);
  const target = await probeTarget(config);
  const { runId: stagedRunId } = await ensureStaged(app, { refresh: opts.refresh, ...(opts.say ? { say: opts.say } : {}) });
  // The estimates and the lists below read staging: map it with the mapping as it is now.
  await ensureCurrentMapping(app, config, opts.say);

  const client = connectTarget(app, config);
  try {
    const directory = await TargetDirectory.read(client);
    const { inputs, blocking, warnings, unconfirmedAgents, inactiveTargetAgents, staged } = await assessTarget(app, client, directory);
    const pre = inputs.preflight;
    const fallback = config.mapping.fallbackAgentEmail;

    // Deactivated, suspended or deleted source agents: what the load will do with what they own.
    // The loader matches by email whatever the source says of them, so an address the target has
    // as an active agent is assigned and signs as before (R9).
    const inactive = staged.filter((r: any) => !(r.data.active && !r.data.suspended));
    const inactiveSourceAgents = [];
    const signer = fallback ?? [...directory.agentsByEmail.values()].find((u) => u.state !== 'deleted')?.email ?? '(no agent in the target)';
    for (const r of inactive as any[]) {
      const [{ n: tickets }] = await db('tickets').where({ source: config.source.name }).whereRaw(`data->>'assigneeSourceId' = ?`, [r.source_id]).count<{ n: string }[]>('* as n');
      const [{ n: comments }] = await db('comments').where({ source: config.source.name }).whereRaw(`data->>'authorSourceId' = ?`, [r.source_id]).count<{ n: string }[]>('* as n');
      const target = directory.agent(r.data.email);
      const email: string | null = r.data.email ?? null;
      const fate = !target
        ? { ticketsFate: unmatchedTicketsFate(config, r.data.sourceEmail ?? email ?? String(r.source_id)), messagesFate: `signed by ${signer} with an author header` }
        : isDeletedUser(target)
          ? { ticketsFate: `assigned to ${target.email}, who is deactivated in the target (blocking above)`, messagesFate: `signed as ${target.email}` }
          : { ticketsFate: `assigned to ${target.email} (an active agent of the target has this address)`, messagesFate: `signed as ${target.email}` };
      inactiveSourceAgents.push({ sourceId: String(r.source_id), email, tickets: Number(tickets), comments: Number(comments), ...fate });
    }

    const rawInboxes = await listAll<{ id: number; name?: string; email?: string; autoReplyEnabled?: boolean; happinessRatingEnabled?: boolean }>(client, 'inboxes');
    const inboxes: InboxNote[] = rawInboxes.map((i) => ({
      id: i.id, name: i.name ?? `#${i.id}`, email: i.email ?? null,
      autoReplyEnabled: typeof i.autoReplyEnabled === 'boolean' ? i.autoReplyEnabled : null,
      happinessRatingEnabled: typeof i.happinessRatingEnabled === 'boolean' ? i.happinessRatingEnabled : null,
    }));
    const estimate = await estimateCalls(app, target.rateLimit ?? 120, opts.raisedLimit);
    const plan = planPreparation(inputs);
    const firing = inputs.triggers.ok ? firingTriggers(inputs.triggers.triggers).map((t) => ({ id: t.id, name: t.name })) : null;
    return {
      source, target, stagedRunId, blocking, warnings, missingAgents: pre.unmatchedAgents, unconfirmedAgents, invitationState: INVITATION_STATE_UNREADABLE,
      inactiveSourceAgents, inactiveTargetAgents, inboxes, estimate, plan, firingTriggers: firing,
    };
  } finally {
    await client.close();
  }
}

/** What the load does with the tickets of an assignee the target has no agent for (agents.unmatchedAssignee). */
function unmatchedTicketsFate(config: App['config'], who: string): string {
  const mode = config.mapping.unmatchedAssignee;
  const tag = `the tag ${config.source.name}-assignee:${who}`;
  const header = `"Originally assigned to …" in their first message`;
  switch (mode) {
    case 'tag': return `arrive unassigned with ${tag}`;
    case 'header': return `arrive unassigned with ${header}`;
    case 'both': return `arrive unassigned with ${tag} and ${header}`;
    case 'none': return 'arrive unassigned and nothing says whose they were (agents.unmatchedAssignee: none)';
    default: return `are assigned to ${mode}, with ${tag} and ${header}`;
  }
}

/**
 * The preflight (R16, issue 16.1): the mapping's references, statuses, priorities, types and
 * custom fields against the target, and the agents — source agents the target lacks (blocking
 * without a fallback agent), matched agents whose invitation cannot be confirmed, deactivated
 * target agents.
 */
export async function assessTarget(deps: Pick<App, 'db' | 'config'>, client: TeamworkDeskClient, directory: TargetDirectory): Promise<Assessment> {
  const { db, config } = deps;
  const inputs = await gatherPrepareInputs(db, config, client, directory);
  const pre = inputs.preflight;
  const blocking = [...pre.errors];
  const warnings = pre.warnings.filter((w) => !w.startsWith('agent '));

  // Source agents with no target agent (R9, after the override map): without a fallback agent
  // their notes are signed by whoever comes first; their tickets keep them as agents.unmatchedAssignee says.
  const fallback = config.mapping.fallbackAgentEmail;
  for (const a of pre.unmatchedAgents) {
    const who = a.email ?? `#${a.sourceId} (no email)`;
    if (fallback) warnings.push(`agent ${who} is not in the target: their tickets ${unmatchedTicketsFate(config, a.email ?? a.sourceId)}; their messages are signed by ${fallback} with an author header`);
    else blocking.push(`agent ${who} is not in the target; invite them in Teamwork Desk, map them (agents.overrides) or set agents.fallback`);
  }

  const staged = await db('people').where({ source: config.source.name, role: 'agent' }).select('source_id', 'data');
  const emails = new Set(staged.map((r: any) => lc(r.data.email ?? '')));
  const matched = [...directory.agentsByEmail.values()].filter((u) => u.email && emails.has(lc(u.email)));
  // Teamwork's API shows no invitation state (load/target-directory.ts): say so, and name whom to check.
  const unconfirmedAgents = matched.filter((u) => !isDeletedUser(u)).map((u) => u.email!).sort();
  if (unconfirmedAgents.length > 0) {
    warnings.push(`${INVITATION_STATE_UNREADABLE}; confirm in Teamwork Desk (People › Agents) that these ${unconfirmedAgents.length} agent(s) accepted their invitation — an agent who has not cannot be assigned tickets: ${unconfirmedAgents.join(', ')}`);
  }
  const inactiveTargetAgents = matched.filter(isDeletedUser).map((u) => u.email!);
  for (const e of inactiveTargetAgents) blocking.push(`agent ${e} is deactivated in the target; reactivate them or map them to another agent (agents.overrides)`);
  return { inputs, blocking, warnings, unconfirmedAgents, inactiveTargetAgents, staged };
}

function duration(minutes: number): string {
  if (minutes < 1) return `${Math.max(1, Math.round(minutes * 60))} s`;
  if (minutes < 90) return `${Math.round(minutes)} min`;
  return `${(minutes / 60).toFixed(1)} h`;
}

export function formatCheck(r: CheckResult): string {
  const out: string[] = [];
  out.push(`source: ${r.source.detail}`);
  out.push(`target: ${r.target.url} accepts the API key (as ${r.target.user?.email ?? 'unknown user'}); rate limit ${r.target.rateLimit ?? 'unknown (assumed 120)'} calls/min`);
  if (r.stagedRunId !== null) out.push(`staged the source in run ${r.stagedRunId}`);
  out.push('');
  if (r.blocking.length > 0) {
    out.push(`${r.blocking.length} problem${r.blocking.length === 1 ? '' : 's'} to fix before migrating:`, ...r.blocking.map((b) => `  ✗ ${b}`));
  } else {
    out.push('✓ nothing blocks the migration');
  }
  if (r.warnings.length > 0) out.push('', 'warnings:', ...r.warnings.map((w) => `  ! ${w}`));
  if (r.inactiveSourceAgents.length > 0) {
    out.push('', 'deactivated, suspended or deleted source agents, and what the load does with what they own:');
    for (const a of r.inactiveSourceAgents) out.push(`  - ${a.email ?? `#${a.sourceId}`}: assignee of ${a.tickets} ticket(s) — ${a.ticketsFate}; author of ${a.comments} message(s) — ${a.messagesFate}`);
  }
  out.push('', 'before the run, in every target inbox turn off notifications, auto-replies and happiness surveys by hand (Teamwork Desk has no import mode, and deskport does not switch these):');
  for (const i of r.inboxes) {
    const on = [i.autoReplyEnabled ? 'auto-reply is ON' : null, i.happinessRatingEnabled ? 'happiness survey is ON' : null].filter(Boolean);
    out.push(`  - ${i.name}${i.email ? ` <${i.email}>` : ''}${on.length > 0 ? `: ${on.join(', ')} — turn it off` : ''}`);
  }
  out.push('', ...formatTriggers(r));
  const e = r.estimate;
  out.push('', `estimated target calls: ${e.total} (companies ${e.companies}, customers ${e.customers}, ticket imports ${e.importCalls}, status PATCHes ${e.statusPatches}, custom-field PATCHes ${e.fieldPatches}, KB ${e.kb}, directory reads ${e.directory})`);
  out.push(`  at the current limit of ${e.currentLimit}/min: about ${duration(e.currentMinutes)}`);
  out.push(`  at a raised limit of ${e.raisedLimit}/min (ask Teamwork support; --raised-limit): about ${duration(e.raisedMinutes)}`);
  const n = r.plan.changes.length;
  if (n > 0) {
    out.push('', `npx deskport prepare can make ${n} change${n === 1 ? '' : 's'} in the target: ${summarizeChanges(r.plan)} (it lists them first; --apply makes them).`);
  }
  if (r.plan.manual.length > 0) out.push('', 'hand work deskport does not do for you:', ...r.plan.manual.map((m) => `  - ${m}`));
  return out.join('\n');
}

const KIND_WORDS: Record<string, [string, string]> = {
  'custom-field': ['custom field', 'custom fields'], 'custom-field-option': ['custom-field option', 'custom-field options'],
  'ticket-status': ['ticket status', 'ticket statuses'], 'ticket-priority': ['priority', 'priorities'], 'ticket-type': ['ticket type', 'ticket types'],
  'ticket-type-inboxes': ['ticket type to enable for an inbox', 'ticket types to enable for inboxes'], tag: ['tag', 'tags'], 'pause-trigger': ['trigger to pause', 'triggers to pause'],
};

/** "2 custom fields, 1 ticket type, 2 triggers to pause". */
export function summarizeChanges(plan: PreparePlan): string {
  const counts = new Map<string, number>();
  for (const c of plan.changes) counts.set(c.kind, (counts.get(c.kind) ?? 0) + 1);
  return [...counts].map(([kind, count]) => `${count} ${KIND_WORDS[kind]![count === 1 ? 0 : 1]}`).join(', ');
}

/** Triggers fire on imported tickets (assignments, emails): what deskport can do about them, and what it cannot. */
function formatTriggers(r: CheckResult): string[] {
  const out: string[] = [];
  const paused = r.plan.paused.map((c) => `"${String(c.request.name ?? '')}" (${c.targetId})`);
  if (r.firingTriggers === null) {
    out.push(`triggers: ${r.plan.triggerProblem ?? 'they could not be read'}; turn every automatic trigger off by hand (Settings › Triggers, the Active toggle) and back on after the run.`);
  } else if (r.firingTriggers.length > 0) {
    out.push(`triggers: ${r.firingTriggers.length} automatic trigger${r.firingTriggers.length === 1 ? ' is' : 's are'} active and would act on the imported tickets: ${r.firingTriggers.map((t) => `"${t.name}" (${t.id})`).join(', ')}`);
    out.push('  npx deskport prepare --apply pauses them; npx deskport restore-target puts them back after the run.');
    out.push(`  Teamwork documents a trigger's state but shows no value other than "active": deskport writes "${PAUSED_STATE}" and reads each trigger back, and a site that does not take it is reported, the trigger left for you to switch off (Settings › Triggers, the Active toggle).`);
  } else {
    out.push('triggers: no automatic trigger is active.');
  }
  if (paused.length > 0) out.push(`  paused by deskport prepare (npx deskport restore-target puts them back after the run): ${paused.join(', ')}`);
  return out;
}
