import type { Config } from '../core/config.ts';
import type { RecordRow } from '../staging/index.ts';

/** Where a record lives, in the source help desk and in Teamwork Desk (for people reading the report). */
export interface Links { source: string | null; target: string | null }

/** A Zendesk base URL from `source.url` (a URL or a bare subdomain); null when unknown (an export file). */
export function sourceBase(config: Config): string | null {
  const u = config.source.url;
  if (!u) return null;
  return (/^https?:\/\//.test(u) ? u : `https://${u}.zendesk.com`).replace(/\/+$/, '');
}

const SOURCE_PATHS: Record<string, (r: RecordRow) => string | null> = {
  tickets: (r) => `/agent/tickets/${r.sourceId}`,
  comments: (r) => (r.ticketSourceId ? `/agent/tickets/${r.ticketSourceId}` : null),
  people: (r) => `/agent/users/${r.sourceId}`,
  companies: (r) => `/agent/organizations/${r.sourceId}`,
  kb_articles: (r) => `/hc/articles/${r.sourceId}`,
  // `category:1` → /hc/categories/1, `section:2` → /hc/sections/2
  kb_categories: (r) => `/hc/${r.sourceId.replace(/^(category|section):/, '$1s/')}`,
};

const TARGET_PATHS: Record<string, (r: RecordRow) => string | null> = {
  tickets: (r) => (r.targetId ? `/desk/tickets/${r.targetId}` : null),
  comments: (r) => (r.targetTicketId ? `/desk/tickets/${r.targetTicketId}` : null),
  people: (r) => (r.targetId ? `/desk/customers/${r.targetId}` : null),
  companies: (r) => (r.targetId ? `/desk/companies/${r.targetId}` : null),
};

export function recordLinks(config: Config, r: RecordRow): Links {
  const src = sourceBase(config);
  const tgt = config.target.url?.replace(/\/+$/, '') ?? null;
  const sp = src ? SOURCE_PATHS[r.entity]?.(r) ?? null : null;
  const tp = tgt ? TARGET_PATHS[r.entity]?.(r) ?? null : null;
  return { source: src && sp ? src + sp : null, target: tgt && tp ? tgt + tp : null };
}
