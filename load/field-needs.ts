import type { Config } from '../core/config.ts';
import type { CanonicalCustomField } from '../staging/canonical.ts';
import type { TargetField } from './custom-fields.ts';

/**
 * What each migrated custom field needs in the target (R10), source-agnostic: it reads only the
 * staged canonical field definitions (name, type, option values and labels) and the mapping.
 * `check` and `transform --preflight` report a field or an option the target lacks; `prepare`
 * creates them.
 */

/** The custom-field kinds the v1 customfields endpoint is known to take (teamwork-desk-api.md §9; only "dropdown" is shown by Teamwork). */
export type TargetFieldKind = 'dropdown' | 'multiselect' | 'checkbox' | 'number' | 'date' | 'text';
export const OPTION_KINDS: ReadonlySet<string> = new Set(['dropdown', 'multiselect']);

/**
 * A canonical field type (the source's own word for it) → the target kind. The words of the
 * sources deskport reads; anything else is text, which holds any value.
 */
const KIND_OF: Record<string, TargetFieldKind> = {
  tagger: 'dropdown', dropdown: 'dropdown', drop_down: 'dropdown', select: 'dropdown', single_select: 'dropdown', radio: 'dropdown',
  multiselect: 'multiselect', multi_select: 'multiselect', multiple_choice: 'multiselect', multiselect_dropdown: 'multiselect',
  checkbox: 'checkbox', boolean: 'checkbox', bool: 'checkbox',
  integer: 'number', decimal: 'number', number: 'number', numeric: 'number',
  date: 'date',
};

export function targetKindOf(sourceType: string): TargetFieldKind {
  return KIND_OF[sourceType.trim().toLowerCase()] ?? 'text';
}

export interface FieldNeed {
  source: CanonicalCustomField;
  /** The target field by label (the rule's `target`, else the source name). */
  targetName: string;
  /** The rule's `targetId`, when it pins one. */
  targetId: number | null;
  /** The kind a field created for it gets. */
  kind: TargetFieldKind;
  /** The option names a field created for it gets: the source's options through the value map, then staged values. */
  options: string[];
  /** The option names the staged tickets use (the raw values behind each, how many tickets), by lower-cased name. */
  used: Map<string, { name: string; values: string[]; tickets: number }>;
}

const lc = (s: string) => s.trim().toLowerCase();

/** The option a value stands for: the source option's label when the value is an option value, else the value itself. */
export function optionNameFor(value: string, field: CanonicalCustomField): string {
  return field.options.find((o) => lc(o.value) === lc(value))?.name ?? value;
}

/** Every source field the mapping migrates (not dropped, not a built-in), with what it needs. */
export function fieldNeeds(m: Config['mapping'], sourceFields: CanonicalCustomField[], stagedValues: { fieldSourceId: string; value: string; tickets: number }[]): FieldNeed[] {
  const out: FieldNeed[] = [];
  for (const f of sourceFields.filter((x) => !x.system && x.active)) {
    const rule = m.customFields.find((r) => r.source === f.sourceId || lc(r.source) === lc(f.name));
    if (rule?.drop) continue;
    const kind = targetKindOf(f.type);
    const used: FieldNeed['used'] = new Map();
    for (const v of stagedValues.filter((x) => x.fieldSourceId === f.sourceId)) {
      const name = optionNameFor(v.value, f);
      const u = used.get(lc(name)) ?? { name, values: [], tickets: 0 };
      u.values.push(v.value);
      u.tickets += v.tickets;
      used.set(lc(name), u);
    }
    const options: string[] = [];
    const seen = new Set<string>();
    const add = (name: string | null | undefined) => {
      if (name === null || name === undefined || !String(name).trim() || seen.has(lc(String(name)))) return;
      seen.add(lc(String(name)));
      options.push(String(name));
    };
    // A mapped value stands for the option it names (an identity map keeps the source label).
    for (const o of f.options) {
      const mapped = rule && Object.hasOwn(rule.values, o.value) ? rule.values[o.value] : o.value;
      add(mapped === null || mapped === undefined ? null : optionNameFor(String(mapped), f));
    }
    for (const u of used.values()) add(u.name);
    out.push({ source: f, targetName: rule?.target ?? f.name, targetId: rule?.targetId ?? null, kind, options, used });
  }
  return out;
}

/** The target field a need resolves to, as the loader resolves it (by id, else by label). */
export function targetFieldFor(need: FieldNeed, fields: TargetField[]): TargetField | undefined {
  return need.targetId !== null ? fields.find((x) => x.id === need.targetId) : fields.find((x) => lc(x.agentLabel) === lc(need.targetName));
}

/** The option names staged tickets use that an existing option field lacks (a value matches an option by its own name or its label, as the loader matches). */
export function missingOptions(need: FieldNeed, field: TargetField): { name: string; tickets: number }[] {
  if (!OPTION_KINDS.has(field.kind)) return [];
  const have = new Set(field.options.map((o) => lc(o.name)));
  return [...need.used.values()].filter((u) => !have.has(lc(u.name)) && !u.values.some((v) => have.has(lc(v))))
    .map((u) => ({ name: u.name, tickets: u.tickets }));
}
