import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Config } from '../core/config.ts';
import { TargetHttpError } from '../core/errors.ts';
import { escapeHtml } from '../core/html.ts';
import type { Logger } from '../core/log.ts';
import { counter } from '../core/metrics.ts';
import {
  attachmentsOfComments, blobContentTypes, clearV2Writes, recordV2Done, recordV2Intent, refsOfKind, stagedBySourceIds, v2WritesOfTickets,
  type Db, type LoadAttachment, type V2Write,
} from '../staging/index.ts';
import type { CanonicalComment, CanonicalCustomField, CanonicalTicket } from '../staging/canonical.ts';
import type { TeamworkDeskClient } from './client.ts';
import { fieldValuesForImport } from './custom-fields.ts';
import { buildImportTicket, MAX_BODY_CHARS, type ImportContext, type ImportTicket } from './import-payload.ts';
import type { TargetDirectory } from './target-directory.ts';
import { createTicketV2, findMessageByMarker, findTicketByMarker, postMessageV2, uploadFileV2 } from './v2-api.ts';
import { V2Refs } from './v2-refs.ts';

export interface V2WriterDeps { db: Db; client: TeamworkDeskClient; directory: TargetDirectory; log: Logger; registry?: Registry }

/** One message to post: a comment, or a piece of one (a body over the limit, attachments over 20 MB). */
interface Part { key: string; commentSourceId: string; body: string; public: boolean; files: LoadAttachment[] }

/** Room left under the per-message limit for the headers and the marker the writer adds. */
const CHUNK_CHARS = MAX_BODY_CHARS - 16_384;
const BLOB_TOKEN = 'deskport-blob:';

/**
 * A visible reference in every v2-written message: the v2 API has no external id, so this is how
 * a write whose answer was lost is found again (ticket search and message lists match bodies).
 * The closing bracket keeps `ticket 12` from matching `ticket 123`.
 */
export function v2Marker(source: string, kind: 'ticket' | 'comment', id: string, part?: number): string {
  return `[deskport ${source} ${kind} ${id}${part === undefined ? '' : ` part ${part}`}]`;
}

const markerHtml = (m: string) => `<p><small>${escapeHtml(m)}</small></p>`;

