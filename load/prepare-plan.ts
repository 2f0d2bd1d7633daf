import type { Config } from '../core/config.ts';
import type { TargetChange } from '../staging/index.ts';
import type { TargetField } from './custom-fields.ts';
import { fieldNeeds, missingOptions, OPTION_KINDS, targetFieldFor, type TargetFieldKind } from './field-needs.ts';
import type { PreflightResult, PreflightSource } from './preflight.ts';
import type { Named, TargetDirectory } from './target-directory.ts';
import type { TicketMeta } from './ticket-meta.ts';
import { firingTriggers, PAUSED_STATE, type TargetTrigger, type TriggerList } from './triggers.ts';

/**
 * `deskport prepare` (issue 22), the planning half: every change the target needs before the
 * migration, computed from what staging holds, the mapping and the target as it is now — custom
 * fields to create (kind, options from the source's option labels, inboxes), options an existing
 * field lacks, ticket statuses, priorities and types to create, types to enable for an inbox,
 * the tags the mapping adds, and automatic triggers to pause. What deskport never does (invite an
 * agent, create an inbox) is listed as hand work. Pure: the reads are the caller's.
 */

interface Base { key: string }
export type PlannedChange =
  | Base & { kind: 'custom-field'; label: string; fieldKind: TargetFieldKind; options: string[]; inboxIds: number[]; inboxNames: string[]; sourceFieldId: string; sourceName: string }
  | Base & { kind: 'custom-field-option'; fieldId: number; fieldLabel: string; name: string; tickets: number; sourceFieldId: string; sourceName: string }
  | Base & { kind: 'ticket-status'; name: string; tickets: number }
  | Base & { kind: 'ticket-priority'; name: string; tickets: number }
  | Base & { kind: 'ticket-type'; name: string; inboxIds: number[]; inboxNames: string[]; tickets: number }
  | Base & { kind: 'ticket-type-inboxes'; typeId: number; name: string; inboxIds: number[]; addInboxNames: string[]; enabledForFutureInboxes: boolean; displayOrder: number | null }
  | Base & { kind: 'tag'; name: string }
  | Base & { kind: 'pause-trigger'; triggerId: number; name: string; trigger: TargetTrigger };

export interface PreparePlan {
  changes: PlannedChange[];
  /** Hand work prepare never does (agents, inboxes, what it cannot make), one line each. */
  manual: string[];
  /** Why the triggers could not be handled over the API, when they could not. */
  triggerProblem: string | null;
  /** Triggers an earlier prepare paused and restore-target has not put back yet. */
  paused: TargetChange[];
}

export interface PrepareInputs {
  mapping: Config['mapping'];
  source: PreflightSource;
  preflight: PreflightResult;
  directory: TargetDirectory;
  fallbackInboxId: number | undefined;
  fields: TargetField[] | null;
  meta: TicketMeta;
  triggers: TriggerList;
  /** Tags the target has, among those the mapping adds (lower-cased names). */
  existingTags: Set<string>;
  /** The changes staging recorded for this target. */
  history: TargetChange[];
}

const lc = (s: string) => s.trim().toLowerCase();

/** The inboxes the staged tickets land in (routed by name, else the fallback), as target inboxes. */
function landingInboxes(inputs: PrepareInputs): Named[] {
  const out = new Map<number, Named>();
  const byName = (name: string) => inputs.directory.inboxes.find((i) => lc(i.name ?? '') === lc(name));
  for (const i of inputs.source.values?.inboxes ?? []) {
    const inbox = i.name === null ? inputs.directory.inboxes.find((x) => x.id === inputs.fallbackInboxId) : byName(i.name);
    if (inbox) out.set(inbox.id, inbox);
  }
  if (out.size === 0) {
    const fallback = inputs.directory.inboxes.find((x) => x.id === inputs.fallbackInboxId);
    if (fallback) out.set(fallback.id, fallback);
  }
  return [...out.values()];
}

/** The tags the mapping itself adds to tickets (extra tags, group tags): created up front so they are there, named as the mapping says. */
export function mappingTags(m: Config['mapping'], groups: PreflightSource['groups']): string[] {
  const tags = [...m.extraTags];
  if (m.enrich.groups === 'tag' || m.enrich.groups === 'both') for (const g of groups.filter((x) => !x.deleted)) tags.push(`${m.enrich.groupTagPrefix}${g.name}`);
  const seen = new Set<string>();
  return tags.filter((t) => !seen.has(lc(t)) && seen.add(lc(t)));
}

