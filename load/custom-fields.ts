import type { CanonicalCustomField, CanonicalTicket } from '../staging/canonical.ts';
import { escapeHtml } from '../core/html.ts';

/** A custom field definition of the target, as `GET /customfields.json?includes=customfieldoptions` gives it. */
export interface TargetField {
  id: number;
  agentLabel: string;
  kind: string;
  enabled: boolean;
  /** Inboxes the field is enabled for; empty: unknown, so not checked. */
  inboxIds: number[];
  options: { id: number; name: string }[];
}

/** One value as the v2 ticket PATCH takes it (R10): `{id, meta: {value}}`, an option id for drop-downs. */
export interface FieldValue { id: number; meta: { value: unknown } }
/** A value deskport could not set, kept visibly on the ticket instead of dropped. */
export interface UnsetField { name: string; value: unknown; why: string }

const lc = (s: string) => s.trim().toLowerCase();

/**
 * Resolves a ticket's mapped custom-field values against the target's fields: by explicit id or by
 * label, drop-down and multi-select values by option name (the source value, or the source
 * option's label), other kinds converted to what the field takes. Values left empty in the source
 * are not sent (a checkbox left unticked included), so only tickets with something to set cost a call.
 */
export function resolveFieldValues(
  t: CanonicalTicket, fields: TargetField[], sourceFields: Map<string, CanonicalCustomField>, inboxId: number | undefined,
): { values: FieldValue[]; unset: UnsetField[] } {
  const values: FieldValue[] = [];
  const unset: UnsetField[] = [];
  for (const f of t.customFields) {
    if (!f.target || isEmpty(f.value)) continue; // dropped on purpose by the mapping, or nothing to set
    const name = f.target.name ?? f.name ?? `field ${f.fieldSourceId}`;
    const field = f.target.id != null ? fields.find((x) => x.id === f.target!.id) : fields.find((x) => lc(x.agentLabel) === lc(name));
    const miss = (why: string) => unset.push({ name, value: f.value, why });
    if (!field) { miss('the target has no such field'); continue; }
    if (!field.enabled) { miss('the field is disabled in the target'); continue; }
    if (inboxId !== undefined && field.inboxIds.length > 0 && !field.inboxIds.includes(inboxId)) { miss('the field is not enabled for the ticket\'s inbox'); continue; }
    const labels = sourceFields.get(f.fieldSourceId)?.options ?? [];
    const converted = convert(field, f.value, labels);
    if ('problem' in converted) miss(converted.problem);
    else values.push({ id: field.id, meta: { value: converted.value } });
  }
  return { values, unset };
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || v === '' || v === false || (Array.isArray(v) && v.length === 0);
}

function convert(field: TargetField, value: unknown, labels: { value: string; name: string }[]): { value: unknown } | { problem: string } {
  const option = (v: unknown): number | null => {
    const s = lc(String(v));
    const label = labels.find((o) => lc(o.value) === s)?.name;
    const found = field.options.find((o) => lc(o.name) === s) ?? (label ? field.options.find((o) => lc(o.name) === lc(label)) : undefined);
    return found?.id ?? null;
  };
  switch (field.kind) {
    case 'dropdown': {
      const id = option(Array.isArray(value) ? value[0] : value);
      return id !== null ? { value: id } : { problem: `no option "${String(value)}"` };
    }
    case 'multiselect': {
      const list = Array.isArray(value) ? value : [value];
      const ids = list.map(option);
      const missing = list.filter((_, i) => ids[i] === null);
      return missing.length > 0 ? { problem: `no option ${missing.map((m) => `"${String(m)}"`).join(', ')}` } : { value: ids };
    }
    case 'checkbox': return { value: value === true || ['true', '1', 'yes'].includes(lc(String(value))) };
    case 'number': {
      const n = Number(value);
      return Number.isFinite(n) ? { value: n } : { problem: `"${String(value)}" is not a number` };
    }
    case 'date': {
      const m = /^\d{4}-\d{2}-\d{2}/.exec(String(value));
      return m ? { value: m[0] } : { problem: `"${String(value)}" is not a date` };
    }
    default: return { value: Array.isArray(value) ? value.join(', ') : String(value) };
  }
}

/**
 * R10 for an import payload: the values the target can hold (set by a PATCH after the import,
 * which has no field for them) are returned; the others are written at the end of the first
 * message, so nothing is silently dropped.
 */
export function fieldValuesForImport(
  payload: { threads: { body: string }[] }, t: CanonicalTicket, fields: TargetField[], sourceFields: Map<string, CanonicalCustomField>, inboxId: number | undefined,
): FieldValue[] {
  const { values, unset } = resolveFieldValues(t, fields, sourceFields, inboxId);
  if (unset.length > 0 && payload.threads[0]) payload.threads[0].body += unsetFieldsHtml(unset);
  return values;
}

/** The values that could not be set, as a line for the end of a message body. */
export function unsetFieldsHtml(unset: UnsetField[]): string {
  const items = unset.map((u) => `${escapeHtml(u.name)}: ${escapeHtml(Array.isArray(u.value) ? u.value.join(', ') : String(u.value))} (${escapeHtml(u.why)})`);
  return `<p><em>Custom fields not set in Teamwork Desk: ${items.join('; ')}</em></p>`;
}

interface FieldList { id: number; agentLabel?: string; name?: string; kind?: string; enabled?: boolean; inboxes?: { id: number }[]; options?: { id: number }[] }

/** The target's fields from a list page and its sideloaded options. */
export function targetFieldsFrom(fields: FieldList[], options: { id: number; name?: string }[]): TargetField[] {
  const optionName = new Map(options.map((o) => [o.id, o.name ?? '']));
  return fields.map((f) => ({
    id: f.id,
    agentLabel: f.agentLabel ?? f.name ?? '',
    kind: f.kind ?? 'text',
    enabled: f.enabled !== false,
    inboxIds: (f.inboxes ?? []).map((i) => i.id),
    options: (f.options ?? []).map((o) => ({ id: o.id, name: optionName.get(o.id) ?? '' })),
  }));
}
