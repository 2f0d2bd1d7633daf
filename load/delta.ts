import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Config } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import {
  changedLoadedTickets, claimDeltaComments, clearChangedSinceLoad, recordKeptAssignees, markFailed, markLoaded, refsOfKind, renewClaims, stagedBySourceIds,
  type ChangedTicket, type Db, type KeptAssignee,
} from '../staging/index.ts';
import type { CanonicalCustomField, CanonicalTicket } from '../staging/canonical.ts';
import { OutcomeUnknownError, type TeamworkDeskClient } from './client.ts';
import { resolveFieldValues } from './custom-fields.ts';
import { keptAssignee, targetAgentOf } from './original-assignee.ts';
import type { TargetDirectory } from './target-directory.ts';
import { V2Writer } from './v2-writes.ts';

export interface DeltaDeps { db: Db; client: TeamworkDeskClient; directory: TargetDirectory; log: Logger; registry?: Registry }

export interface DeltaSummary {
  appended: { comments: number; tickets: number; failed: number };
  updated: { fields: number; tickets: number; unchanged: number; failed: number };
  /** Desk calls that wrote something (posts, uploads, patches); a delta with nothing new makes none. */
  writes: number;
}

interface TargetTicket {
  id: number; subject?: string; status?: { id: number } | null; priority?: { id: number } | null; type?: { id: number } | null;
  agent?: { id: number } | null; inbox?: { id: number }; tags?: { id: number }[]; customfields?: { id: number; meta?: { value?: unknown } }[];
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The loaded side of a delta run (R19), after the loader created what is new: comments that
 * arrived on tickets already in the target are appended through v2 (as notes, see V2Writer),
 * and tickets whose source record changed get the fields that differ PATCHed — read first, so a
 * ticket that already matches costs one read and no write.
 */
export class DeltaApplier {
  private readonly loaderId = randomUUID();
  private readonly writer: V2Writer;
  private readonly source: string;
  private sourceFields: Promise<Map<string, CanonicalCustomField>> | null = null;
  /** What each ticket of the current page keeps of its original assignee, recorded once it matches. */
  private readonly kept = new Map<string, KeptAssignee | null>();

  constructor(private readonly deps: DeltaDeps, private readonly config: Config) {
    this.source = config.source.name;
    this.writer = new V2Writer(deps, config);
  }

  async run(runId: number, signal?: AbortSignal): Promise<DeltaSummary> {
    const summary: DeltaSummary = { appended: { comments: 0, tickets: 0, failed: 0 }, updated: { fields: 0, tickets: 0, unchanged: 0, failed: 0 }, writes: 0 };
    const heartbeat = setInterval(() => {
      renewClaims(this.deps.db, this.loaderId).catch((err) => this.deps.log.warn({ err }, 'could not renew claims'));
    }, Math.max(1000, (this.config.load.leaseSeconds * 1000) / 3));
    try {
      await this.appendComments(runId, summary, signal);
      await this.updateFields(summary, signal);
    } finally {
      clearInterval(heartbeat);
    }
    summary.writes = this.writer.writes;
    return summary;
  }

  /**
   * Only the field-diff half (issue 16.5): loaded tickets whose staged row changed since — a source
   * edit, or a mapping re-applied — get what differs PATCHed. `run` uses it after its load.
   */
  async bringInLine(signal?: AbortSignal): Promise<DeltaSummary['updated'] & { writes: number }> {
    const summary: DeltaSummary = { appended: { comments: 0, tickets: 0, failed: 0 }, updated: { fields: 0, tickets: 0, unchanged: 0, failed: 0 }, writes: 0 };
    await this.updateFields(summary, signal);
    return { ...summary.updated, writes: this.writer.writes };
  }

  private async appendComments(runId: number, summary: DeltaSummary, signal?: AbortSignal): Promise<void> {
    const { db } = this.deps;
    const touched = new Set<string>();
    while (!signal?.aborted) {
      const claimed = await claimDeltaComments(db, { source: this.source, loaderId: this.loaderId, limit: 100, leaseSeconds: this.config.load.leaseSeconds });
      if (claimed.length === 0) break;
      const byTicket = new Map<string, typeof claimed>();
      for (const c of claimed) byTicket.set(c.ticketSourceId, [...(byTicket.get(c.ticketSourceId) ?? []), c]);
      const tickets = await stagedBySourceIds(db, 'tickets', this.source, [...byTicket.keys()]);
      for (const [ticketSourceId, list] of byTicket) {
        const pending = new Set(list.map((c) => c.data.sourceId));
        try {
          await this.writer.appendComments(tickets.get(ticketSourceId)!, list[0]!.ticketTargetId, list.map((c) => c.data), runId, async (sourceId, targetId) => {
            await markLoaded(db, { entity: 'comments', source: this.source, runId, items: [{ sourceId, targetId }] });
            pending.delete(sourceId);
            summary.appended.comments++;
            touched.add(ticketSourceId);
          });
        } catch (err) {
          // Later comments wait for the one that failed, so the ticket's order holds.
          const retry = err instanceof OutcomeUnknownError;
          await markFailed(db, { entity: 'comments', source: this.source, runId, sourceIds: [...pending], reason: errorMessage(err), retry, maxAttempts: this.config.load.maxAttempts });
          if (!retry) summary.appended.failed += pending.size;
          this.deps.log.warn({ ticket: ticketSourceId, comments: pending.size, reason: errorMessage(err) }, retry ? 'append in doubt; will look up and retry' : 'append failed');
        }
      }
    }
    summary.appended.tickets = touched.size;
  }

