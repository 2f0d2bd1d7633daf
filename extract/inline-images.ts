/**
 * Inline images live only as `<img src>` in a comment's HTML unless Zendesk was asked to list
 * them (docs/source-apis.md §1.7, §4.5). This finds the image URLs a migration must carry over:
 * those served by the source account (its own origin, or Zendesk's `/attachments/token/` path).
 * Images on other hosts stay as they are — they are public and must not get source credentials.
 */
import { IMG_TAG, imgSrc } from '../core/html.ts';

export function findInlineImages(html: string | null | undefined, isSourceUrl: (url: string) => boolean): string[] {
  if (!html || !html.includes('<img')) return [];
  const out = new Set<string>();
  for (const m of html.matchAll(IMG_TAG)) {
    const src = imgSrc(m);
    if (src && !src.startsWith('data:') && (isSourceUrl(src) || /\/attachments\/token\//.test(src))) out.add(src);
  }
  return [...out];
}

/** Stable id for an image known only by its URL: Zendesk's token when present, else the URL. */
export function inlineImageId(url: string): string {
  const token = /\/attachments\/token\/([^/?#]+)/.exec(url)?.[1];
  return `inline:${token ?? url}`;
}
