import { z } from 'zod';
import type { RawEnvelope } from '../src/bus.ts';
import type { Config } from '../src/config.ts';
import type { StagedRow } from '../staging/index.ts';
import {
  mapComment, mapOrganization, mapTicket, mapUser, ZdComment, ZdCommentMeta, ZdOrganization, ZdTicket, ZdTicketMeta, ZdUser,
} from './zendesk.ts';

export type MapOutcome =
  | { kind: 'staged'; row: StagedRow }
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
export function mapZendeskEnvelope(raw: unknown, mapping: Config['mapping']): MapOutcome & { runId?: number } {
  const env = Envelope.safeParse(raw);
  if (!env.success) return { kind: 'rejected', ...firstIssue(env.error, 'envelope'), sourceId: null, parentSourceId: null };
  const { record, entity, source, runId } = env.data;
  const meta = env.data.meta ?? {};
  const reject = (err: z.ZodError, prefix = '') => ({
    kind: 'rejected' as const, ...firstIssue(err, prefix), sourceId: idOf(record),
    parentSourceId: entity === 'comments' && typeof meta.ticketId === 'number' ? String(meta.ticketId) : null, runId,
  });
  switch (entity as RawEnvelope['entity']) {
    case 'organizations': {
      const r = ZdOrganization.safeParse(record);
      return r.success ? { kind: 'staged', runId, row: { entity: 'companies', source, data: mapOrganization(r.data) } } : reject(r.error);
    }
    case 'users': {
      const r = ZdUser.safeParse(record);
      return r.success ? { kind: 'staged', runId, row: { entity: 'people', source, data: mapUser(r.data) } } : reject(r.error);
    }
    case 'tickets': {
      const r = ZdTicket.safeParse(record);
      if (!r.success) return reject(r.error);
      const m = ZdTicketMeta.safeParse(meta);
      if (!m.success) return reject(m.error, 'meta');
      return { kind: 'staged', runId, row: { entity: 'tickets', source, data: mapTicket(r.data, m.data, mapping) } };
    }
    case 'comments': {
      const r = ZdComment.safeParse(record);
      if (!r.success) return reject(r.error);
      const m = ZdCommentMeta.safeParse(meta);
      if (!m.success) return reject(m.error, 'meta');
      return { kind: 'staged', runId, row: { entity: 'comments', source, data: mapComment(r.data, m.data) } };
    }
    default:
      return { kind: 'ignored', runId };
  }
}
