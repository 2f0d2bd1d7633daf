import type { Config } from '../core/config.ts';
import type { StagedTargetValues } from '../staging/index.ts';
import type { Named } from './target-directory.ts';
import type { TargetTicketType } from './ticket-meta.ts';

/**
 * Issue 16.1 (R10, R11, R16): every status, priority and ticket type the mapping names — in its
 * tables and defaults, and as the staged tickets actually carry them — must exist in the target,
 * and a ticket type must be enabled for the inbox each of its tickets lands in; otherwise the
 * import drops the value ("unknown type … ignored") and the ticket arrives without it. Pure:
 * the caller reads the lists.
 */

export type TicketValueKind = 'status' | 'priority' | 'type';
export interface MissingTicketValue {
  kind: TicketValueKind;
  /** As the mapping (or the staged tickets) spell it. */
  name: string;
  /** Where the mapping names it: `statuses.map.hold`, `types.default`… */
  refs: string[];
  /** Staged tickets that carry it. */
  tickets: number;
}
export interface TypeInboxGap { type: TargetTicketType; inbox: Named; tickets: number }
export interface TicketValueCheck {
  missing: MissingTicketValue[];
  typeInboxGaps: TypeInboxGap[];
  errors: string[];
  warnings: string[];
}
export interface TicketValueTarget {
  statuses: string[];
  priorities: Named[] | null;
  types: TargetTicketType[] | null;
  inboxes: Named[];
  /** The inbox tickets with no routed inbox land in (the import's fallbackInboxId). */
  fallbackInboxId: number | undefined;
}

const lc = (s: string) => s.trim().toLowerCase();
const LABEL: Record<TicketValueKind, { what: string; section: string; fix: string }> = {
  status: { what: 'ticket status', section: 'statuses', fix: 'a status the target has' },
  priority: { what: 'priority', section: 'priorities', fix: 'a priority the target has' },
  type: { what: 'ticket type', section: 'types', fix: 'a type the target has' },
};

function referenced(kind: TicketValueKind, map: Record<string, string>, fallback: string | null, staged: { name: string; tickets: number }[]): Map<string, MissingTicketValue> {
  const out = new Map<string, MissingTicketValue>();
  const add = (name: string, ref: string | null, tickets: number) => {
    if (!name.trim()) return;
    const v = out.get(lc(name)) ?? { kind, name, refs: [], tickets: 0 };
    if (ref) v.refs.push(ref);
    v.tickets += tickets;
    out.set(lc(name), v);
  };
  const { section } = LABEL[kind];
  for (const [from, to] of Object.entries(map)) add(to, `${section}.map.${from}`, 0);
  if (fallback) add(fallback, `${section}.default`, 0);
  for (const s of staged) add(s.name, null, s.tickets);
  return out;
}

export function missingValueMessage(v: MissingTicketValue): string {
  const { what, section, fix } = LABEL[v.kind];
  const where = [v.refs.join(', '), v.tickets > 0 ? `${v.tickets} staged ticket${v.tickets === 1 ? '' : 's'}` : 'no staged ticket uses it yet'].filter(Boolean).join('; ');
  return `${what} "${v.name}" (${where}): the target has no such ${what}; create it in Teamwork Desk (npx deskport prepare can), or map it to ${fix} (${section}.map)`;
}

export function typeInboxMessage(g: TypeInboxGap): string {
  return `ticket type "${g.type.name}" is not enabled for inbox "${g.inbox.name ?? `#${g.inbox.id}`}" (${g.tickets} staged ticket${g.tickets === 1 ? '' : 's'} land there): the import would drop it; enable it for that inbox in Teamwork Desk (npx deskport prepare can), or map or route those tickets differently`;
}

export function checkTicketValues(m: Config['mapping'], staged: StagedTargetValues, target: TicketValueTarget): TicketValueCheck {
  const errors: string[] = [];
  const warnings: string[] = [];
  const missing: MissingTicketValue[] = [];
  const typeStaged = [...staged.types.reduce((acc, t) => acc.set(lc(t.name), { name: t.name, tickets: (acc.get(lc(t.name))?.tickets ?? 0) + t.tickets }), new Map<string, { name: string; tickets: number }>()).values()];
  const lists: [TicketValueKind, string[] | null, Map<string, MissingTicketValue>][] = [
    ['status', target.statuses, referenced('status', m.statusMap, m.defaultStatus, staged.statuses)],
    ['priority', target.priorities?.map((p) => p.name ?? '') ?? null, referenced('priority', m.priorityMap, m.defaultPriority, staged.priorities)],
    ['type', target.types?.map((t) => t.name) ?? null, referenced('type', m.typeMap, m.defaultType, typeStaged)],
  ];
  for (const [kind, names, wanted] of lists) {
    if (names === null) {
      warnings.push(`the target's ${LABEL[kind].section} could not be read: ${LABEL[kind].what} names were not checked`);
      continue;
    }
    const have = new Set(names.map(lc));
    for (const v of wanted.values()) {
      if (have.has(lc(v.name))) continue;
      missing.push(v);
      errors.push(missingValueMessage(v));
    }
  }

  // A type exists but not in the inbox a ticket lands in: the import drops it there too.
  const typeInboxGaps: TypeInboxGap[] = [];
  if (target.types) {
    const byName = new Map(target.types.map((t) => [lc(t.name), t]));
    const gaps = new Map<string, TypeInboxGap>();
    for (const s of staged.types) {
      const type = byName.get(lc(s.name));
      if (!type || type.inboxIds === null) continue;
      const inbox = s.inbox === null
        ? target.inboxes.find((i) => i.id === target.fallbackInboxId)
        : target.inboxes.find((i) => lc(i.name ?? '') === lc(s.inbox!));
      if (!inbox || type.inboxIds.includes(inbox.id)) continue; // a missing inbox is reported as such
      const key = `${type.id}:${inbox.id}`;
      const g = gaps.get(key) ?? { type, inbox, tickets: 0 };
      g.tickets += s.tickets;
      gaps.set(key, g);
    }
    for (const g of gaps.values()) {
      typeInboxGaps.push(g);
      errors.push(typeInboxMessage(g));
    }
  }
  return { missing, typeInboxGaps, errors, warnings };
}
