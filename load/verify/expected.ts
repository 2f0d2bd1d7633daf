import type { Config } from '../../core/config.ts';
import { commentsOfTickets, refsOfKind, stagedBySourceIds, targetIds, type Db, type StagedAttachment } from '../../staging/index.ts';
import { fieldValuesForImport } from '../custom-fields.ts';
import { CanonicalTicket, type CanonicalPerson } from '../../staging/canonical.ts';
import { buildImportTicket, type ImportContext, type ImportUser } from '../import-payload.ts';
import type { TargetDirectory } from '../target-directory.ts';
import type { ExpectedTicket } from './compare.ts';

/** The agent the loader signs notes with when the original author is not a target agent. */
export function fallbackAgent(directory: TargetDirectory, config: Config): ImportUser {
  const wanted = config.mapping.fallbackAgentEmail;
  const agent = wanted ? directory.agent(wanted) : [...directory.agentsByEmail.values()].find((u) => u.state !== 'deleted');
  return { email: agent?.email?.toLowerCase() ?? '(no fallback agent)', firstName: agent?.firstName ?? '', lastName: agent?.lastName ?? '', type: 'user' };
}

/**
 * What the target should hold for a batch of loaded tickets. Threads, customer, assignee and
 * tags come from the very import payload the loader builds (load/import-payload.ts), so verify
 * checks what was promised, not a second reading of the mapping. Status, inbox, company and
 * custom fields come from staging and the target's directory.
 */
export async function expectedTickets(deps: { db: Db; directory: TargetDirectory; config: Config }, rows: { sourceId: string; data: unknown }[],
  attachments: Map<string, StagedAttachment[]> | null): Promise<Map<string, ExpectedTicket | Error>> {
  const { db, directory, config } = deps;
  const source = config.source.name;
  const tickets = rows.map((r) => ({ sourceId: r.sourceId, parsed: CanonicalTicket.safeParse(r.data) }));
  const ids = rows.map((r) => r.sourceId);
  const comments = await commentsOfTickets(db, source, ids);
  const personIds = new Set<string>();
  for (const t of tickets) {
    if (!t.parsed.success) continue;
    personIds.add(t.parsed.data.requesterSourceId);
    if (t.parsed.data.assigneeSourceId) personIds.add(t.parsed.data.assigneeSourceId);
    t.parsed.data.ccSourceIds.forEach((id) => personIds.add(id));
  }
  for (const list of comments.values()) for (const c of list) if (c.authorSourceId) personIds.add(c.authorSourceId);
  const people = await stagedBySourceIds(db, 'people', source, [...personIds]);
  const peopleTargets = await targetIds(db, source, 'people', [...personIds]);
  const companyIds = [...people.values()].map((p: CanonicalPerson) => p.companySourceId).filter((x): x is string => !!x);
  const companyTargets = await targetIds(db, source, 'companies', companyIds);
  const ctx: ImportContext = { source, people, directory, mapping: config.mapping, fallbackAgent: fallbackAgent(directory, config) };
  const sourceFields = new Map((await refsOfKind(db, source, 'custom_fields')).map((f) => [f.sourceId, f]));

  const out = new Map<string, ExpectedTicket | Error>();
  for (const { sourceId, parsed } of tickets) {
    if (!parsed.success) {
      out.set(sourceId, new Error(`staged ticket does not parse: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`));
      continue;
    }
    const t = parsed.data;
    try {
      const ordered = [...(comments.get(sourceId) ?? [])].sort((a, b) => a.position - b.position);
      const inboxId = directory.landingInboxId(t.inbox?.name ?? null, config.target.fallbackInboxId);
      const payload = buildImportTicket(ctx, t, ordered);
      // The values the loader set, resolved the same way against the target's fields.
      const customFields = fieldValuesForImport(payload, t, directory.customFields, sourceFields, inboxId);
      const requester = people.get(t.requesterSourceId);
      // Only a customer deskport created itself (v2, with its company) carries the company link.
      const company = requester?.role === 'customer' && requester.companySourceId && peopleTargets.has(t.requesterSourceId)
        ? companyTargets.get(requester.companySourceId) ?? null : null;
      const status = directory.status(t.status);
      out.set(sourceId, {
        subject: payload.subject,
        customerEmail: payload.customer.email,
        companyId: company,
        assigneeEmail: payload.assignedTo?.email ?? null,
        inboxId: inboxId ?? null,
        status: t.status,
        statusId: status?.id ?? null,
        tags: payload.tags,
        customFields: customFields.map((v) => ({ id: v.id, value: v.meta.value })),
        threads: payload.threads.map((th, i) => ({
          sourceId: ordered[i]?.sourceId ?? '?', type: th.type, authorEmail: th.createdBy.email, createdAt: th.createdAt, body: th.body,
          attachments: attachments ? attachments.get(ordered[i]?.sourceId ?? '') ?? [] : null,
        })),
      });
    } catch (err) {
      out.set(sourceId, err as Error);
    }
  }
  return out;
}
