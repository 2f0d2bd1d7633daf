import { z } from 'zod';
import type { CanonicalAttachment, CanonicalKbArticle, CanonicalKbCategory } from '../staging/canonical.ts';
import { ZdAttachment } from './zendesk.ts';
import { zdDate } from './zendesk-dates.ts';

/**
 * Zendesk Help Center (Guide) records → canonical KB rows (R8). Categories and sections both
 * become Help Docs categories; a section nests under its category (or its parent section).
 * Field names are Zendesk's (docs/source-apis.md §1.8).
 */

const id = z.number().int().positive();
const date = zdDate;

export const ZdKbCategory = z.looseObject({
  id,
  name: z.string().min(1),
  description: z.string().nullish(),
  position: z.number().int().nullish(),
  locale: z.string().nullish(),
  source_locale: z.string().nullish(),
  html_url: z.string().nullish(),
  created_at: date.nullish(),
  updated_at: date.nullish(),
});

export const ZdKbSection = ZdKbCategory.extend({
  category_id: id,
  /** Nested sections (Guide Enterprise). */
  parent_section_id: id.nullish(),
});

export const ZdKbArticle = z.looseObject({
  id,
  title: z.string(),
  body: z.string().nullish(),
  section_id: id.nullish(),
  author_id: id.nullish(),
  locale: z.string().nullish(),
  source_locale: z.string().nullish(),
  draft: z.boolean().default(false),
  promoted: z.boolean().nullish(),
  position: z.number().int().nullish(),
  label_names: z.array(z.string()).nullish(),
  html_url: z.string().nullish(),
  created_at: date.nullish(),
  updated_at: date.nullish(),
  /** Translations, when the source embeds them (`include=translations`, or an export file). */
  translations: z.array(z.looseObject({
    locale: z.string(), title: z.string().nullish(), body: z.string().nullish(), draft: z.boolean().nullish(),
  })).nullish(),
  /** Attachments embedded by an export file; the API extractor lists them into staging instead. */
  attachments: z.array(ZdAttachment).nullish(),
});

/** Extractor meta beside an article: its labels and default locale (the API extractor sets them). */
export const ZdKbArticleMeta = z.object({ labels: z.array(z.string()).optional(), locale: z.string().nullish() }).loose();

export const categoryId = (n: number | string): string => `category:${n}`;
export const sectionId = (n: number | string): string => `section:${n}`;
/** Article attachments share the `attachments` table with comment attachments: prefixed ids. */
export const articleAttachmentId = (n: number | string): string => `article:${n}`;

export function mapKbCategory(c: z.infer<typeof ZdKbCategory>): CanonicalKbCategory {
  return {
    sourceId: categoryId(c.id), kind: 'category', name: c.name, description: c.description || null, parentSourceId: null,
    position: c.position ?? null, sourceUrl: c.html_url ?? null, locale: c.source_locale ?? c.locale ?? null,
    createdAt: c.created_at ?? null, updatedAt: c.updated_at ?? null,
  };
}

export function mapKbSection(s: z.infer<typeof ZdKbSection>): CanonicalKbCategory {
  return {
    ...mapKbCategory(s),
    sourceId: sectionId(s.id), kind: 'section',
    parentSourceId: s.parent_section_id ? sectionId(s.parent_section_id) : categoryId(s.category_id),
  };
}

/**
 * The article in its default (source) locale: the record's own title/body when it is in that
 * locale, else the matching embedded translation. Labels become tags; draft stays draft.
 */
export function mapKbArticle(a: z.infer<typeof ZdKbArticle>, meta: z.infer<typeof ZdKbArticleMeta> = {}): CanonicalKbArticle {
  const locale = a.source_locale ?? meta.locale ?? a.locale ?? null;
  const translation = locale && a.locale && a.locale !== locale ? a.translations?.find((t) => t.locale === locale) : undefined;
  const attachments: CanonicalAttachment[] = (a.attachments ?? []).map((x) => ({
    sourceId: articleAttachmentId(x.id), fileName: x.file_name, url: x.content_url, contentType: x.content_type ?? null,
    size: x.size ?? null, inline: x.inline ?? false, disposition: x.inline ? 'inline' : 'attachment',
  }));
  return {
    sourceId: String(a.id),
    categorySourceId: a.section_id ? sectionId(a.section_id) : null,
    title: translation?.title ?? a.title,
    bodyHtml: translation?.body ?? a.body ?? '',
    tags: [...new Set(a.label_names ?? meta.labels ?? [])],
    authorSourceId: a.author_id ? String(a.author_id) : null,
    draft: translation?.draft ?? a.draft,
    createdAt: a.created_at ?? null,
    updatedAt: a.updated_at ?? null,
    attachments,
    sourceUrl: a.html_url ?? null,
    locale: translation?.locale ?? a.locale ?? locale,
    position: a.position ?? null,
    promoted: a.promoted ?? false,
  };
}