  private async updateFields(summary: DeltaSummary, signal?: AbortSignal): Promise<void> {
    let after = '';
    while (!signal?.aborted) {
      const page = await changedLoadedTickets(this.deps.db, this.source, 100, after);
      if (page.length === 0) return;
      after = page.at(-1)!.sourceId;
      const done: { sourceId: string; contentHash: string }[] = [];
      for (const t of page) {
        try {
          const n = await this.updateTicket(t);
          if (n > 0) {
            summary.updated.fields += n;
            summary.updated.tickets++;
          } else summary.updated.unchanged++;
          done.push({ sourceId: t.sourceId, contentHash: t.contentHash });
        } catch (err) {
          // The flag stays: the next delta tries again.
          summary.updated.failed++;
          this.deps.log.warn({ ticket: t.sourceId, reason: errorMessage(err) }, 'could not update a changed ticket');
        }
      }
      await clearChangedSinceLoad(this.deps.db, this.source, done);
      await recordKeptAssignees(this.deps.db, this.source, done.map((d) => ({ sourceId: d.sourceId, kept: this.kept.get(d.sourceId) ?? null })));
      this.kept.clear();
    }
  }

  /** Reads the target ticket, PATCHes the fields that differ from the source; answers how many. */
  private async updateTicket(t: ChangedTicket): Promise<number> {
    const { client } = this.deps;
    const current = (await client.request<{ ticket?: TargetTicket }>('GET', `${client.v2}/tickets/${t.targetId}.json`))?.ticket;
    if (!current) throw new Error(`ticket ${t.targetId} answered without a body`);
    const patch = await this.differences(t.data, current);
    const fields = Object.keys(patch).reduce((n, k) => n + (k === 'customfields' ? (patch.customfields as unknown[]).length : 1), 0);
    if (fields === 0) return 0;
    this.writer.countUpdate();
    await client.request('PATCH', `${client.v2}/tickets/${t.targetId}.json`, { body: { ticket: patch }, idempotent: true });
    return fields;
  }

  /**
   * The PATCH body that brings `cur` to what the source and the mapping say now: subject, status,
   * priority, type, assignee, inbox (R13 routing), tags (with the kept original assignee's tag,
   * issue 16.2), custom fields.
   */
  private async differences(t: CanonicalTicket, cur: TargetTicket): Promise<Record<string, unknown>> {
    const { directory } = this.deps;
    const refs = this.writer.v2Refs;
    const patch: Record<string, unknown> = {};
    const subject = t.subject || '(no subject)';
    if (cur.subject !== subject) patch.subject = subject;
    const status = directory.status(t.status)?.id;
    if (status !== undefined && cur.status?.id !== status) patch.status = { id: status };
    // A name the target lacks is left as it is rather than cleared.
    const priority = await refs.priority(t.priority);
    if (priority !== undefined && cur.priority?.id !== priority) patch.priority = { id: priority };
    const type = await refs.type(t.type);
    if (type !== undefined && cur.type?.id !== type) patch.type = { id: type };
    // The inbox the import would route it to now (the routed one by name, else the fallback).
    const inbox = directory.landingInboxId(t.inbox?.name ?? null, this.config.target.fallbackInboxId);
    if (inbox !== undefined && cur.inbox?.id !== inbox) patch.inbox = { id: inbox };
    let kept: KeptAssignee | null = null;
    if (t.assigneeSourceId === null) {
      if (cur.agent) patch.agent = null;
    } else {
      const people = await stagedBySourceIds(this.deps.db, 'people', this.source, [t.assigneeSourceId]);
      kept = keptAssignee(t, people, directory, this.config.mapping, this.source);
      const agent = targetAgentOf(directory, people.get(t.assigneeSourceId)) ?? (kept?.assignedTo ? directory.agent(kept.assignedTo) : undefined);
      if (agent && cur.agent?.id !== agent.id) patch.agent = { id: agent.id };
    }
    this.kept.set(t.sourceId, kept);
    const want = new Set(await refs.tags(kept?.tag ? [...t.tags, kept.tag] : t.tags));
    const have = new Set((cur.tags ?? []).map((x) => x.id));
    const tags = [...[...want].filter((id) => !have.has(id)).map((id) => ({ id })), ...[...have].filter((id) => !want.has(id)).map((id) => ({ id, delete: true }))];
    if (tags.length > 0) patch.tags = tags;
    this.sourceFields ??= refsOfKind(this.deps.db, this.source, 'custom_fields').then((list) => new Map(list.map((f) => [f.sourceId, f])));
    const { values } = resolveFieldValues(t, directory.customFields, await this.sourceFields, inbox ?? cur.inbox?.id);
    const curValues = new Map((cur.customfields ?? []).map((v) => [v.id, v.meta?.value]));
    const changed = values.filter((v) => !sameValue(curValues.get(v.id), v.meta.value));
    if (changed.length > 0) patch.customfields = changed;
    return patch;
  }
}
