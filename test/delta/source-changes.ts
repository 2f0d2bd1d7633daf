/**
 * Changes to the Zendesk fixture server's data while it runs, as a live source changes between a
 * migration and its delta: a new ticket, a new comment on an existing ticket, a changed status.
 * Everything new carries timestamps past every stream's high-water mark, the way Zendesk's
 * incremental exports see fresh activity.
 */
import type { ApiDataset, TicketEvent } from '../fixtures/zendesk-server/dataset.ts';
import type { ZdComment, ZdTicket } from '../fixtures/zendesk-data.ts';

const iso = (s: number) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class SourceChanges {
  private clock: number;
  private nextId: number;

  constructor(private readonly ds: ApiDataset) {
    const stamps = [...ds.events.map((e) => e.timestamp), ...ds.tickets.map((t) => t.generated_timestamp)];
    this.clock = Math.max(...stamps) + 1000;
    this.nextId = Math.max(...[...ds.comments.values()].flat().map((c) => c.id), ...ds.events.map((e) => e.id)) + 1000;
  }

  private tick(): number {
    this.clock += 60;
    return this.clock;
  }

  private touch(t: ZdTicket, at: number): void {
    t.updated_at = iso(at);
    t.generated_timestamp = at;
  }

  /** A comment on ticket `ticketId`, with its audit event (comment sideloaded), public or not. */
  addComment(ticketId: number, authorId: number, html: string, isPublic = true): ZdComment {
    const t = this.ds.tickets.find((x) => x.id === ticketId)!;
    const list = this.ds.comments.get(ticketId)!;
    const at = this.tick();
    const id = this.nextId;
    this.nextId += 2;
    const comment: ZdComment = {
      ...structuredClone(list[0]!), id, audit_id: id + 1, author_id: authorId, public: isPublic, attachments: [],
      body: html.replace(/<[^>]*>/g, ''), plain_body: html.replace(/<[^>]*>/g, ''), html_body: html, created_at: iso(at),
    };
    list.push(comment);
    this.event(ticketId, at, comment.audit_id, authorId, [{
      id: comment.id, event_type: 'Comment', author_id: authorId, body: comment.body, html_body: html, plain_body: comment.plain_body,
      public: isPublic, attachments: [], audit_id: comment.audit_id, created_at: comment.created_at, via: comment.via,
    }], true, isPublic);
    this.touch(t, at);
    return comment;
  }

  /** A new ticket like `like`, with `comments` bodies (the first by the requester). */
  addTicket(like: ZdTicket, subject: string, comments: string[]): ZdTicket {
    const id = Math.max(...this.ds.tickets.map((t) => t.id)) + 100;
    const at = this.tick();
    const t: ZdTicket = { ...structuredClone(like), id, subject, raw_subject: subject, url: like.url.replace(/\d+\.json$/, `${id}.json`), created_at: iso(at), status: 'open' };
    this.touch(t, at);
    this.ds.tickets.push(t);
    this.ds.comments.set(id, []);
    for (const html of comments) this.addComment(id, t.requester_id, html);
    return t;
  }

  /** A field change (status, priority…) with its audit, the way an agent's update shows up. */
  change(ticketId: number, changes: Partial<Pick<ZdTicket, 'status' | 'priority' | 'subject'>>, actorId: number): void {
    const t = this.ds.tickets.find((x) => x.id === ticketId)!;
    const at = this.tick();
    const children = Object.entries(changes).map(([field, value], i) => ({
      id: this.nextId + i, event_type: 'Change', field_name: field, value, previous_value: (t as unknown as Record<string, unknown>)[field],
    }));
    this.nextId += 10;
    Object.assign(t, changes);
    this.event(ticketId, at, this.nextId++, actorId, children, false, false);
    this.touch(t, at);
  }

  private event(ticketId: number, at: number, id: number, actorId: number, children: Record<string, unknown>[], comment: boolean, isPublic: boolean): void {
    const e: TicketEvent = {
      id, ticket_id: ticketId, timestamp: at, created_at: iso(at), updater_id: actorId, via: { channel: 'web' },
      event_type: 'Audit', comment_present: comment, comment_public: isPublic, child_events: children,
    };
    this.ds.events.push(e);
  }
}
