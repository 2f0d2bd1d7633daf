import type { CanonicalTicket } from '../staging/canonical.ts';
import type { FilterOptions } from '../core/mapping-file.ts';
import type { RefLookup } from './refs.ts';

/**
 * R12 filters. A ticket is migrated only when it passes every filter; the first one it fails
 * names the rule, and the rule text is the same for every ticket it excludes (the report groups
 * skipped rows by it), e.g. `created_at before 2024-01-01`.
 */
export function filterTicket(t: CanonicalTicket, f: FilterOptions, refs: RefLookup): { rule: string } | null {
  const fail = (rule: string) => ({ rule });
  if (f.ticketIds?.include && !f.ticketIds.include.includes(t.sourceId)) return fail(`ticket id not in [${f.ticketIds.include.join(', ')}]`);
  if (f.ticketIds?.exclude?.includes(t.sourceId)) return fail(`ticket id in excluded [${f.ticketIds.exclude.join(', ')}]`);

  const created = Date.parse(t.createdAt);
  if (f.createdFrom && created < Date.parse(f.createdFrom)) return fail(`created_at before ${f.createdFrom}`);
  if (f.createdBefore && created >= Date.parse(f.createdBefore)) return fail(`created_at on or after ${f.createdBefore}`);

  if (f.tags) {
    const tags = new Set(t.tags.map((x) => x.toLowerCase()));
    const has = (x: string) => tags.has(x.toLowerCase());
    if (f.tags.any && !f.tags.any.some(has)) return fail(`tags: none of [${f.tags.any.join(', ')}]`);
    if (f.tags.all && !f.tags.all.every(has)) return fail(`tags: not all of [${f.tags.all.join(', ')}]`);
    if (f.tags.none && f.tags.none.some(has)) return fail(`tags: has one of [${f.tags.none.join(', ')}]`);
  }

  for (const cond of f.fields ?? []) {
    const values = fieldValues(t, cond.field, refs);
    if (cond.in && !values.some((v) => cond.in!.map(String).includes(v))) return fail(`field ${cond.field}: not in [${cond.in.join(', ')}]`);
    if (cond.notIn && values.some((v) => cond.notIn!.map(String).includes(v))) return fail(`field ${cond.field}: in excluded [${cond.notIn.join(', ')}]`);
  }

  if (f.organizations) {
    const org = t.companySourceId;
    const name = org ? refs.companyName(org) : undefined;
    const matches = (list: string[]) => org !== null && list.some((x) => x === org || (name !== undefined && x.toLowerCase() === name.toLowerCase()));
    if (f.organizations.include && !matches(f.organizations.include)) return fail(`organization not in [${f.organizations.include.join(', ')}]`);
    if (f.organizations.exclude && matches(f.organizations.exclude)) return fail(`organization in excluded [${f.organizations.exclude.join(', ')}]`);
  }

  if (f.assignees) {
    const id = t.assigneeSourceId;
    const email = id ? refs.personEmail(id)?.toLowerCase() : undefined;
    const matches = (list: string[]) => list.some((x) => (id === null ? x === 'unassigned' : x === id || (email !== undefined && x.toLowerCase() === email)));
    if (f.assignees.include && !matches(f.assignees.include)) return fail(`assignee not in [${f.assignees.include.join(', ')}]`);
    if (f.assignees.exclude && matches(f.assignees.exclude)) return fail(`assignee in excluded [${f.assignees.exclude.join(', ')}]`);
  }
  return null;
}

/** A ticket's values of one custom field (named by id or name), as strings; multi-selects give several. */
export function fieldValues(t: CanonicalTicket, field: string, refs: RefLookup): string[] {
  const byName = refs.fieldByName(field)?.sourceId;
  const f = t.customFields.find((x) => x.fieldSourceId === field || x.fieldSourceId === byName || (x.name !== null && x.name.toLowerCase() === field.toLowerCase()));
  if (!f || f.value == null) return [];
  return (Array.isArray(f.value) ? f.value : [f.value]).map(String);
}
