import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { RawEntity, RawEnvelope } from '../../core/bus.ts';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/log.ts';
import { counter, gauge } from '../../core/metrics.ts';
import {
  addExtracted, getCheckpoint, getRun, getTicketStates, NEW_TICKET_STATE, putTicketStates, setCheckpoint, ticketsAwaitingCount,
  type Db, type ExtractTicketState,
} from '../../staging/index.ts';
import { BlobStore } from '../../staging/blob-store.ts';
import type { RecordSink } from '../sink.ts';
import { AttachmentFetcher, commentAttachmentJobs, type AttachmentJob } from './attachments.ts';
import { SourceAuthError, ZendeskClient } from './client.ts';

type Rec = Record<string, unknown>;
type Pos = Record<string, unknown> | null;

/**
 * A comment child of a ticket event, as a comment record: its event says who and when when the
 * child does not (recorded children carry only id and body), and whether it was public when the
 * event has `comment_public`.
 */
function commentOfEvent(child: Rec, event: Rec): Rec {
  const { event_type: _type, ...comment } = child;
  if (comment.author_id == null && typeof event.updater_id === 'number') comment.author_id = event.updater_id;
  if (comment.created_at == null && event.created_at != null) comment.created_at = event.created_at;
  if (typeof comment.public !== 'boolean' && typeof event.comment_public === 'boolean') comment.public = event.comment_public;
  return comment;
}

/** Whether a comment from the events has what staging needs; else the ticket is re-read whole. */
function stageable(c: Rec): boolean {
  const text = ['html_body', 'body', 'plain_body'].some((k) => typeof c[k] === 'string');
  return typeof c.id === 'number' && typeof c.author_id === 'number' && c.created_at != null && typeof c.public === 'boolean' && text;
}
interface Checkpoint { runId: number; done: boolean; pos: Pos }

export interface ApiExtractResult { byEntity: Record<string, number>; calls: number; callsByEndpoint: Record<string, number>; attachments: { fetched: number; failed: number } }

/**
 * The Zendesk API extractor. Each endpoint is a stream with its own checkpoint (staging's
 * checkpoints table, stream `api:<name>`), moved only after Kafka acknowledged the page before
 * it, in one transaction with the run's extracted counts and the per-ticket comment state: a
 * kill at any moment re-sends at most one page. The position left at the end of a stream is its
 * high-water mark; a `delta` run starts there (R19), a new full run starts at `startTime`.
 *
 * Comments come from the incremental ticket-events export with comment events sideloaded
 * (calls grow with pages, not tickets); a ticket whose events lack a comment, or carry one too
 * incomplete to stage, is read through the per-ticket endpoint. Then every ticket's comment count
 * is confirmed before it may load (issue 21): from the events where they prove it, else from
 * comments/count, and a ticket whose count disagrees is re-read — never staged short.
 * Attachments and inline images are streamed to the blob store.
 */
