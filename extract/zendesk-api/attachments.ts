import type { Registry } from 'prom-client';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { counter } from '../../core/metrics.ts';
import { fetchedAttachmentIds, upsertAttachments, type AttachmentRow, type Db } from '../../staging/index.ts';
import type { BlobStore } from '../../staging/blob-store.ts';
import { findInlineImages, inlineImageId } from '../inline-images.ts';
import { SourceHttpError, type ZendeskClient } from './client.ts';

/** What to fetch: a listed attachment or an inline image, with what links it to its comment/article. */
export interface AttachmentJob {
  sourceId: string;
  kind: 'comment' | 'article';
  url: string;
  fileName: string | null;
  contentType: string | null;
  announcedSize: number | null;
  inline: boolean;
  ticketSourceId: string | null;
  commentSourceId: string | null;
  articleSourceId: string | null;
}

interface ZdAttachmentLike { id?: unknown; file_name?: unknown; name?: unknown; content_url?: unknown; content_type?: unknown; size?: unknown; inline?: unknown }

function nameFromUrl(url: string): string | null {
  try {
    return new URL(url).searchParams.get('name');
  } catch {
    return null;
  }
}

/**
 * The jobs of one comment: its listed attachments, and its inline images — listed ones
 * (`inline: true`, when Zendesk was asked to include them) and those found only in html_body,
 * both keyed by the image's token so either route gives the same row.
 */
export function commentAttachmentJobs(comment: Record<string, unknown>, ticketId: string, isSourceUrl: (u: string) => boolean): AttachmentJob[] {
  const jobs = new Map<string, AttachmentJob>();
  const commentId = String(comment.id);
  const list = Array.isArray(comment.attachments) ? (comment.attachments as ZdAttachmentLike[]) : [];
  for (const a of list) {
    if (typeof a.content_url !== 'string') continue;
    const inline = a.inline === true;
    const sourceId = inline ? inlineImageId(a.content_url) : String(a.id);
    jobs.set(sourceId, {
      // The name is `file_name`, or `name` as the Attachments endpoint sends it (transform/zendesk.ts).
      sourceId, kind: 'comment', url: a.content_url, fileName: typeof a.file_name === 'string' ? a.file_name : typeof a.name === 'string' ? a.name : null,
      contentType: typeof a.content_type === 'string' ? a.content_type : null, announcedSize: typeof a.size === 'number' ? a.size : null,
      inline, ticketSourceId: ticketId, commentSourceId: commentId, articleSourceId: null,
    });
  }
  for (const url of findInlineImages(comment.html_body as string | undefined, isSourceUrl)) {
    const sourceId = inlineImageId(url);
    if (jobs.has(sourceId)) continue;
    jobs.set(sourceId, {
      sourceId, kind: 'comment', url, fileName: nameFromUrl(url), contentType: null, announcedSize: null, inline: true,
      ticketSourceId: ticketId, commentSourceId: commentId, articleSourceId: null,
    });
  }
  return [...jobs.values()];
}

/**
 * Downloads attachments into the blob store and records each in staging: fetched (size, sha256,
 * content type, blob path) or failed with its reason and attempts — never silently dropped.
 * Rows already fetched (a re-read page after a crash) are not downloaded again.
 */
export class AttachmentFetcher {
  private readonly done;
  private readonly bytes;

  constructor(
    private readonly deps: { db: Db; client: ZendeskClient; blobs: BlobStore; log: Logger; registry: Registry },
    private readonly opts: { source: string; runId: number; concurrency: number; attempts?: number },
  ) {
    this.done = counter(deps.registry, 'deskport_extract_attachments_total', 'Attachments and inline images by outcome', ['state', 'inline']);
    this.bytes = counter(deps.registry, 'deskport_extract_attachment_bytes_total', 'Attachment bytes written to the blob store');
  }

  async fetchAll(jobs: AttachmentJob[]): Promise<{ fetched: number; failed: number; skipped: number }> {
    const already = await fetchedAttachmentIds(this.deps.db, this.opts.source, jobs.map((j) => j.sourceId));
    const todo = jobs.filter((j) => !already.has(j.sourceId));
    const rows: AttachmentRow[] = [];
    let next = 0;
    // Bounded parallelism: at most `concurrency` downloads (each one streaming) at a time.
    const worker = async () => {
      while (next < todo.length) rows.push(await this.fetchOne(todo[next++]!));
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, todo.length) }, worker));
    await upsertAttachments(this.deps.db, rows);
    const failed = rows.filter((r) => r.fetchState === 'failed').length;
    return { fetched: rows.length - failed, failed, skipped: jobs.length - todo.length };
  }

  private async fetchOne(job: AttachmentJob): Promise<AttachmentRow> {
    const base = {
      source: this.opts.source, sourceId: job.sourceId, kind: job.kind, ticketSourceId: job.ticketSourceId, commentSourceId: job.commentSourceId,
      articleSourceId: job.articleSourceId, sourceUrl: job.url, fileName: job.fileName, inline: job.inline, runId: this.opts.runId,
    };
    const maxAttempts = this.opts.attempts ?? 3;
    let attempts = 0;
    let reason = '';
    // The client already retries 429/5xx/network on the request; this loop retries a body cut off half-way.
    while (attempts < maxAttempts) {
      attempts++;
      try {
        const res = await this.deps.client.download(job.url);
        const blob = await this.deps.blobs.put(res.body);
        this.done.inc({ state: 'fetched', inline: String(job.inline) });
        this.bytes.inc(blob.size);
        return {
          ...base, contentType: job.contentType ?? res.contentType?.split(';')[0]?.trim() ?? null, size: blob.size, sha256: blob.sha256,
          blobPath: blob.blobPath, fetchState: 'fetched', reason: null, attempts,
        };
      } catch (err) {
        reason = errorMessage(err);
        if (err instanceof SourceHttpError) {
          attempts += Math.max(0, err.attempts - 1);
          break;
        }
        if ((err as { code?: string }).code === 'DESKPORT_SOURCE_AUTH') break;
      }
    }
    this.deps.log.warn({ attachment: job.sourceId, comment: job.commentSourceId, article: job.articleSourceId, attempts, reason }, 'attachment download failed; recorded as failed');
    this.done.inc({ state: 'failed', inline: String(job.inline) });
    return { ...base, contentType: job.contentType, size: job.announcedSize, sha256: null, blobPath: null, fetchState: 'failed', reason, attempts };
  }
}
