import type { Config } from '../core/config.ts';
import type { CanonicalComment, CanonicalTicket } from '../staging/canonical.ts';
import { enrichComment, eventsNote, mapCustomFields, ticketTags } from './enrich.ts';
import { filterTicket } from './filters.ts';
import type { RefLookup } from './refs.ts';
import { groupName, routeTicket } from './routing.ts';

/**
 * The source-independent half of transform: a canonical ticket as the source mapper made it,
 * shaped by the mapping — names resolved, custom fields mapped, filters, routing, tags — plus the
 * synthetic comments the enrichments add. Filters see the source's tags (before extra tags).
 */
export function applyTicketMapping(t: CanonicalTicket, m: Config['mapping'], refs: RefLookup): { ticket: CanonicalTicket; extra: CanonicalComment[] } {
  const base: CanonicalTicket = {
    ...t,
    groupName: groupName(t, refs),
    customFields: mapCustomFields(t.customFields, m.customFields, refs),
    companySourceId: m.enrich.organizations ? t.companySourceId : null,
  };
  const skip = filterTicket(base, m.filters, refs);
  const ticket: CanonicalTicket = {
    ...base,
    inbox: routeTicket(base, m.inboxes, m.enrich, refs),
    skip,
    tags: ticketTags(base, m, refs),
    ccHeader: m.enrich.ccs === 'header' && base.ccSourceIds.length > 0,
  };
  const note = m.enrich.ticketEvents ? eventsNote(ticket, refs) : null;
  return { ticket, extra: note ? [note] : [] };
}

export function applyCommentMapping(c: CanonicalComment, m: Config['mapping']): CanonicalComment {
  return enrichComment(c, m);
}
