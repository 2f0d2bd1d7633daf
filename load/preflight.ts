import type { Knex } from 'knex';
import type { TeamworkDeskClient } from './client.ts';
import { listWithIncluded, type Named, type TargetDirectory } from './target-directory.ts';
import type { Config } from '../core/config.ts';
import { refsOfKind, stagedFieldValues, stagedTargetValues, type StagedTargetValues } from '../staging/index.ts';
import type { CanonicalCustomField, CanonicalGroup } from '../staging/canonical.ts';
import { targetFieldsFrom, type TargetField } from './custom-fields.ts';
import { fieldNeeds, missingOptions, OPTION_KINDS, targetFieldFor, targetKindOf } from './field-needs.ts';
import { checkTicketValues, type MissingTicketValue, type TypeInboxGap } from './preflight-values.ts';
import { readTicketMeta, type TargetTicketType, type TicketMeta } from './ticket-meta.ts';

/**
 * Checks every reference the mapping makes — agents, inboxes, statuses, priorities, ticket types,
 * custom fields and their options, groups — against what the source staged and what the target
 * has, and lists ALL problems at once, before any ticket is written (R9, R10, R11, R16).
 * `preflight` is pure; `preflightAgainstTarget` reads.
 */

export interface PreflightSource {
  agents: { sourceId: string; email: string | null; sourceEmail: string | null; active: boolean }[];
  groups: CanonicalGroup[];
  fields: CanonicalCustomField[];
  /** The statuses, priorities, types and inboxes the staged tickets carry. */
  values?: StagedTargetValues;
  /** The option values the staged tickets carry for option fields. */
  fieldValues?: { fieldSourceId: string; value: string; tickets: number }[];
}
export interface PreflightTarget {
  agentEmails: string[];
  inboxes: string[];
  statuses: string[];
  /** Custom fields with their options; null when the target's fields could not be read (field checks skipped). */
  fields: TargetField[] | null;
  /** Priorities and ticket types; null (or absent) when they could not be read. */
  priorities?: Named[] | null;
  types?: TargetTicketType[] | null;
  /** Inboxes with ids (type ↔ inbox checks) and the import's fallback inbox. */
  inboxList?: Named[];
  fallbackInboxId?: number | undefined;
}
export interface PreflightResult {
  /** References to things that do not exist: loading must not start until they are fixed. */
  errors: string[];
  /** Source agents with no target agent of that email (R9: listed, never guessed); their notes get the fallback agent. */
  unmatchedAgents: { sourceId: string; email: string | null }[];
  warnings: string[];
  /** Statuses, priorities and types the target lacks, and types not enabled where their tickets land. */
  missingValues: MissingTicketValue[];
  typeInboxGaps: TypeInboxGap[];
}

const isId = (s: string) => /^\d+$/.test(s);
const lc = (s: string) => s.toLowerCase();

