import { escapeHtml } from '../core/html.ts';
import type { Config } from '../core/config.ts';
import type { CanonicalComment, CanonicalFieldValue, CanonicalTicket, CanonicalTicketEvent } from '../staging/canonical.ts';
import type { CustomFieldRule } from '../core/mapping-file.ts';
import type { RefLookup } from './refs.ts';
import { groupName } from './routing.ts';

type Mapping = Config['mapping'];

/** R15 extra tags, R4 groups → tags, R14 ITSM type tags; source tags first, no duplicates. */
export function ticketTags(t: CanonicalTicket, m: Mapping, refs: RefLookup): string[] {
  const tags = [...t.tags];
  if (m.enrich.groups === 'tag' || m.enrich.groups === 'both') {
    const g = groupName(t, refs);
    if (g) tags.push(`${m.enrich.groupTagPrefix}${g}`);
  }
  if (m.enrich.itsm && t.sourceType && ITSM_TYPES.has(t.sourceType)) {
    tags.push(`itsm:${t.sourceType}`);
    if (t.problemSourceId) tags.push(`itsm:problem-${t.problemSourceId}`);
  }
  tags.push(...m.extraTags);
  const seen = new Set<string>();
  return tags.filter((x) => {
    const k = x.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const ITSM_TYPES = new Set(['problem', 'incident', 'change']);

/** R10: names each field, maps its value through the rule's value map, or drops it on purpose. */
export function mapCustomFields(fields: CanonicalFieldValue[], rules: CustomFieldRule[], refs: RefLookup): CanonicalFieldValue[] {
  return fields.map((f) => {
    const name = f.name ?? refs.field(f.fieldSourceId)?.name ?? null;
    const rule = rules.find((r) => r.source === f.fieldSourceId || (name !== null && r.source.toLowerCase() === name.toLowerCase()));
    if (!rule) return { ...f, name, target: name === null ? null : { name, id: null } };
    if (rule.drop) return { ...f, name, target: null };
    const mapOne = (v: unknown) => (Object.hasOwn(rule.values, String(v)) ? rule.values[String(v)] : v);
    const value = Array.isArray(f.value) ? f.value.map(mapOne) : mapOne(f.value);
    return { ...f, name, value, target: { name: rule.target ?? name, id: rule.targetId ?? null } };
  });
}

/** R2 `always`, R5 inline-image disposition: per-comment rendering choices for the loader. */
export function enrichComment(c: CanonicalComment, m: Mapping): CanonicalComment {
  return {
    ...c,
    authorHeader: m.enrich.authorHeader === 'always',
    attachments: c.attachments.map((a) => ({ ...a, disposition: a.inline && m.enrich.inlineImages === 'inline' ? 'inline' : 'attachment' })),
  };
}

const EVENT_TEXT: Record<CanonicalTicketEvent['kind'], string> = {
  status: 'Status changed', assignee: 'Reassigned', group: 'Group changed', merge: 'Merged', other: 'Changed',
};


/**
 * R14: the ticket's events (status changes, reassignments, merges) as one private note after its
 * comments, so the history the target cannot store as events survives as text.
 */
export function eventsNote(t: CanonicalTicket, refs: RefLookup): CanonicalComment | null {
  if (t.events.length === 0) return null;
  const who = (id: string | null) => (id ? refs.personEmail(id) || `user ${id}` : 'system');
  const label = (e: CanonicalTicketEvent, v: string | null) => {
    if (v === null) return '(none)';
    if (e.kind === 'assignee') return who(v);
    if (e.kind === 'group') return refs.groupName(v) ?? `group ${v}`;
    return v;
  };
  const items = [...t.events].sort((a, b) => a.at.localeCompare(b.at)).map((e) => {
    const change = e.kind === 'merge' ? '' : `: ${escapeHtml(label(e, e.from))} → ${escapeHtml(label(e, e.to))}`;
    return `<li>${escapeHtml(e.at)} — ${EVENT_TEXT[e.kind]}${change} (by ${escapeHtml(who(e.actorSourceId))})</li>`;
  });
  const last = t.events.reduce((a, e) => (e.at > a ? e.at : a), t.createdAt);
  return {
    sourceId: `${t.sourceId}-events`,
    ticketSourceId: t.sourceId,
    position: t.commentCount,
    authorSourceId: null,
    bodyHtml: `<p><strong>Ticket history (migrated by deskport)</strong></p><ul>${items.join('')}</ul>`,
    public: false,
    createdAt: last,
    attachments: [],
    authorHeader: false,
    synthetic: true,
  };
}
