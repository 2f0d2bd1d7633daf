import type { Config } from '../core/config.ts';
import { DeskportError, TargetHttpError } from '../core/errors.ts';
import { commentSizes, commentsOfTickets, markLoaded, ticketsStartedOnV2, type ClaimedRow } from '../staging/index.ts';
import type { CanonicalEntity, CanonicalTicket } from '../staging/canonical.ts';
import { MAX_BODY_CHARS } from './import-payload.ts';
import { V2Writer, type V2WriterDeps } from './v2-writes.ts';

/** What the loader lends the fallback: its outcome counters and its failure handling. */
export interface FallbackHooks {
  count(entity: CanonicalEntity, outcome: 'loaded' | 'skipped' | 'failed', n?: number): void;
  fail(entity: CanonicalEntity, sourceIds: string[], err: unknown, runId: number): Promise<void>;
}

/** JSON and thread fields around each comment body in an import request (an upper estimate). */
const PER_COMMENT_OVERHEAD = 1024;
/** Headers the import builder adds to a body (author, CC line, markers) before its length check. */
const HEADER_ROOM = 4096;

/**
 * The v2 fallback (issue 7): a ticket the v1 import would refuse for its size — the request over
 * the import's body cap, or a comment over the per-message limit — is written through v2
 * instead of failing, with all its comments and attachments. A ticket v2 has started stays on
 * v2, so a retry after a crash can never import it a second time.
 */
export class V2Fallback {
  private readonly writer: V2Writer;

  constructor(private readonly deps: V2WriterDeps, private readonly config: Config, private readonly hooks: FallbackHooks) {
    this.writer = new V2Writer(deps, config);
  }

  /** A refusal that means "too big for the import": 413, or a body over the per-message limit. */
  static refusedForSize(err: unknown): boolean {
    return (err instanceof TargetHttpError && err.status === 413) || (err instanceof DeskportError && err.code === 'DESKPORT_BODY_TOO_LONG');
  }

  /** Writes the claimed tickets that belong on v2; answers the rest, for the import. */
  async take(rows: ClaimedRow<'tickets'>[], runId: number): Promise<ClaimedRow<'tickets'>[]> {
    if (rows.length === 0) return rows;
    const ids = rows.map((r) => r.sourceId);
    const started = await ticketsStartedOnV2(this.deps.db, this.config.source.name, ids);
    const sizes = await commentSizes(this.deps.db, this.config.source.name, ids);
    const cap = this.config.target.importMaxBodyBytes;
    const mine: CanonicalTicket[] = [];
    const rest: ClaimedRow<'tickets'>[] = [];
    for (const r of rows) {
      const s = sizes.get(r.sourceId);
      const big = s !== undefined && (s.bytes * 1.1 + s.count * PER_COMMENT_OVERHEAD > cap || s.longest > MAX_BODY_CHARS - HEADER_ROOM);
      if (started.has(r.sourceId) || big) mine.push(r.data);
      else rest.push(r);
    }
    if (mine.length > 0) await this.write(mine, runId);
    return rest;
  }

  /** Each ticket with its whole history through v2; a failure fails (or puts in doubt) that ticket alone. */
  async write(tickets: CanonicalTicket[], runId: number): Promise<void> {
    const { db } = this.deps;
    const source = this.config.source.name;
    for (const t of tickets) {
      try {
        const comments = (await commentsOfTickets(db, source, [t.sourceId])).get(t.sourceId) ?? [];
        this.deps.log.info({ ticket: t.sourceId, comments: comments.length }, 'ticket too big for the import; writing it through v2');
        const r = await this.writer.writeTicket(t, comments, runId);
        await markLoaded(db, { entity: 'comments', source, runId, items: r.comments });
        const { comments: n } = await markLoaded(db, { entity: 'tickets', source, runId, items: [{ sourceId: t.sourceId, targetId: r.ticketId }] });
        this.hooks.count('tickets', 'loaded');
        this.hooks.count('comments', 'loaded', n);
      } catch (err) {
        await this.hooks.fail('tickets', [t.sourceId], err, runId);
      }
    }
  }
}
