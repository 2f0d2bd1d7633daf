import type { CanonicalTicket } from '../staging/canonical.ts';
import { fieldValues } from './filters.ts';
import type { EnrichOptions, InboxOptions, RouteWhen } from '../core/mapping-file.ts';
import type { RefLookup } from './refs.ts';

/**
 * R13: several inboxes in one run. Rules are tried in order, the first whose every condition
 * matches names the inbox; then groups → inboxes (R4) when asked; then the default inbox; else
 * null (the loader's fallback inbox). Names are matched case-insensitively, ids exactly.
 */
export function routeTicket(t: CanonicalTicket, inboxes: InboxOptions, enrich: Pick<EnrichOptions, 'groups'>, refs: RefLookup): CanonicalTicket['inbox'] {
  for (const [i, rule] of inboxes.rules.entries()) {
    if (matches(t, rule.when, refs)) return { name: rule.inbox, rule: `rule ${i + 1} (${describe(rule.when)})` };
  }
  if (enrich.groups === 'inbox' || enrich.groups === 'both') {
    const group = groupName(t, refs);
    if (group) return { name: group, rule: 'group → inbox' };
  }
  if (inboxes.default) return { name: inboxes.default, rule: 'default' };
  return null;
}

export function groupName(t: CanonicalTicket, refs: RefLookup): string | null {
  return t.groupName ?? (t.groupSourceId ? refs.groupName(t.groupSourceId) ?? null : null);
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function matches(t: CanonicalTicket, w: RouteWhen, refs: RefLookup): boolean {
  if (w.group !== undefined) {
    const name = groupName(t, refs);
    if (!(t.groupSourceId === w.group || (name !== null && same(name, w.group)))) return false;
  }
  if (w.brand !== undefined && t.brandSourceId !== w.brand) return false;
  if (w.tag !== undefined && !t.tags.some((x) => same(x, w.tag!))) return false;
  if (w.field !== undefined && !fieldValues(t, w.field.name, refs).includes(String(w.field.equals))) return false;
  if (w.mailbox !== undefined && !(t.sourceMailbox !== null && same(t.sourceMailbox, w.mailbox))) return false;
  return true;
}

function describe(w: RouteWhen): string {
  const parts: string[] = [];
  if (w.group !== undefined) parts.push(`group=${w.group}`);
  if (w.brand !== undefined) parts.push(`brand=${w.brand}`);
  if (w.tag !== undefined) parts.push(`tag=${w.tag}`);
  if (w.field !== undefined) parts.push(`field ${w.field.name}=${w.field.equals}`);
  if (w.mailbox !== undefined) parts.push(`mailbox=${w.mailbox}`);
  return parts.join(', ');
}