/** Inbox names the mapping routes to (rules, default, groups → inboxes) and the staged tickets land in. */
function routedInboxNames(inputs: PrepareInputs): string[] {
  const m = inputs.mapping;
  const names = [m.inboxes.default, ...m.inboxes.rules.map((r) => r.inbox), ...(inputs.source.values?.inboxes ?? []).map((i) => i.name)];
  if (m.enrich.groups === 'inbox' || m.enrich.groups === 'both') names.push(...inputs.source.groups.filter((g) => !g.deleted).map((g) => g.name));
  const seen = new Set<string>();
  return names.filter((n): n is string => typeof n === 'string' && n.trim() !== '' && !seen.has(lc(n)) && Boolean(seen.add(lc(n))));
}

export function planPreparation(inputs: PrepareInputs): PreparePlan {
  const changes: PlannedChange[] = [];
  const manual: string[] = [];
  const landing = landingInboxes(inputs);
  const landingIds = landing.map((i) => i.id);
  const landingNames = landing.map((i) => i.name ?? `#${i.id}`);
  const inboxName = (id: number) => inputs.directory.inboxes.find((i) => i.id === id)?.name ?? `#${id}`;

  // Statuses, priorities, types the target lacks (issue 16.1's list).
  for (const v of inputs.preflight.missingValues) {
    if (v.kind === 'status') changes.push({ kind: 'ticket-status', key: `ticket-status:${lc(v.name)}`, name: v.name, tickets: v.tickets });
    else if (v.kind === 'priority') changes.push({ kind: 'ticket-priority', key: `ticket-priority:${lc(v.name)}`, name: v.name, tickets: v.tickets });
    else {
      // A new type is enabled where its tickets land (every landing inbox when none carries it yet).
      const own = (inputs.source.values?.types ?? []).filter((t) => lc(t.name) === lc(v.name))
        .map((t) => (t.inbox === null ? inputs.fallbackInboxId : inputs.directory.inboxes.find((i) => lc(i.name ?? '') === lc(t.inbox!))?.id))
        .filter((id): id is number => id !== undefined);
      const ids = [...new Set(own.length > 0 ? own : landingIds)];
      changes.push({ kind: 'ticket-type', key: `ticket-type:${lc(v.name)}`, name: v.name, inboxIds: ids, inboxNames: ids.map(inboxName), tickets: v.tickets });
    }
  }
  const gapsByType = new Map<number, { type: (typeof inputs.preflight.typeInboxGaps)[number]['type']; add: Named[] }>();
  for (const g of inputs.preflight.typeInboxGaps) {
    const e = gapsByType.get(g.type.id) ?? { type: g.type, add: [] };
    e.add.push(g.inbox);
    gapsByType.set(g.type.id, e);
  }
  for (const { type, add } of gapsByType.values()) {
    changes.push({
      kind: 'ticket-type-inboxes', key: `ticket-type-inboxes:${type.id}`, typeId: type.id, name: type.name,
      inboxIds: [...new Set([...(type.inboxIds ?? []), ...add.map((i) => i.id)])], addInboxNames: add.map((i) => i.name ?? `#${i.id}`),
      enabledForFutureInboxes: type.enabledForFutureInboxes, displayOrder: type.displayOrder,
    });
  }

  // Custom fields and their options (R10).
  if (inputs.fields) {
    for (const need of fieldNeeds(inputs.mapping, inputs.source.fields, inputs.source.fieldValues ?? [])) {
      const field = targetFieldFor(need, inputs.fields);
      if (field) {
        for (const o of missingOptions(need, field)) {
          changes.push({ kind: 'custom-field-option', key: `custom-field-option:${field.id}:${lc(o.name)}`, fieldId: field.id, fieldLabel: field.agentLabel, name: o.name, tickets: o.tickets, sourceFieldId: need.source.sourceId, sourceName: need.source.name });
        }
        continue;
      }
      if (need.targetId !== null) {
        manual.push(`custom field "${need.source.name}": the mapping pins target field id ${need.targetId}, which the target does not have; fix customFields[].targetId (prepare creates fields by name only)`);
        continue;
      }
      if (OPTION_KINDS.has(need.kind) && need.options.length === 0) {
        manual.push(`custom field "${need.targetName}": a ${need.kind} with no option to give it (the source lists none and no staged ticket carries a value); create it by hand or drop it (drop: true)`);
        continue;
      }
      if (landingIds.length === 0) {
        manual.push(`custom field "${need.targetName}": the target has no inbox to enable it for; create the inbox first`);
        continue;
      }
      changes.push({
        kind: 'custom-field', key: `custom-field:${lc(need.targetName)}`, label: need.targetName, fieldKind: need.kind,
        options: OPTION_KINDS.has(need.kind) ? need.options : [], inboxIds: landingIds, inboxNames: landingNames,
        sourceFieldId: need.source.sourceId, sourceName: need.source.name,
      });
    }
  } else {
    manual.push('the target\'s custom fields could not be read: create the fields the mapping names by hand (Settings › Custom fields)');
  }

  for (const name of mappingTags(inputs.mapping, inputs.source.groups)) {
    if (!inputs.existingTags.has(lc(name))) changes.push({ kind: 'tag', key: `tag:${lc(name)}`, name });
  }

  // Triggers: pause the ones that would fire on imported tickets.
  let triggerProblem: string | null = null;
  if (inputs.triggers.ok) {
    for (const t of firingTriggers(inputs.triggers.triggers)) {
      changes.push({ kind: 'pause-trigger', key: `pause-trigger:${t.id}`, triggerId: t.id, name: t.name, trigger: t });
    }
  } else {
    triggerProblem = `the target's triggers could not be read over the API (${inputs.triggers.why})`;
    manual.push(`${triggerProblem}: turn every automatic trigger off by hand (Settings › Triggers, the Active toggle) and back on after the run`);
  }
  const paused = inputs.history.filter((c) => c.kind === 'pause-trigger' && c.state === 'done');

  // Never made by deskport: agents accept an invitation, inboxes need mail routing.
  for (const a of inputs.preflight.unmatchedAgents) {
    manual.push(`agent ${a.email ?? `#${a.sourceId} (no email)`} is not in the target: invite them (Settings › Users › Invite user, with their inboxes) and ask them to accept the emailed invitation before the run; deskport never creates agents`);
  }
  const targetInboxes = new Set(inputs.directory.inboxes.map((i) => lc(i.name ?? '')));
  for (const name of routedInboxNames(inputs)) {
    if (!targetInboxes.has(lc(name))) manual.push(`inbox "${name}" is not in the target: create it (Settings › Inboxes › Add inbox) and set up its email forwarding, or change the routing; deskport never creates inboxes`);
  }
  return { changes, manual, triggerProblem, paused };
}

/** Option names for one line: the first dozen, then how many more. */
function listed(names: string[], max = 12): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} … and ${names.length - max} more`;
}

/** What a change did, once made: short, with the id. */
export function describeDone(c: PlannedChange, id: string | null): string {
  const at = id ? ` (id ${id})` : '';
  switch (c.kind) {
    case 'custom-field': return `created custom field "${c.label}"${at}`;
    case 'custom-field-option': return `added option "${c.name}" to custom field "${c.fieldLabel}"${at}`;
    case 'ticket-status': return `created ticket status "${c.name}"${at}`;
    case 'ticket-priority': return `created priority "${c.name}"${at}`;
    case 'ticket-type': return `created ticket type "${c.name}"${at}`;
    case 'ticket-type-inboxes': return `enabled ticket type "${c.name}" (${c.typeId}) for ${c.addInboxNames.map((n) => `"${n}"`).join(', ')}`;
    case 'tag': return `created tag "${c.name}"${at}`;
    case 'pause-trigger': return `paused trigger "${c.name}" (${c.triggerId}): ${c.trigger.state} → ${PAUSED_STATE}, read back`;
  }
}

/** One line per change, as the dry run and --apply print them. */
export function describeChange(c: PlannedChange): string {
  const used = (n: number) => (n > 0 ? `; ${n} staged ticket${n === 1 ? '' : 's'}` : '');
  switch (c.kind) {
    case 'custom-field':
      return `create custom field "${c.label}" (${c.fieldKind}${c.options.length > 0 ? `; options: ${listed(c.options)}` : ''}; inboxes: ${c.inboxNames.join(', ')}) for source field "${c.sourceName}" (${c.sourceFieldId})`;
    case 'custom-field-option': return `add option "${c.name}" to custom field "${c.fieldLabel}" (${c.fieldId}${used(c.tickets)})`;
    case 'ticket-status': return `create ticket status "${c.name}"${c.tickets > 0 ? ` (${c.tickets} staged ticket${c.tickets === 1 ? '' : 's'})` : ''}`;
    case 'ticket-priority': return `create priority "${c.name}"${c.tickets > 0 ? ` (${c.tickets} staged ticket${c.tickets === 1 ? '' : 's'})` : ''}`;
    case 'ticket-type': return `create ticket type "${c.name}" (inboxes: ${c.inboxNames.join(', ') || 'none'}${used(c.tickets)})`;
    case 'ticket-type-inboxes': return `enable ticket type "${c.name}" (${c.typeId}) for inbox${c.addInboxNames.length === 1 ? '' : 'es'} ${c.addInboxNames.map((n) => `"${n}"`).join(', ')}`;
    case 'tag': return `create tag "${c.name}"`;
    case 'pause-trigger': return `pause trigger "${c.name}" (${c.triggerId}, ${c.trigger.type || 'automatic'}): state ${c.trigger.state} → ${PAUSED_STATE}; npx deskport restore-target puts it back`;
  }
}