export function preflight(m: Config['mapping'], source: PreflightSource, target: PreflightTarget): PreflightResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const agents = new Set(target.agentEmails.map(lc));
  const inboxes = new Set(target.inboxes.map(lc));
  const statuses = new Set(target.statuses.map(lc));
  const targetFields = target.fields;
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

  // Statuses, priorities, types (R11, issue 16.1): the mapping's and the staged tickets' values.
  const values = checkTicketValues(m, source.values ?? { statuses: [], priorities: [], types: [], inboxes: [] }, {
    statuses: [...statuses], priorities: target.priorities ?? null, types: target.types ?? null,
    inboxes: target.inboxList ?? [], fallbackInboxId: target.fallbackInboxId,
  });
  errors.push(...values.errors);
  warnings.push(...values.warnings);

  // Custom fields (R10): a rule must name a source field; every migrated field needs a target field.
  for (const [i, rule] of m.customFields.entries()) {
    if (!sourceField(rule.source)) errors.push(`customFields[${i}].source: the source has no custom field "${rule.source}"`);
  }
  for (const [i, f] of (m.filters.fields ?? []).entries()) {
    if (!sourceField(f.field)) errors.push(`filters.fields[${i}].field: the source has no custom field "${f.field}"`);
  }
  if (targetFields) {
    for (const need of fieldNeeds(m, source.fields, source.fieldValues ?? [])) {
      const f = need.source;
      const field = targetFieldFor(need, targetFields);
      if (!field) {
        errors.push(need.targetId !== null
          ? `custom field "${f.name}" (source ${f.sourceId}): the target has no field with id ${need.targetId} (customFields[].targetId); fix the id, map it by name (customFields[].target) or drop it (drop: true)`
          : `custom field "${f.name}" (source ${f.sourceId}): the target has no field "${need.targetName}"; create it (npx deskport prepare can), map it (customFields[].target) or drop it (drop: true)`);
        continue;
      }
      const missing = missingOptions(need, field);
      if (missing.length > 0) {
        const n = missing.reduce((sum, o) => sum + o.tickets, 0);
        errors.push(`custom field "${field.agentLabel}" (source ${f.sourceId}): the target field has no option ${missing.map((o) => `"${o.name}"`).join(', ')} (${n} staged ticket value${n === 1 ? '' : 's'}): they would be written into the message body instead; add the options in Teamwork Desk (npx deskport prepare can), or map the values (customFields[].values)`);
      }
    }
  } else {
    warnings.push('the target\'s custom fields could not be read: custom field targets were not checked');
  }
  return { errors, unmatchedAgents, warnings, missingValues: values.missing, typeInboxGaps: values.typeInboxGaps };
}

/** What staging holds about the source, for `preflight`. */
export async function stagedPreflightSource(db: Knex, source: string): Promise<PreflightSource> {
  const rows = await db('people').where({ source, role: 'agent' }).orderBy('source_id').select('source_id', 'data');
  const fields = await refsOfKind(db, source, 'custom_fields');
  // Values are read for option fields only (a text field's values can be as many as its tickets).
  const optionFields = fields.filter((f) => OPTION_KINDS.has(targetKindOf(f.type)) || f.options.length > 0).map((f) => f.sourceId);
  return {
    agents: rows.map((r: any) => ({ sourceId: r.source_id, email: r.data.email, sourceEmail: r.data.sourceEmail ?? null, active: r.data.active && !r.data.suspended })),
    groups: await refsOfKind(db, source, 'groups'),
    fields,
    values: await stagedTargetValues(db, source),
    fieldValues: await stagedFieldValues(db, source, optionFields),
  };
}

/** The target's custom fields with their options; null when they cannot be read. */
export async function readTargetFields(client: TeamworkDeskClient): Promise<TargetField[] | null> {
  try {
    const list = await listWithIncluded<Parameters<typeof targetFieldsFrom>[0][number], { id: number; name?: string }>(client, 'customfields', 'customfieldoptions', { includes: 'customfieldoptions' });
    return targetFieldsFrom(list.items, list.included);
  } catch {
    return null;
  }
}

/** What preflight compares with, from the target's directory and the lists read beside it. */
export function preflightTargetOf(config: Config, directory: TargetDirectory, fields: TargetField[] | null, meta: TicketMeta): PreflightTarget {
  return {
    agentEmails: [...directory.agentsByEmail.keys()],
    inboxes: directory.inboxes.map((i) => i.name ?? '').filter(Boolean),
    statuses: [...directory.statusByName.keys()],
    fields, priorities: meta.priorities, types: meta.types,
    inboxList: directory.inboxes,
    fallbackInboxId: directory.fallbackInboxId(config.target.fallbackInboxId),
  };
}

/** The adapter: staged source data + the target's directory (and its fields, priorities and types, read here). */
export async function preflightAgainstTarget(db: Knex, config: Config, directory: TargetDirectory, client?: TeamworkDeskClient): Promise<PreflightResult> {
  const fields = client ? await readTargetFields(client) : directory.customFields;
  const meta = client ? await readTicketMeta(client) : { priorities: null, types: null };
  return preflight(config.mapping, await stagedPreflightSource(db, config.source.name), preflightTargetOf(config, directory, fields, meta));
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
