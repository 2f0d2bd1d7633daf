import type { Config } from '../core/config.ts';
import { DeskportError } from '../core/errors.ts';
import { escapeHtml } from '../core/html.ts';
import type { CanonicalPerson, CanonicalTicket } from '../staging/canonical.ts';
import type { KeptAssignee } from '../staging/index.ts';
import type { TargetDirectory, TargetUser } from './target-directory.ts';

/**
 * R9, issue 16.2: a ticket whose source assignee has no agent in the target (deleted in the
 * source, never invited) would arrive unassigned with nothing saying whose it was. What it keeps
 * instead follows `agents.unmatchedAssignee`: a `<source>-assignee:<email>` tag, a line in the
 * first message's header, both (default), nothing — or an agent's email, who is then assigned
 * (the original still kept as tag and header). One function, so the import, the v2 path, delta,
 * verify and `check` all say and do the same.
 */
export type { KeptAssignee };

/** The target agent a source person is, when the target has one of that email (R9: matched, never invented). */
export function targetAgentOf(directory: TargetDirectory, person: CanonicalPerson | undefined): TargetUser | undefined {
  return person && person.role === 'agent' ? directory.agent(person.email) : undefined;
}

/** What a ticket keeps of an assignee the target has no agent for; null when it has none or the target has the agent. */
export function keptAssignee(
  t: Pick<CanonicalTicket, 'assigneeSourceId'>, people: Map<string, CanonicalPerson>, directory: TargetDirectory,
  mapping: Pick<Config['mapping'], 'unmatchedAssignee'>, source: string,
): KeptAssignee | null {
  if (t.assigneeSourceId === null) return null;
  const person = people.get(t.assigneeSourceId);
  if (targetAgentOf(directory, person)) return null;
  const mode = mapping.unmatchedAssignee;
  const fallback = mode.includes('@') ? mode : null;
  if (fallback && !directory.agent(fallback)) {
    throw new DeskportError('DESKPORT_NO_AGENT', `agents.unmatchedAssignee: ${fallback} is not an agent of the target`, {
      hint: 'Invite that agent in Teamwork Desk or name another one in the mapping file (deskport check lists it).',
    });
  }
  const keptAs = fallback ? 'both' : (mode as KeptAssignee['keptAs']);
  const email = person?.sourceEmail ?? person?.email ?? null;
  return {
    sourceId: t.assigneeSourceId, name: person?.name || null, email, keptAs, assignedTo: fallback,
    tag: keptAs === 'tag' || keptAs === 'both' ? `${source}-assignee:${email ?? t.assigneeSourceId}` : null,
  };
}

/** The header line of the first message ("Originally assigned to Name <email>"), when the mode keeps one. */
export function keptAssigneeHeader(k: KeptAssignee | null): string {
  if (!k || (k.keptAs !== 'header' && k.keptAs !== 'both')) return '';
  const who = [k.name, k.email ? `<${k.email}>` : null].filter(Boolean).join(' ') || `source user ${k.sourceId}`;
  return `<p><em>Originally assigned to ${escapeHtml(who)}</em></p>`;
}

/** How the report and the checklist say what was kept: "tag zendesk-assignee:… and header", "nothing"… */
export function describeKept(k: Pick<KeptAssignee, 'keptAs' | 'assignedTo'>): string {
  const kept = { tag: 'as a tag', header: 'in the first message\'s header', both: 'as a tag and in the first message\'s header', none: 'nowhere (agents.unmatchedAssignee: none)' }[k.keptAs];
  return k.assignedTo ? `assigned to ${k.assignedTo}; original kept ${kept}` : `unassigned; original kept ${kept}`;
}
