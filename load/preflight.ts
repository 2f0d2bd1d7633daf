import type { Knex } from 'knex';
import type { TeamworkDeskClient } from './client.ts';
import { listAll, type TargetDirectory } from './target-directory.ts';
import type { Config } from '../core/config.ts';
import { refsOfKind } from '../staging/index.ts';
import type { CanonicalCustomField, CanonicalGroup } from '../staging/canonical.ts';

/**
 * Checks every reference the mapping makes — agents, inboxes, statuses, custom fields, groups —
 * against what the source staged and what the target has, and lists ALL problems at once, before
 * any ticket is written (R9, R10, R16). `preflight` is pure; `preflightAgainstTarget` reads.
 */

export interface PreflightSource {
  agents: { sourceId: string; email: string | null; sourceEmail: string | null; active: boolean }[];
  groups: CanonicalGroup[];
  fields: CanonicalCustomField[];
}
export interface PreflightTarget {
  agentEmails: string[];
  inboxes: string[];
  statuses: string[];
  /** Custom field names; null when the target's fields could not be read (field checks skipped). */
  fields: string[] | null;
}
export interface PreflightResult {
  /** References to things that do not exist: loading must not start until they are fixed. */
  errors: string[];
  /** Source agents with no target agent of that email (R9: listed, never guessed); their notes get the fallback agent. */
  unmatchedAgents: { sourceId: string; email: string | null }[];
  warnings: string[];
}

const isId = (s: string) => /^\d+$/.test(s);
const lc = (s: string) => s.toLowerCase();

export function preflight(m: Config['mapping'], source: PreflightSource, target: PreflightTarget): PreflightResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const agents = new Set(target.agentEmails.map(lc));
  const inboxes = new Set(target.inboxes.map(lc));
  const statuses = new Set(target.statuses.map(lc));
  const targetFields = target.fields ? new Set(target.fields.map(lc)) : null;
  const groupNames = new Set(source.groups.map((g) => lc(g.name)));
  const groupIds = new Set(source.groups.map((g) => g.sourceId));
  const fieldByName = new Map(source.fields.map((f) => [lc(f.name), f]));
  const fieldIds = new Map(source.fields.map((f) => [f.sourceId, f]));
  const sourceField = (ref: string) => (isId(ref) ? fieldIds.get(ref) : fieldByName.get(lc(ref)));

  // Agents (R9).
  if (m.fallbackAgentEmail && !agents.has(lc(m.fallbackAgentEmail))) errors.push(`agents.fallback: ${m.fallbackAgentEmail} is not an agent of the target`);
  if (m.unmatchedAssignee.includes('@') && !agents.has(lc(m.unmatchedAssignee))) errors.push(`agents.unmatchedAssignee: ${m.unmatchedAssignee} is not an agent of the target`);
  const sourceAgentEmails = new Set(source.agents.map((a) => lc(a.sourceEmail ?? a.email ?? '')));
  for (const [from, to] of Object.entries(m.agentOverrides)) {
    if (!agents.has(lc(to))) errors.push(`agents.overrides.${from}: ${to} is not an agent of the target`);
    if (!sourceAgentEmails.has(lc(from))) warnings.push(`agents.overrides.${from}: no source agent has this email`);
  }
  const unmatchedAgents = source.agents
    .filter((a) => a.active && !(a.email && agents.has(lc(a.email))))
    .map((a) => ({ sourceId: a.sourceId, email: a.email }));
  for (const a of unmatchedAgents) warnings.push(`agent ${a.email ?? `#${a.sourceId} (no email)`} has no target agent: their messages are signed by the fallback agent with an author header`);

  // Inboxes (R13, R4).
  if (m.inboxes.default && !inboxes.has(lc(m.inboxes.default))) errors.push(`inboxes.default: the target has no inbox "${m.inboxes.default}"`);
  for (const [i, rule] of m.inboxes.rules.entries()) {
    if (!inboxes.has(lc(rule.inbox))) errors.push(`inboxes.rules[${i}].inbox: the target has no inbox "${rule.inbox}"`);
    const g = rule.when.group;
    if (g !== undefined && !(groupIds.has(g) || groupNames.has(lc(g)))) errors.push(`inboxes.rules[${i}].when.group: the source has no group "${g}"`);
    if (rule.when.field && !sourceField(rule.when.field.name)) errors.push(`inboxes.rules[${i}].when.field: the source has no custom field "${rule.when.field.name}"`);
  }
  if (m.enrich.groups === 'inbox' || m.enrich.groups === 'both') {
    for (const g of source.groups) {
      if (!g.deleted && !inboxes.has(lc(g.name))) errors.push(`enrich.groups: the target has no inbox "${g.name}" for source group ${g.sourceId}`);
    }
  }

  // Statuses (R11).
  for (const [from, to] of Object.entries(m.statusMap)) if (!statuses.has(lc(to))) errors.push(`statuses.map.${from}: the target has no status "${to}"`);
  if (!statuses.has(lc(m.defaultStatus))) errors.push(`statuses.default: the target has no status "${m.defaultStatus}"`);

  // Custom fields (R10): a rule must name a source field; every migrated field needs a target field.
  for (const [i, rule] of m.customFields.entries()) {
    if (!sourceField(rule.source)) errors.push(`customFields[${i}].source: the source has no custom field "${rule.source}"`);
  }
  for (const [i, f] of (m.filters.fields ?? []).entries()) {
    if (!sourceField(f.field)) errors.push(`filters.fields[${i}].field: the source has no custom field "${f.field}"`);
  }
  if (targetFields) {
    for (const f of source.fields.filter((x) => !x.system && x.active)) {
      const rule = m.customFields.find((r) => r.source === f.sourceId || lc(r.source) === lc(f.name));
      if (rule?.drop || rule?.targetId !== undefined) continue;
      const name = rule?.target ?? f.name;
      if (!targetFields.has(lc(name))) errors.push(`custom field "${f.name}" (source ${f.sourceId}): the target has no field "${name}"; create it, map it (customFields[].target) or drop it (drop: true)`);
    }
  } else {
    warnings.push('the target\'s custom fields could not be read: custom field targets were not checked');
  }
  return { errors, unmatchedAgents, warnings };
}

