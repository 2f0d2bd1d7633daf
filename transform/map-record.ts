import { z } from 'zod';
import type { RawEnvelope } from '../core/bus.ts';
import type { Config } from '../core/config.ts';
import type { RefRow, StagedRow } from '../staging/index.ts';
import { applyCommentMapping, applyTicketMapping } from './apply-mapping.ts';
import type { CanonicalTicket } from '../staging/canonical.ts';
import { mapKbArticle, mapKbCategory, mapKbSection, ZdKbArticle, ZdKbArticleMeta, ZdKbCategory, ZdKbSection } from './kb-zendesk.ts';
import { NO_REFS, type RefLookup } from './refs.ts';
import {
  mapComment, mapGroup, mapOrganization, mapTicket, mapTicketField, mapUser, ZdComment, ZdCommentMeta, ZdGroup, ZdOrganization, ZdTicket,
  ZdTicketField, ZdTicketMeta, ZdUser,
} from './zendesk.ts';

export type MapOutcome =
  /** `extra`: rows an enrichment adds (the ticket-events note). */
  | { kind: 'staged'; row: StagedRow; extra?: StagedRow[] }
  /** Reference data (groups, custom fields): staged in `source_refs`. */
  | { kind: 'ref'; ref: RefRow }
  | { kind: 'ignored' }
  | { kind: 'rejected'; reason: string; path: string | null; sourceId: string | null; parentSourceId: string | null };

const Envelope = z.object({
  runId: z.number().int(),
  source: z.string(),
  entity: z.string(),
  record: z.unknown(),
  meta: z.record(z.string(), z.unknown()).optional(),
});

function firstIssue(err: z.ZodError, prefix: string): { reason: string; path: string } {
  const issue = err.issues[0]!;
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  return { reason: `${path || 'record'}: ${issue.message}`, path };
}

function idOf(record: unknown): string | null {
  const id = (record as { id?: unknown } | null)?.id;
  return typeof id === 'number' || typeof id === 'string' ? String(id) : null;
}

/** Validates one raw Zendesk envelope and maps it to a staged canonical row, or says why not. */
export function mapZendeskEnvelope(raw: unknown, mapping: Config['mapping'], refs: RefLookup = NO_REFS): MapOutcome & { runId?: number } {
  return finishMapping(mapZendeskSource(raw, mapping), mapping, refs);
}

/**
 * The source half: validation and the Zendesk → canonical mapper. Tickets come back before the
 * mapping file's rules are applied (they may need names staged by other topics: `finishMapping`).
 */
export function mapZendeskSource(raw: unknown, mapping: Config['mapping']): MapOutcome & { runId?: number } {
  const env = Envelope.safeParse(raw);
  if (!env.success) return { kind: 'rejected', ...firstIssue(env.error, 'envelope'), sourceId: null, parentSourceId: null };
  const { record, entity, source, runId } = env.data;
  const meta = env.data.meta ?? {};
  // Staging keeps the raw record so a changed mapping can be re-applied without re-extracting.
  const kept = { record, ...(env.data.meta ? { meta } : {}) };
  const reject = (err: z.ZodError, prefix = '') => ({
    kind: 'rejected' as const, ...firstIssue(err, prefix), sourceId: idOf(record),
    parentSourceId: entity === 'comments' && typeof meta.ticketId === 'number' ? String(meta.ticketId) : null, runId,
  });
  switch (entity as RawEnvelope['entity']) {
    case 'organizations': {
      const r = ZdOrganization.safeParse(record);
      return r.success ? { kind: 'staged', runId, row: { entity: 'companies', source, data: mapOrganization(r.data), raw: kept } } : reject(r.error);
    }
    case 'users': {
      const r = ZdUser.safeParse(record);
      return r.success ? { kind: 'staged', runId, row: { entity: 'people', source, data: mapUser(r.data, mapping), raw: kept } } : reject(r.error);
    }
    case 'groups': {
      const r = ZdGroup.safeParse(record);
      return r.success ? { kind: 'ref', runId, ref: { kind: 'groups', source, data: mapGroup(r.data), raw: kept } } : reject(r.error);
    }
    case 'ticket_fields': {
      const r = ZdTicketField.safeParse(record);
      return r.success ? { kind: 'ref', runId, ref: { kind: 'custom_fields', source, data: mapTicketField(r.data), raw: kept } } : reject(r.error);
    }
    case 'tickets': {
      const r = ZdTicket.safeParse(record);
      if (!r.success) return reject(r.error);
      const m = ZdTicketMeta.safeParse(meta);
      if (!m.success) return reject(m.error, 'meta');
      return { kind: 'staged', runId, row: { entity: 'tickets', source, data: mapTicket(r.data, m.data, mapping), raw: kept } };
    }
    case 'comments': {
      const r = ZdComment.safeParse(record);
      if (!r.success) return reject(r.error);
      const m = ZdCommentMeta.safeParse(meta);
      if (!m.success) return reject(m.error, 'meta');
      return { kind: 'staged', runId, row: { entity: 'comments', source, data: applyCommentMapping(mapComment(r.data, m.data), mapping), raw: kept } };
    }
    case 'kb_categories': {
      const r = ZdKbCategory.safeParse(record);
      return r.success ? { kind: 'staged', runId, row: { entity: 'kb_categories', source, data: mapKbCategory(r.data), raw: kept } } : reject(r.error);
    }
    case 'kb_sections': {
      const r = ZdKbSection.safeParse(record);
      return r.success ? { kind: 'staged', runId, row: { entity: 'kb_categories', source, data: mapKbSection(r.data), raw: kept } } : reject(r.error);
    }
    case 'kb_articles': {
      const r = ZdKbArticle.safeParse(record);
      if (!r.success) return reject(r.error);
      const m = ZdKbArticleMeta.safeParse(meta);
      if (!m.success) return reject(m.error, 'meta');
      return { kind: 'staged', runId, row: { entity: 'kb_articles', source, data: mapKbArticle(r.data, m.data), raw: kept } };
    }
    default:
      return { kind: 'ignored', runId };
  }
}

/** The mapping file's half for tickets: names, custom fields, filters, routing, tags, event notes. */
export function finishMapping<O extends MapOutcome>(outcome: O, mapping: Config['mapping'], refs: RefLookup): O {
  if (outcome.kind !== 'staged' || outcome.row.entity !== 'tickets') return outcome;
  const { ticket, extra } = applyTicketMapping(outcome.row.data as CanonicalTicket, mapping, refs);
  const source = outcome.row.source;
  return {
    ...outcome,
    row: { ...outcome.row, data: ticket },
    ...(extra.length > 0 ? { extra: extra.map((c) => ({ entity: 'comments' as const, source, data: c, raw: null })) } : {}),
  };
}
