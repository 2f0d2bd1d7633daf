/** The few HTML text helpers the stages share (bodies are HTML strings, not parsed documents). */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&quot;': '"', '&#39;': "'", '&lt;': '<', '&gt;': '>' };

/** An attribute value as written in HTML, decoded in one pass (so `&amp;lt;` stays `&lt;`). */
export function decodeAttr(v: string): string {
  return v.replace(/&(amp|quot|#39|lt|gt);/g, (m) => ENTITIES[m]!);
}

/** A whole `<img>` tag; its src is group 1, 2 or 3 (double-quoted, single-quoted, bare). */
export const IMG_TAG = /<img\b[^>]*?\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>/gi;

/** The decoded src of an IMG_TAG match. */
export function imgSrc(m: RegExpMatchArray | string[]): string {
  return decodeAttr((m[1] ?? m[2] ?? m[3] ?? '').trim());
}