/** What staging holds about the source, for `preflight`. */
export async function stagedPreflightSource(db: Knex, source: string): Promise<PreflightSource> {
  const rows = await db('people').where({ source, role: 'agent' }).orderBy('source_id').select('source_id', 'data');
  return {
    agents: rows.map((r: any) => ({ sourceId: r.source_id, email: r.data.email, sourceEmail: r.data.sourceEmail ?? null, active: r.data.active && !r.data.suspended })),
    groups: await refsOfKind(db, source, 'groups'),
    fields: await refsOfKind(db, source, 'custom_fields'),
  };
}

/** The adapter: staged source data + the target's directory (and custom fields, read here). */
export async function preflightAgainstTarget(db: Knex, config: Config, directory: TargetDirectory, client?: TeamworkDeskClient): Promise<PreflightResult> {
  let fields: string[] | null = null;
  if (client) {
    try {
      const list = await listAll<{ name?: string; agentLabel?: string }>(client, 'customfields');
      fields = list.map((f) => f.name ?? f.agentLabel ?? '').filter(Boolean);
    } catch {
      fields = null;
    }
  }
  return preflight(config.mapping, await stagedPreflightSource(db, config.source.name), {
    agentEmails: [...directory.agentsByEmail.keys()],
    inboxes: directory.inboxes.map((i) => i.name ?? '').filter(Boolean),
    statuses: [...directory.statusByName.keys()],
    fields,
  });
}

export function formatPreflight(r: PreflightResult): string {
  const out: string[] = [];
  if (r.errors.length > 0) out.push(`${r.errors.length} mapping reference${r.errors.length === 1 ? '' : 's'} to fix before loading:`, ...r.errors.map((e) => `  ✗ ${e}`));
  if (r.unmatchedAgents.length > 0) out.push(`${r.unmatchedAgents.length} unmatched agent(s): ${r.unmatchedAgents.map((a) => a.email ?? `#${a.sourceId}`).join(', ')}`);
  const other = r.warnings.filter((w) => !w.startsWith('agent '));
  if (other.length > 0) out.push(...other.map((w) => `  ! ${w}`));
  if (out.length === 0) out.push('preflight: every mapping reference exists');
  return out.join('\n');
}
