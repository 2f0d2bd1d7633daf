import { decodeAttr } from '../core/html.ts';

/**
 * Links in article bodies that point at the source help desk (R8): Help Center articles, sections
 * and categories in any of their forms, their API URLs, and agent/customer ticket URLs. Pure functions: the KB
 * loader decides what each link becomes.
 */

export interface SourceLink {
  /** The attribute value as decoded from the HTML (what the reader's browser would follow). */
  href: string;
  kind: 'article' | 'ticket' | 'section' | 'category';
  /** The source id the link points at (an article, ticket, section or category id). */
  id: string;
}

const LOCALE = '(?:/[a-z]{2,3}(?:-[a-z0-9]{2,4})?)?';
const PATTERNS: { kind: SourceLink['kind']; re: RegExp }[] = [
  // /hc/en-us/articles/123-some-slug, /hc/articles/123
  { kind: 'article', re: new RegExp(`^/hc${LOCALE}/articles/(\\d+)(?:[-/][^?#]*)?$`, 'i') },
  // /api/v2/help_center/articles/123.json, /api/v2/help_center/en-us/articles/123
  { kind: 'article', re: new RegExp(`^/api/v2/help_center${LOCALE}/articles/(\\d+)(?:\\.json)?/?$`, 'i') },
  // Help Center sections and categories: /hc/en-us/sections/123-slug, /hc/categories/4, and their API URLs.
  { kind: 'section', re: new RegExp(`^/hc${LOCALE}/sections/(\\d+)(?:[-/][^?#]*)?$`, 'i') },
  { kind: 'category', re: new RegExp(`^/hc${LOCALE}/categories/(\\d+)(?:[-/][^?#]*)?$`, 'i') },
  { kind: 'section', re: new RegExp(`^/api/v2/help_center${LOCALE}/sections/(\\d+)(?:\\.json)?/?$`, 'i') },
  { kind: 'category', re: new RegExp(`^/api/v2/help_center${LOCALE}/categories/(\\d+)(?:\\.json)?/?$`, 'i') },
  // /agent/tickets/123 (agents), /hc/requests/123 (the customer's view), /api/v2/tickets/123.json
  { kind: 'ticket', re: /^\/agent\/tickets\/(\d+)(?:\/[^?#]*)?$/i },
  { kind: 'ticket', re: new RegExp(`^/hc${LOCALE}/requests/(\\d+)/?$`, 'i') },
  { kind: 'ticket', re: /^\/api\/v2\/tickets\/(\d+)(?:\.json)?\/?$/i },
];

/** `href="…"` / `href='…'`: group 1 or 2 is the value. */
const HREF = /(\bhref\s*=\s*)(?:"([^"]*)"|'([^']*)')/gi;

/**
 * What an href points at in the source, or null. Absolute links count only on the source's own
 * hosts (when known): a link to another Zendesk's help center is not ours to rewrite.
 */
export function classifyLink(href: string, sourceHosts: ReadonlySet<string>): SourceLink | null {
  let path: string;
  if (/^https?:\/\//i.test(href)) {
    let url: URL;
    try {
      url = new URL(href);
    } catch {
      return null;
    }
    if (sourceHosts.size > 0 && !sourceHosts.has(url.host.toLowerCase())) return null;
    path = url.pathname;
  } else if (href.startsWith('/')) {
    path = href.replace(/[?#].*$/, '');
  } else {
    return null;
  }
  for (const p of PATTERNS) {
    const m = p.re.exec(path);
    if (m) return { href, kind: p.kind, id: m[1]! };
  }
  return null;
}

/** Every source link of a body, in order, each href once. */
export function findSourceLinks(html: string, sourceHosts: ReadonlySet<string>): SourceLink[] {
  const out = new Map<string, SourceLink>();
  for (const m of html.matchAll(HREF)) {
    const href = decodeAttr((m[2] ?? m[3] ?? '').trim());
    const link = classifyLink(href, sourceHosts);
    if (link && !out.has(href)) out.set(href, link);
  }
  return [...out.values()];
}

const attr = (v: string): string => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;');

/**
 * Rewrites the hrefs `replace` answers for (the URL's #fragment is kept); others stay byte for
 * byte as they were.
 */
export function rewriteHrefs(html: string, replace: (href: string) => string | null): string {
  return html.replace(HREF, (whole, prefix: string, dq: string | undefined, sq: string | undefined) => {
    const href = decodeAttr((dq ?? sq ?? '').trim());
    const next = replace(href);
    if (next === null) return whole;
    const hash = href.indexOf('#');
    return `${prefix}"${attr(hash >= 0 ? next + href.slice(hash) : next)}"`;
  });
}

/** `src="…"` and `href="…"` values: attachment and inline-image addresses. */
const URL_ATTR = /(\b(?:src|href)\s*=\s*)(?:"([^"]*)"|'([^']*)')/gi;

/** Replaces attachment addresses (src or href) `replace` answers for. */
export function rewriteUrlAttrs(html: string, replace: (url: string) => string | null): string {
  return html.replace(URL_ATTR, (whole, prefix: string, dq: string | undefined, sq: string | undefined) => {
    const next = replace(decodeAttr((dq ?? sq ?? '').trim()));
    return next === null ? whole : `${prefix}"${attr(next)}"`;
  });
}

/** The article attachment id in a Help Center attachment address (`/hc/article_attachments/<id>/…`). */
export function articleAttachmentIdOf(url: string): string | null {
  const m = /\/hc\/(?:[a-z-]+\/)?article_attachments\/(\d+)/i.exec(url);
  return m ? m[1]! : null;
}