export async function extractZendeskApi(
  deps: { db: Db; log: Logger; registry: Registry },
  config: Config,
  runId: number,
  sink: RecordSink,
): Promise<ApiExtractResult> {
  const { db, log, registry } = deps;
  const src = config.source;
  const source = src.name;
  const client = new ZendeskClient({ source: src, log, registry });
  const blobs = new BlobStore(src.blobDir ?? join(config.workDir, 'blobs'));
  const fetcher = new AttachmentFetcher({ db, client, blobs, log, registry }, { source, runId, concurrency: src.attachmentConcurrency });
  const pages = counter(registry, 'deskport_extract_pages_total', 'Source pages extracted and checkpointed', ['stream']);
  const skipped = counter(registry, 'deskport_extract_skipped_total', 'Source records not produced, by reason', ['entity', 'reason']);
  const hwm = gauge(registry, 'deskport_extract_high_water_seconds', 'Unix time the time-based streams have reached', ['stream']);
  const kind = (await getRun(db, runId))?.kind;
  const startTime = typeof src.startTime === 'number' ? src.startTime : Math.floor(Date.parse(src.startTime) / 1000);
  const result: ApiExtractResult = { byEntity: {}, calls: 0, callsByEndpoint: {}, attachments: { fetched: 0, failed: 0 } };

  const envelope = (entity: RawEntity, record: unknown, cursor: string, meta?: Rec): RawEnvelope =>
    ({ runId, source, entity, extractedAt: new Date().toISOString(), cursor, record, ...(meta ? { meta } : {}) });

  /** Where a stream starts: its own checkpoint in this run, the high-water mark in a delta, else the beginning. */
  async function resume(stream: string, incremental: boolean): Promise<{ pos: Pos; done: boolean }> {
    const raw = await getCheckpoint(db, source, `api:${stream}`);
    const cp = raw ? (JSON.parse(raw) as Checkpoint) : undefined;
    if (cp && cp.runId === runId) return { pos: cp.pos, done: cp.done };
    if (cp && incremental && kind === 'delta') return { pos: cp.pos, done: false };
    return { pos: null, done: false };
  }

  async function commit(stream: string, pos: Pos, done: boolean, counts: Record<string, number>, states?: Map<string, ExtractTicketState>): Promise<void> {
    await db.transaction(async (trx) => {
      await addExtracted(trx, runId, counts);
      if (states && states.size > 0) await putTicketStates(trx, source, states);
      await setCheckpoint(trx, source, `api:${stream}`, JSON.stringify({ runId, done, pos } satisfies Checkpoint), runId);
    });
    for (const [e, n] of Object.entries(counts)) result.byEntity[e] = (result.byEntity[e] ?? 0) + n;
    pages.inc({ stream });
  }

  async function fetchJobs(jobs: AttachmentJob[]): Promise<void> {
    if (!src.fetchAttachments || jobs.length === 0) return;
    const r = await fetcher.fetchAll(jobs);
    result.attachments.fetched += r.fetched;
    result.attachments.failed += r.failed;
  }

  /** Cursor-based incremental export (users, tickets): start_time first, then the opaque cursor. */
  async function cursorExport(stream: string, path: string, key: string, onPage: (records: Rec[]) => Promise<{ envs: RawEnvelope[]; states?: Map<string, ExtractTicketState> }>): Promise<void> {
    let { pos, done } = await resume(stream, true);
    if (done) return;
    for (;;) {
      const cursor = pos?.cursor as string | undefined;
      const page = await client.getJson<Rec>(path, cursor ? { cursor, per_page: src.pageSize } : { start_time: startTime, per_page: src.pageSize });
      const records = (page[key] as Rec[] | undefined) ?? [];
      const { envs, states } = await onPage(records);
      const counts = await sink.send(envs);
      const end = page.end_of_stream === true;
      // A page may be empty while end_of_stream is false: only end_of_stream ends the stream.
      pos = { cursor: (page.after_cursor as string | null) ?? cursor ?? null };
      await commit(stream, pos, end, counts, states);
      if (end) return;
      if (!page.after_cursor) throw new Error(`${path}: no after_cursor before the end of the stream`);
    }
  }

  /**
   * Time-based incremental export (organizations, ticket events, articles). The next page starts
   * at the previous end time, so records with that timestamp come again: their ids are carried in
   * the checkpoint (`seen`) and dropped, which keeps counts and comment positions exact.
   */
  async function timeExport(stream: string, path: string, key: string, extra: Rec, tsOf: (r: Rec) => number,
    onPage: (records: Rec[], cursorOf: (r: Rec) => string) => Promise<{ envs: RawEnvelope[]; states?: Map<string, ExtractTicketState>; after?: () => Promise<void> }>): Promise<void> {
    let { pos, done } = await resume(stream, true);
    if (done) return;
    let start = (pos?.start as number | undefined) ?? startTime;
    let seen = new Set<number>((pos?.seen as number[] | undefined) ?? []);
    for (;;) {
      const page = await client.getJson<Rec>(path, { start_time: start, per_page: src.pageSize, ...extra });
      const all = (page[key] as Rec[] | undefined) ?? [];
      const fresh = all.filter((r) => !(tsOf(r) === start && seen.has(Number(r.id))));
      if (all.length > fresh.length) skipped.inc({ entity: stream, reason: 'duplicate_across_pages' }, all.length - fresh.length);
      const { envs, states, after } = await onPage(fresh, (r) => `${stream}@${tsOf(r)}#${String(r.id)}`);
      const counts = await sink.send(envs);
      await after?.();
      const end = page.end_of_stream === true || !page.next_page;
      const nextStart = Number(page.next_page ? new URL(String(page.next_page)).searchParams.get('start_time') : page.end_time) || start;
      const boundary = all.filter((r) => tsOf(r) === nextStart).map((r) => Number(r.id));
      seen = new Set(nextStart === start ? [...seen, ...boundary] : boundary);
      start = nextStart;
      hwm.set({ stream }, start);
      await commit(stream, { start, seen: [...seen] }, end, counts, states);
      if (end) return;
    }
  }

  /** `page[size]` cursor lists (groups, fields, forms, Help Center): small, re-read in full by each new run. */
  async function cursorList(stream: string, path: string, key: string, entity: RawEntity, opts: { optional?: boolean; onRecords?: (r: Rec[]) => Promise<void> } = {}): Promise<void> {
    let { pos, done } = await resume(stream, false);
    if (done) return;
    let next: string | null = (pos?.next as string | undefined) ?? `${path}?page[size]=100`;
    while (next) {
      let page: Rec;
      try {
        page = await client.getJson<Rec>(next);
      } catch (err) {
        // Ticket forms exist on Enterprise plans only; elsewhere the endpoint answers 403/404.
        const status = (err as { status?: number }).status;
        if (opts.optional && (status === 404 || (err instanceof SourceAuthError && status === 403))) {
          log.info({ stream, status }, 'endpoint not available on this account; skipped');
          await commit(stream, null, true, {});
          return;
        }
        throw err;
      }
      const records = (page[key] as Rec[] | undefined) ?? [];
      const counts = await sink.send(records.map((r, i) => envelope(entity, r, `${stream}:${String(pos?.next ?? 'first')}#${i}`)));
      await opts.onRecords?.(records);
      const links = page.links as { next?: string | null } | undefined;
      const meta = page.meta as { has_more?: boolean } | undefined;
      next = meta?.has_more && links?.next ? links.next : (page.next_page as string | null | undefined) ?? null;
      pos = { next };
      await commit(stream, next ? pos : null, !next, counts);
    }
  }

  // Fail fast and clearly on wrong credentials (Zendesk answers /users/me with an anonymous user).
  const me = await client.getJson<{ user?: { id?: number | null; role?: string } }>('/api/v2/users/me.json');
  if (!me.user?.id) throw new SourceAuthError(401, client.baseUrl, src.oauthToken ? 'OAuth bearer token' : `API token of ${src.email}`);
  if (me.user.role !== 'admin') log.warn({ role: me.user.role }, 'the Zendesk user is not an admin; incremental exports need one');

  try {
    await cursorExport('users', '/api/v2/incremental/users/cursor.json', 'users', async (records) => ({
      envs: records.map((r) => envelope('users', r, `users#${String(r.id)}`)),
    }));
    await timeExport('organizations', '/api/v2/incremental/organizations.json', 'organizations', {}, (r) => Math.floor(Date.parse(String(r.updated_at)) / 1000),
      async (records, cursorOf) => ({ envs: records.map((r) => envelope('organizations', r, cursorOf(r))) }));
    await cursorList('groups', '/api/v2/groups.json', 'groups', 'groups');
    await cursorList('ticket_fields', '/api/v2/ticket_fields.json', 'ticket_fields', 'ticket_fields');
    await cursorList('ticket_forms', '/api/v2/ticket_forms.json', 'ticket_forms', 'ticket_forms', { optional: true });

    await cursorExport('tickets', '/api/v2/incremental/tickets/cursor.json', 'tickets', async (records) => {
      const envs: RawEnvelope[] = [];
      const states = new Map<string, ExtractTicketState>();
      const known = await getTicketStates(db, source, records.map((t) => String(t.id)));
      for (const t of records) {
        const id = String(t.id);
        const was = known.get(id) ?? NEW_TICKET_STATE;
        // Deleted tickets are in the export but not migrated; their comments 404 (source-apis.md §4.1).
        if (t.status === 'deleted') {
          states.set(id, { ...was, deleted: true });
          skipped.inc({ entity: 'tickets', reason: 'deleted_in_source' });
          continue;
        }
        // A new or changed ticket waits until its comment count is confirmed again (confirmCommentCounts).
        states.set(id, { ...was, deleted: false, expected: null });
        envs.push(envelope('tickets', t, `tickets#${id}`));
      }
      return { envs, states };
    });

    await extractComments();
    await confirmCommentCounts();

    if (src.helpCenter) await extractHelpCenter();
  } finally {
    result.calls = client.callCount;
    result.callsByEndpoint = Object.fromEntries(client.calls);
    await client.close();
  }
  return result;

  async function extractComments(): Promise<void> {
    const fetchedThisRun = new Set<string>();
    await timeExport('ticket_events', '/api/v2/incremental/ticket_events.json', 'ticket_events', { include: 'comment_events' }, (e) => Number(e.timestamp),
      async (events, cursorOf) => {
        const ticketIds = [...new Set(events.map((e) => String(e.ticket_id)))];
        const states = await getTicketStates(db, source, ticketIds);
        const changed = new Map<string, ExtractTicketState>();
        const state = (id: string): ExtractTicketState => {
          let s = changed.get(id);
          if (!s) changed.set(id, (s = { ...(states.get(id) ?? NEW_TICKET_STATE) }));
          return s;
        };
        const envs: RawEnvelope[] = [];
        const jobs: AttachmentJob[] = [];
        const refetch = new Set<string>();
        for (const e of events) {
          const ticketId = String(e.ticket_id);
          const children = (Array.isArray(e.child_events) ? e.child_events : []) as Rec[];
          const commentEvents = children.filter((c) => c.event_type === 'Comment' || c.event_type === 'VoiceComment');
          if (commentEvents.length === 0) {
            // Recorded event bodies carry no comment_present flag (Airbyte's ticket_events.json): an
            // event without a comment child then proves nothing, so the ticket's count is checked later.
            if (typeof e.comment_present !== 'boolean') state(ticketId).unproven = true;
            if (e.comment_present !== true) continue;
          }
          const s = state(ticketId);
          if (s.deleted) {
            skipped.inc({ entity: 'comments', reason: 'ticket_deleted_in_source' }, Math.max(1, commentEvents.length));
            continue;
          }
          const comments = commentEvents.map((c) => commentOfEvent(c, e));
          // The event says a comment was made but carries none, or one too incomplete to stage:
          // read this ticket through the per-ticket endpoint.
          if (s.fallback || commentEvents.length === 0 || comments.some((c) => !stageable(c))) {
            s.fallback = true;
            if (!fetchedThisRun.has(ticketId)) refetch.add(ticketId);
            continue;
          }
          for (const comment of comments) {
            const position = s.comments++;
            envs.push(envelope('comments', comment, cursorOf(e), { ticketId: Number(e.ticket_id), position }));
            jobs.push(...commentAttachmentJobs(comment, ticketId, (u) => client.sameOrigin(u)));
          }
        }
        for (const ticketId of refetch) {
          fetchedThisRun.add(ticketId);
          await rereadTicket(ticketId, state(ticketId), envs, jobs);
        }
        return { envs, states: changed, after: () => fetchJobs(jobs) };
      });
  }

  /**
   * Reads a ticket's whole comment list and produces it (the list is the source's own account of
   * the ticket, so its length is the confirmed count); a ticket gone from the source is marked deleted.
   */
  async function rereadTicket(ticketId: string, s: ExtractTicketState, envs: RawEnvelope[], jobs: AttachmentJob[]): Promise<void> {
    const list = await ticketComments(ticketId);
    if (list === null) {
      s.deleted = true;
      skipped.inc({ entity: 'comments', reason: 'ticket_deleted_in_source' });
      return;
    }
    for (const [position, comment] of list.entries()) {
      envs.push(envelope('comments', comment, `tickets/${ticketId}/comments#${position}`, { ticketId: Number(ticketId), position }));
      jobs.push(...commentAttachmentJobs(comment, ticketId, (u) => client.sameOrigin(u)));
    }
    s.comments = list.length;
    s.fallback = true;
    s.expected = list.length;
    s.unproven = false;
  }

  /**
   * Issue 21: after the events, every live ticket's comment count is confirmed before it may load
   * (TICKET_READY waits for it). Where the events prove it — every event flagged whether it had a
   * comment, or the ticket was read whole — it costs nothing; where they cannot (no flags) or
   * disagree with the ticket (no comment at all, and every ticket has its first one), one
   * comments/count call decides, and a ticket whose count differs is re-read. Resumable: confirmed
   * tickets are not asked again, and the stream's checkpoint keeps the position.
   */
  async function confirmCommentCounts(): Promise<void> {
    const stream = 'comment_counts';
    let { pos, done } = await resume(stream, false);
    if (done) return;
    let after = (pos?.after as string | undefined) ?? '';
    for (;;) {
      const batch = await ticketsAwaitingCount(db, source, after, 200);
      if (batch.length === 0) break;
      const envs: RawEnvelope[] = [];
      const jobs: AttachmentJob[] = [];
      const changed = new Map<string, ExtractTicketState>();
      for (const { ticketId, state: was } of batch) {
        const s = { ...was };
        changed.set(ticketId, s);
        if (s.fallback || (!s.unproven && s.comments > 0)) {
          s.expected = s.comments;
          continue;
        }
        const count = await commentCount(ticketId);
        if (count === s.comments) {
          s.expected = count;
          s.unproven = false;
          continue;
        }
        if (count === null) {
          // 404: the ticket went away since the ticket export.
          s.deleted = true;
          skipped.inc({ entity: 'tickets', reason: 'deleted_in_source' });
          continue;
        }
        log.info({ ticket: ticketId, counted: count, produced: s.comments }, 'comment count differs from the ticket events; re-reading the ticket');
        await rereadTicket(ticketId, s, envs, jobs);
      }
      const counts = await sink.send(envs);
      await fetchJobs(jobs);
      after = batch.at(-1)!.ticketId;
      pos = { after };
      await commit(stream, pos, false, counts, changed);
    }
    await commit(stream, pos, true, {});
  }

  /** The ticket's comment count (`comments/count`); null when the ticket is gone, undefined when the answer has none. */
  async function commentCount(ticketId: string): Promise<number | null | undefined> {
    try {
      const res = await client.getJson<{ count?: { value?: unknown } }>(`/api/v2/tickets/${ticketId}/comments/count.json`);
      const value = res.count?.value;
      return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
    } catch (err) {
      if ((err as { status?: number }).status === 404) return null;
      throw err;
    }
  }

  /** Every comment of one ticket, in order (cursor pagination, inline images listed); null when the ticket is gone. */
  async function ticketComments(ticketId: string): Promise<Rec[] | null> {
    const out: Rec[] = [];
    let next: string | null = `/api/v2/tickets/${ticketId}/comments.json?page[size]=100&include_inline_images=true`;
    while (next) {
      let page: Rec;
      try {
        page = await client.getJson<Rec>(next);
      } catch (err) {
        if ((err as { status?: number }).status === 404) return null;
        throw err;
      }
      out.push(...((page.comments as Rec[] | undefined) ?? []));
      const meta = page.meta as { has_more?: boolean } | undefined;
      next = meta?.has_more ? ((page.links as { next?: string } | undefined)?.next ?? null) : null;
    }
    return out;
  }

  async function extractHelpCenter(): Promise<void> {
    await cursorList('kb_categories', '/api/v2/help_center/categories.json', 'categories', 'kb_categories');
    await cursorList('kb_sections', '/api/v2/help_center/sections.json', 'sections', 'kb_sections');
    await timeExport('kb_articles', '/api/v2/help_center/incremental/articles.json', 'articles', {}, (a) => Math.floor(Date.parse(String(a.updated_at)) / 1000),
      async (articles, cursorOf) => ({
        envs: articles.map((a) => envelope('kb_articles', a, cursorOf(a), { labels: a.label_names ?? [], locale: a.source_locale ?? a.locale })),
        // Article attachments: one call per changed article (the Help Center has no bulk listing).
        after: async () => {
          const jobs: AttachmentJob[] = [];
          for (const a of articles) {
            const res = await client.getJson<Rec>(`/api/v2/help_center/articles/${String(a.id)}/attachments.json`);
            for (const att of (res.article_attachments as Rec[] | undefined) ?? []) {
              jobs.push({
                sourceId: `article:${String(att.id)}`, kind: 'article', url: String(att.content_url), fileName: (att.file_name as string) ?? null,
                contentType: (att.content_type as string) ?? null, announcedSize: (att.size as number) ?? null, inline: att.inline === true,
                ticketSourceId: null, commentSourceId: null, articleSourceId: String(a.id),
              });
            }
          }
          await fetchJobs(jobs);
        },
      }));
  }
}
