import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { INVITATION_STATE_UNREADABLE, isDeletedUser, listAll, type TargetUser } from '../../load/target-directory.ts';
import { changesToRestore, getRun, kbChecklistFacts, keptAssigneesOfRun, latestRunId, reasonCounts, reconciliation, type KbChecklistFacts, type KeptAssigneeTicket } from '../../staging/index.ts';
import { targetKey } from '../../load/prepare-inputs.ts';
import type { App } from '../app.ts';
import { kbLabelsMode } from '../../core/config.ts';
import { DeskportError, errorMessage } from '../../core/errors.ts';
import { describeKept } from '../../load/original-assignee.ts';
import { writeReportFiles } from '../../serve/report-files.ts';
import { connectTarget } from '../../load/connect-target.ts';

/**
 * `deskport post-checklist` (R22): what deskport could not do itself after a run, as a markdown
 * checklist filled in with the run's data — inboxes to switch back on, email forwarding per inbox,
 * invited agents, records to review, KB links left as they were, article dates not kept. Printed
 * and written next to the run's report files.
 */

interface TargetInbox { id: number; name?: string; email?: string; autoReplyEnabled?: boolean; happinessRatingEnabled?: boolean }
export interface ChecklistData {
  runId: number; kind: string; status: string;
  inboxes: TargetInbox[] | null;
  targetError: string | null;
  forwarding: { mailbox: string; inbox: string; inboxEmail: string | null; tickets: number }[];
  /** Target agents matched to source agents: whether they accepted their invitation cannot be read (Teamwork's API shows no such state). */
  invited: string[];
  totals: { entity: string; loaded: number; skipped: number; failed: number; rejected: number; missing: number }[];
  reasons: { entity: string; state: string; reason: string; count: number }[];
  reportDir: string;
  /** What the KB loader could not do (staging/queries/kb-links.ts). */
  kb: KbChecklistFacts;
  /** Where Help Center labels went (kb.labels). */
  kbLabels: 'description' | 'footer' | 'none';
  /** Tickets whose source assignee is not an agent of the target (issue 16.2): the first CHECKLIST_TICKETS of them. */
  keptAssignees: { total: number; tickets: KeptAssigneeTicket[] };
  /** The target's base URL, for ticket links. */
  targetUrl: string | null;
  /** Triggers `deskport prepare` paused and restore-target has not put back (crash or not). */
  toRestore: { name: string; id: string; before: string }[];
}

/** At most this many tickets are listed one by one; the rest are in records.csv. */
const CHECKLIST_TICKETS = 100;

const lc = (s: string) => s.toLowerCase();