/** Splits HTML before a tag boundary so no piece is longer than `max` characters. */
export function splitHtml(html: string, max: number): string[] {
  const out: string[] = [];
  let rest = html;
  while (rest.length > max) {
    let cut = rest.lastIndexOf('<', max);
    if (cut < max / 2) cut = rest.lastIndexOf(' ', max - 1) + 1; // after the space: words stay whole
    if (cut < max / 2) cut = max;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  out.push(rest);
  return out;
}

/**
 * Writes tickets and messages through the v2 API, at most once each: every ticket create and
 * message post is recorded as intent (with the files it attaches) before the call and as done
 * with the target id after it; an intent without an id is looked up by its marker first.
 * History is written as private notes with the original author and date in a header (a v2
 * public reply emails the customer), unless `load.v2PublicReplies` says otherwise.
 */
export class V2Writer {
  private readonly source: string;
  private readonly refs: V2Refs;
  private readonly blobDir: string;
  private sourceFields: Promise<Map<string, CanonicalCustomField>> | null = null;
  /** Desk calls spent on writes (creates, posts, uploads, patches), for the delta report. */
  writes = 0;
  private readonly written: ((kind: 'ticket' | 'message' | 'file' | 'update') => void);

  constructor(private readonly deps: V2WriterDeps, private readonly config: Config) {
    this.source = config.source.name;
    this.refs = new V2Refs(deps.client);
    this.blobDir = config.source.blobDir ?? join(config.workDir, 'blobs');
    const metric = deps.registry
      ? counter(deps.registry, 'deskport_load_v2_writes_total', 'Records written through the v2 API (oversize tickets, delta appends and updates), by kind', ['kind'])
      : null;
    this.written = (kind) => metric?.inc({ kind });
  }

  /** Counts a write made outside this class (the delta's PATCHes). */
  countUpdate(): void {
    this.writes++;
    this.written('update');
  }

  get v2Refs(): V2Refs {
    return this.refs;
  }

  /** A whole ticket with its history (the v2 fallback for tickets the import refuses). */
  async writeTicket(t: CanonicalTicket, comments: CanonicalComment[], runId: number): Promise<{ ticketId: string; comments: { sourceId: string; targetId: string | null }[] }> {
    const ordered = [...comments].sort((a, b) => a.position - b.position);
    let writes = await v2WritesOfTickets(this.deps.db, this.source, [t.sourceId]);
    const created = writes.get(`ticket:${t.sourceId}`);
    if (created?.state === 'done' && created.targetId && !(await this.ticketExists(created.targetId))) {
      // The ticket was deleted since (a rollback): its recorded writes describe nothing any more.
      await clearV2Writes(this.deps.db, this.source, t.sourceId);
      writes = new Map();
    }
    const ctx = await this.context([t], ordered);
    const head = buildImportTicket(ctx, { ...t, ccHeader: true }, []);
    const parts = ordered.map((c, i) => this.parts(ctx, t, c, i === 0));
    const [first, ...restOfFirst] = parts[0] ?? [{ key: '', commentSourceId: '', body: '<p><em>(this ticket had no messages)</em></p>', public: false, files: [] }];
    const inboxId = this.inboxId(head);
    // R10 as the import path does it: values the target can hold are set, the rest written into the first message.
    const firstMessage = { threads: [{ body: first!.body }] };
    const values = fieldValuesForImport(firstMessage, t, this.deps.directory.customFields, await this.fields(), inboxId);
    const ticketMarker = v2Marker(this.source, 'ticket', t.sourceId);
    let firstMessageId: string | null = null;
    const ticketId = await this.once(`ticket:${t.sourceId}`, t.sourceId, ordered[0]?.sourceId ?? null, writes, runId, first!.files,
      () => findTicketByMarker(this.deps.client, ticketMarker),
      async (fileIds) => {
        const agent = head.assignedTo ? this.deps.directory.agent(head.assignedTo.email) : undefined;
        const created = await createTicketV2(this.deps.client, {
          subject: head.subject, message: firstMessage.threads[0]!.body + markerHtml(ticketMarker),
          customerEmail: head.customer.email, inboxId,
          statusId: this.deps.directory.status(t.status)?.id,
          priorityId: await this.refs.priority(t.priority), typeId: await this.refs.type(t.type),
          agentId: agent?.id, tagIds: await this.refs.tags(head.tags), fileIds, customfields: values,
        });
        firstMessageId = created.messageId;
        return created.ticketId;
      });
    const done: { sourceId: string; targetId: string | null }[] = [];
    if (ordered[0]) {
      await this.post(ticketId, t.sourceId, restOfFirst, writes, runId);
      done.push({ sourceId: ordered[0].sourceId, targetId: firstMessageId });
    }
    for (const [i, c] of ordered.entries()) {
      if (i === 0) continue;
      done.push({ sourceId: c.sourceId, targetId: await this.post(ticketId, t.sourceId, parts[i]!, writes, runId) });
    }
    return { ticketId, comments: done };
  }

  /**
   * Comments that arrived after their ticket was loaded (R19), in order. `onDone` runs after each
   * comment is fully written, so a failure part-way leaves the earlier ones recorded.
   */
  async appendComments(t: CanonicalTicket, ticketTargetId: string, comments: CanonicalComment[], runId: number,
    onDone: (sourceId: string, targetId: string | null) => Promise<void>): Promise<void> {
    const ordered = [...comments].sort((a, b) => a.position - b.position);
    const writes = await v2WritesOfTickets(this.deps.db, this.source, [t.sourceId]);
    const ctx = await this.context([t], ordered);
    for (const c of ordered) {
      await onDone(c.sourceId, await this.post(ticketTargetId, t.sourceId, this.parts(ctx, t, c, false), writes, runId));
    }
  }

  private async ticketExists(id: string): Promise<boolean> {
    try {
      await this.deps.client.request('GET', `${this.deps.client.v2}/tickets/${id}.json`, { query: { fields: 'id' } });
      return true;
    } catch (err) {
      if (err instanceof TargetHttpError && err.status === 404) return false;
      throw err;
    }
  }

  /** Posts a comment's parts; answers the first part's message id. */
  private async post(ticketId: string, ticketSourceId: string, parts: Part[], writes: Map<string, V2Write>, runId: number): Promise<string | null> {
    let first: string | null = null;
    for (const p of parts) {
      const marker = v2Marker(this.source, 'comment', p.commentSourceId, Number(p.key.split(':').at(-1)));
      const id = await this.once(p.key, ticketSourceId, p.commentSourceId, writes, runId, p.files,
        () => findMessageByMarker(this.deps.client, ticketId, marker),
        (fileIds) => postMessageV2(this.deps.client, ticketId, {
          body: p.body + markerHtml(marker), fileIds,
          threadType: p.public && this.config.load.v2PublicReplies ? 'message' : 'note',
        }));
      first ??= id;
    }
    return first;
  }

  /** One write, at most once: done → its id; in doubt → look it up; else upload, record intent, call, record done. */
  private async once(key: string, ticketSourceId: string, commentSourceId: string | null, writes: Map<string, V2Write>, runId: number,
    files: LoadAttachment[], lookup: () => Promise<string | null>, call: (fileIds: number[]) => Promise<string>): Promise<string> {
    const { db } = this.deps;
    const prior = writes.get(key);
    if (prior?.state === 'done' && prior.targetId) return prior.targetId;
    if (prior) {
      const found = await lookup();
      if (found) {
        await recordV2Done(db, this.source, key, found);
        this.deps.log.info({ key, targetId: found }, 'v2 write in doubt was found in the target; not repeated');
        return found;
      }
    }
    const fileIds = prior && prior.fileIds.length > 0 ? prior.fileIds : await this.upload(files);
    await recordV2Intent(db, { source: this.source, key, ticketSourceId, commentSourceId, fileIds, runId });
    writes.set(key, { key, state: 'intent', targetId: null, fileIds });
    this.writes++;
    const id = await call(fileIds);
    this.written(key.startsWith('ticket:') ? 'ticket' : 'message');
    await recordV2Done(db, this.source, key, id);
    writes.set(key, { key, state: 'done', targetId: id, fileIds });
    return id;
  }

  private async upload(files: LoadAttachment[]): Promise<number[]> {
    if (files.length === 0) return [];
    const types = await blobContentTypes(this.deps.db, this.source, files.map((f) => f.blobPath!));
    const ids: number[] = [];
    for (const f of files) {
      const mime = types.get(f.blobPath!);
      this.writes += 2; // files/ref and the confirm (the storage POST is not a Desk call)
      ids.push((await uploadFileV2(this.deps.client, { path: join(this.blobDir, f.blobPath!), fileName: f.fileName, contentType: mime ?? null, inline: f.inline })).fileId);
      this.written('file');
    }
    return ids;
  }

  /**
   * A comment as v2 messages, rendered by the import's own builder (headers, CC line, inline-image
   * markers, attachments that could not be fetched, 20 MB groups) so both paths say the same thing;
   * the author header is always on, since v2 signs everything as the key's user.
   */
  private parts(ctx: ImportContext & { byBlob: Map<string, LoadAttachment> }, t: CanonicalTicket, c: CanonicalComment, first: boolean): Part[] {
    const chunks = splitHtml(c.bodyHtml, CHUNK_CHARS);
    const out: Part[] = [];
    for (const [k, chunk] of chunks.entries()) {
      const piece: CanonicalComment = {
        ...c, authorHeader: true, attachments: k === 0 ? c.attachments : [],
        bodyHtml: chunks.length > 1 ? `${chunk}<p><em>(part ${k + 1} of ${chunks.length})</em></p>` : chunk,
      };
      // Only the ticket's first message carries its CC line and its original assignee's line.
      const head = first && k === 0;
      const ticket = { ...t, ccSourceIds: head ? t.ccSourceIds : [], assigneeSourceId: head ? t.assigneeSourceId : null, ccHeader: true };
      const threads = buildImportTicket(k === 0 ? ctx : { ...ctx, attachments: new Map() }, ticket, [piece]).threads;
      for (const th of threads) {
        out.push({
          key: `comment:${c.sourceId}:${out.length}`, commentSourceId: c.sourceId, body: th.body, public: th.type === 'message',
          files: th.attachments.map((a) => ctx.byBlob.get(a.downloadurl.slice(BLOB_TOKEN.length))!).filter(Boolean),
        });
      }
    }
    return out;
  }

  private async context(tickets: CanonicalTicket[], comments: CanonicalComment[]): Promise<ImportContext & { byBlob: Map<string, LoadAttachment> }> {
    const { db, directory } = this.deps;
    const people = new Set<string>();
    for (const t of tickets) {
      people.add(t.requesterSourceId);
      if (t.assigneeSourceId) people.add(t.assigneeSourceId);
      t.ccSourceIds.forEach((id) => people.add(id));
    }
    for (const c of comments) if (c.authorSourceId) people.add(c.authorSourceId);
    const attachments = await attachmentsOfComments(db, this.source, comments.map((c) => c.sourceId));
    const byBlob = new Map<string, LoadAttachment>();
    for (const list of attachments.values()) for (const a of list) if (a.blobPath) byBlob.set(a.blobPath, a);
    return {
      source: this.source, mapping: this.config.mapping, directory,
      // Every v2 message carries the author header, so who "signs" it in the import sense does not matter.
      fallbackAgent: { email: 'deskport@invalid', firstName: 'deskport', lastName: '', type: 'user' },
      people: await stagedBySourceIds(db, 'people', this.source, [...people]),
      attachments,
      // The import wants URLs; v2 uploads the bytes, so the "URL" is a token naming the blob.
      signUrl: (blobPath: string) => `${BLOB_TOKEN}${blobPath}`,
      byBlob,
    };
  }

  /** The routed inbox (by address, as the import routes), else the fallback inbox. */
  private inboxId(head: ImportTicket): number {
    const { directory } = this.deps;
    const routed = head.emailSource ? directory.inboxes.find((i) => i.email?.toLowerCase() === head.emailSource!.toLowerCase()) : undefined;
    const id = routed?.id ?? directory.fallbackInboxId(this.config.target.fallbackInboxId);
    if (id === undefined) throw new Error('the target has no inbox; create one or set target.fallbackInboxId');
    return id;
  }

  private fields(): Promise<Map<string, CanonicalCustomField>> {
    this.sourceFields ??= refsOfKind(this.deps.db, this.source, 'custom_fields').then((list) => new Map(list.map((f) => [f.sourceId, f])));
    return this.sourceFields;
  }
}