export async function collectChecklist(app: App, runIdOpt?: number): Promise<ChecklistData> {
  const { db, config } = app;
  const runId = runIdOpt ?? (await latestRunId(db, { finished: true }));
  if (runId === undefined) throw new DeskportError('DESKPORT_NO_RUN', 'there is no finished run yet', { hint: 'Run `deskport demo` or `deskport run` first.' });
  const run = await getRun(db, runId);
  if (!run) throw new DeskportError('DESKPORT_NO_RUN', `there is no run ${runId}`, { hint: '`deskport status` lists the runs.' });
  const source = config.source.name;

  let inboxes: TargetInbox[] | null = null;
  let invited: string[] = [];
  let targetError: string | null = null;
  if (config.target.url && config.target.apiKey) {
    const client = connectTarget(app, config);
    try {
      inboxes = await listAll<TargetInbox>(client, 'inboxes');
      const users = await listAll<TargetUser>(client, 'users');
      const agents = new Set((await db('people').where({ source, role: 'agent' }).select('email')).map((r: { email: string | null }) => lc(r.email ?? '')));
      invited = users.filter((u) => u.email && !isDeletedUser(u) && agents.has(lc(u.email))).map((u) => u.email!).sort();
    } catch (err) {
      targetError = errorMessage(err);
    } finally {
      await client.close();
    }
  } else {
    targetError = 'no target configured (DESKPORT_TARGET_URL)';
  }

  // Where mail came in at the source, and the inbox routing sent those tickets to.
  const defaultInbox = config.mapping.inboxes.default ?? inboxes?.find((i) => i.id === config.target.fallbackInboxId)?.name ?? inboxes?.[0]?.name ?? '(the fallback inbox)';
  const routes = await db('tickets').where({ source }).whereRaw(`data->>'sourceMailbox' IS NOT NULL`)
    .select(db.raw(`lower(data->>'sourceMailbox') AS mailbox`), db.raw(`data->'inbox'->>'name' AS inbox`)).count<{ mailbox: string; inbox: string | null; n: string }[]>('* as n')
    .groupByRaw(`lower(data->>'sourceMailbox'), data->'inbox'->>'name'`).orderBy('mailbox');
  const forwarding = routes.map((r) => {
    const inbox = r.inbox ?? defaultInbox;
    return { mailbox: r.mailbox, inbox, inboxEmail: inboxes?.find((i) => lc(i.name ?? '') === lc(inbox))?.email ?? null, tickets: Number(r.n) };
  });

  const totals = (await reconciliation(db, runId)).map((c) => ({ entity: c.entity, loaded: c.loaded, skipped: c.skipped, failed: c.failed, rejected: c.rejected, missing: c.missing }));
  // Loads and demos finish rows another run staged: count what this run wrote too.
  const own = await db('staged_records').where({ load_run_id: runId }).select('entity')
    .select(db.raw(`count(*) FILTER (WHERE load_state = 'loaded')::int AS loaded`), db.raw(`count(*) FILTER (WHERE load_state = 'skipped')::int AS skipped`), db.raw(`count(*) FILTER (WHERE load_state = 'failed')::int AS failed`))
    .groupBy('entity');
  for (const o of own as any[]) {
    const t = totals.find((x) => x.entity === o.entity);
    if (!t) totals.push({ entity: o.entity, loaded: o.loaded, skipped: o.skipped, failed: o.failed, rejected: 0, missing: 0 });
    else if (t.loaded + t.skipped + t.failed === 0) Object.assign(t, { loaded: o.loaded, skipped: o.skipped, failed: o.failed });
  }
  const files = await writeReportFiles(db, config.workDir, runId);
  const toRestore = config.target.url
    ? (await changesToRestore(db, targetKey(config))).filter((c) => c.state !== 'failed').map((c) => ({
      name: String(c.request.name ?? ''), id: String(c.targetId ?? c.request.triggerId ?? '?'), before: String((c.before as { state?: unknown } | null)?.state ?? 'active'),
    }))
    : [];
  return {
    toRestore,
    runId, kind: run.kind, status: run.status, inboxes, targetError, forwarding, invited, totals,
    reasons: await reasonCounts(db, runId), reportDir: files?.dir ?? join(config.workDir, 'reports', `run-${runId}`),
    kb: await kbChecklistFacts(db, runId), kbLabels: kbLabelsMode(config),
    keptAssignees: await keptAssigneesOfRun(db, runId, { limit: CHECKLIST_TICKETS }),
    targetUrl: config.target.url?.replace(/\/+$/, '') ?? null,
  };
}

export function formatChecklist(d: ChecklistData): string {
  const box = (text: string) => `- [ ] ${text}`;
  const out = [`# Post-migration checklist — run ${d.runId} (${d.kind}, ${d.status})`, ''];
  out.push('## Switch back on what was turned off for the migration', '');
  if (d.toRestore.length > 0) {
    out.push(box(`Put back the ${d.toRestore.length} trigger${d.toRestore.length === 1 ? '' : 's'} deskport prepare paused: \`npx deskport restore-target\` (${d.toRestore.map((t) => `"${t.name}" (${t.id}) → ${t.before}`).join(', ')})`));
  }
  if (d.inboxes) {
    for (const i of d.inboxes) out.push(box(`Inbox **${i.name ?? `#${i.id}`}**${i.email ? ` <${i.email}>` : ''}: re-enable notifications, triggers, auto-replies${i.autoReplyEnabled ? ' (auto-reply is on already)' : ''} and the happiness survey${i.happinessRatingEnabled ? ' (on already)' : ''}`));
  } else {
    out.push(box(`Every inbox: re-enable notifications, triggers, auto-replies and happiness surveys (inbox list not read: ${d.targetError})`));
  }
  out.push('', '## Email forwarding: point each source mailbox at its inbox', '');
  if (d.forwarding.length === 0) out.push(box('No source mailbox is known from the staged tickets: forward each support address of the old help desk to its Teamwork Desk inbox'));
  for (const f of d.forwarding) out.push(box(`Forward **${f.mailbox}** → inbox **${f.inbox}**${f.inboxEmail ? ` <${f.inboxEmail}>` : ''} (${f.tickets} ticket(s) came in there)`));
  out.push('', '## Agents who must accept their invitation', '');
  if (d.targetError && !d.inboxes) out.push(box(`Check for invited agents in Teamwork Desk (not read: ${d.targetError})`));
  else if (d.invited.length === 0) out.push('- no source agent was matched to a target agent');
  else out.push(`  ${INVITATION_STATE_UNREADABLE}: confirm in People › Agents that each of these accepted.`, '');
  for (const e of d.invited) out.push(box(`${e} has accepted their invitation`));
  out.push('', '## Records to review', '');
  const review = d.totals.filter((t) => t.skipped + t.failed + t.rejected + t.missing > 0);
  if (review.length === 0) out.push('- nothing skipped, failed, rejected or missing');
  for (const t of review) out.push(box(`${t.entity}: ${t.failed} failed, ${t.skipped} skipped, ${t.rejected} rejected${t.missing > 0 ? `, **${t.missing} missing**` : ''}`));
  if (d.reasons.length > 0) {
    out.push('', '  By reason:');
    for (const r of d.reasons.slice(0, 20)) out.push(`  - ${r.count} ${r.entity} ${r.state}: ${r.reason}`);
  }
  out.push('', `  Report files: ${d.reportDir} (report.json, records.csv, counts.csv). Retry failed ones with \`deskport load --retry-failed\`.`);
  out.push('', '## Tickets whose assignee is not an agent of the target', '');
  const ka = d.keptAssignees;
  if (ka.total === 0) out.push('- none: every assigned ticket went to the same agent in the target');
  else out.push(`  ${ka.total} ticket(s) were assigned in the source to someone with no agent in the target; assign them to whoever owns them now:`, '');
  for (const k of ka.tickets) {
    const who = [k.name, k.email ? `<${k.email}>` : null].filter(Boolean).join(' ') || `source user ${k.sourceId}`;
    const where = k.targetId && d.targetUrl ? `${d.targetUrl}/desk/tickets/${k.targetId}` : `target ticket ${k.targetId ?? '?'}`;
    out.push(box(`Ticket ${k.ticketSourceId} (${where}): was assigned to ${who} — ${describeKept(k)}`));
  }
  if (ka.total > ka.tickets.length) out.push(`  … and ${ka.total - ka.tickets.length} more: records.csv, column original_assignee`);
  out.push('', '## Knowledge base', '');
  const kb = d.kb;
  if (kb.unrewrittenLinks.length === 0) out.push('- no link between articles was left pointing at the old help center');
  for (const l of kb.unrewrittenLinks) {
    out.push(box(`Article **${l.articleTitle ?? l.articleSourceId}**${l.articleTargetUrl ? ` (${l.articleTargetUrl})` : ''}: fix the link ${l.href}${l.reason ? ` — ${l.reason}` : ''}`));
  }
  for (const f of kb.attachmentsNotMigrated) out.push(box(`Article ${f.articleSourceId}: attachment ${f.fileName ?? '(unnamed)'} is not in the target (${f.reason})`));
  if (kb.articlesWithSourceDatesOnly > 0) {
    out.push(box(`${kb.articlesWithSourceDatesOnly} article(s) show the migration date: Help Docs takes no article dates; the originals are in staging (kb_articles.data->>'createdAt' / 'updatedAt') and report.json`));
  }
  if (kb.articlesWithLabels > 0) {
    out.push(d.kbLabels === 'none'
      ? box(`${kb.articlesWithLabels} article(s) had Help Center labels, kept in staging only (kb_articles.data->'tags'; kb.labels: none)`)
      : `- ${kb.articlesWithLabels} article(s) carry their Help Center labels in their ${d.kbLabels === 'description' ? 'description' : 'last line'} ("Labels: …"; kb.labels)`);
  }
  if (kb.articleAttachmentsLinked > 0) {
    out.push(box(`${kb.articleAttachmentsLinked} article attachment(s) are linked from their article's "Attachments" list (Help Docs documents no file relation for articles): open one to check it downloads for a reader`));
  }
  return out.join('\n') + '\n';
}

export async function writeChecklist(d: ChecklistData): Promise<string> {
  await mkdir(d.reportDir, { recursive: true });
  const file = join(d.reportDir, 'post-checklist.md');
  await writeFile(file, formatChecklist(d));
  return file;
}
