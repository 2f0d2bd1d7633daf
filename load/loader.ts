import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import type { Config } from '../core/config.ts';
import { DeskportError, errorMessage, TargetHttpError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { counter } from '../core/metrics.ts';
import {
  attachmentsOfComments, claimForLoad, recordKeptAssignees, commentsOfTickets, loadingCount, failOrphanComments, importSourceFor, markFailed, markLoaded, markSkipped, ONLY_ON_SKIPPED_REASON, peopleOnlySkippedTickets, pendingCounts, refsOfKind, renewClaims, stagedBySourceIds, targetIds,
  ticketsNotReady, type ClaimedRow, type Db, type IdOrigin,
} from '../staging/index.ts';
import type { CanonicalCompany, CanonicalCustomField, CanonicalEntity, CanonicalPerson, CanonicalTicket } from '../staging/canonical.ts';
import { fieldValuesForImport, type FieldValue } from './custom-fields.ts';
import { OutcomeUnknownError, type TeamworkDeskClient } from './client.ts';
import { buildImportTicket, type ImportContext, type ImportTicket, type ImportUser } from './import-payload.ts';
import type { BlobServer } from './blob-server.ts';
import { chunks, forEachLimit } from './concurrency.ts';
import { loadKnowledgeBase } from './kb-loader.ts';
import { keptAssignee } from './original-assignee.ts';
import { V2Fallback } from './v2-fallback.ts';
import { LoadProgress } from './progress.ts';
import { listAll, type TargetDirectory } from './target-directory.ts';

export interface LoaderDeps {
  db: Db; client: TeamworkDeskClient; directory: TargetDirectory; log: Logger; registry: Registry;
  /** Where the loader reports what it finished (the CLI renders it); a silent one by default. */
  progress?: LoadProgress;
  /** Serves attachment bytes to the target under signed URLs (the import downloads them). */
  blobs?: BlobServer;
}
export interface LoadOptions {
  runId: number;
  /** Only these tickets (a demo by ids); their people and companies load as needed. */
  ticketIds?: string[];
  /** Transform has caught up: tickets still missing comments will never complete; fail them. */
  finalPass?: boolean;
  /** Stops claiming new rows (rows in flight finish and are recorded): a clean stop on Ctrl-C. */
  signal?: AbortSignal;
}
export type LoadSummary = Record<CanonicalEntity, { loaded: number; skipped: number; failed: number; calls: number }> & { calls: number; seconds: number };

interface IdResponse { [key: string]: { id?: number } | unknown }

/** The id inside a v2 single-resource envelope, e.g. `{"company": {"id": 7}}`. */
function envelopeId(body: unknown, key: string): string | null {
  const id = ((body as IdResponse | null)?.[key] as { id?: unknown } | undefined)?.id;
  return typeof id === 'number' || typeof id === 'string' ? String(id) : null;
}

function isClientError(err: unknown): err is TargetHttpError {
  return err instanceof TargetHttpError && err.status >= 400 && err.status < 500 && err.status !== 429;
}

/**
 * Writes staged rows to Teamwork Desk in dependency order — companies → customers (agents are
 * matched, never created: R9) → tickets with their whole thread history through the v1 import
 * → final status through v2 — and records target ids. Every claimed row is written at most once:
 * a row that was tried before is looked up in the target before it is created again.
 */
export class Loader {
  private readonly loaderId = randomUUID();
  private readonly summary: LoadSummary;
  private readonly outcomes;
  private readonly failures;
  private readonly source: string;
  private readonly progress: LoadProgress;
  /** Tickets too big for the import go through v2 instead (load/v2-fallback.ts). */
  private readonly v2: V2Fallback;
  /** The import's dedupe `source` string for this run (moves on after a rollback: importSourceFor). */
  private importSource: string;
  /** The source's custom-field definitions (option labels), read once per run. */
  private sourceFields: Promise<Map<string, CanonicalCustomField>> | null = null;
  /** Customers mentioned only on tickets the filters excluded, read once per run. */
  private onlyOnSkipped: Promise<Set<string>> | null = null;

  constructor(private readonly deps: LoaderDeps, private readonly config: Config) {
    this.source = config.source.name;
    this.importSource = config.target.importSource;
    const zero = () => ({ loaded: 0, skipped: 0, failed: 0, calls: 0 });
    this.summary = { companies: zero(), people: zero(), tickets: zero(), comments: zero(), kb_categories: zero(), kb_articles: zero(), calls: 0, seconds: 0 };
    this.outcomes = counter(deps.registry, 'deskport_load_records_total', 'Records the loader finished, by outcome', ['entity', 'outcome']);
    this.failures = counter(deps.registry, 'deskport_load_failures_total', 'Records failed or put back in doubt, by kind of error (an HTTP status or an error code)', ['entity', 'reason']);
    this.progress = deps.progress ?? new LoadProgress(deps.registry);
    this.v2 = new V2Fallback(deps, config, { count: (e, o, n) => this.count(e, o, n), fail: (e, ids, err, runId) => this.fail(e, ids, err, runId) });
  }

  async run(opts: LoadOptions): Promise<LoadSummary> {
    const started = Date.now();
    this.importSource = await importSourceFor(this.deps.db, { source: this.source, importSource: this.config.target.importSource });
    const calls0 = this.deps.client.callCount;
    let scope: { companies?: string[]; people?: string[] } = {};
    if (opts.ticketIds) scope = await this.scopeOfTickets(opts.ticketIds);
    // Claims are kept fresh while this loader lives, so a loader that dies hands its rows over
    // after one lease instead of holding them.
    const heartbeat = setInterval(() => {
      renewClaims(this.deps.db, this.loaderId).catch((err) => this.deps.log.warn({ err }, 'could not renew claims'));
    }, Math.max(1000, (this.config.load.leaseSeconds * 1000) / 3));
    try {
      await this.drain('companies', scope.companies, (rows) => this.loadCompanies(rows, opts.runId), opts.signal);
      await this.drain('people', scope.people, (rows) => this.loadPeople(rows, opts.runId), opts.signal);
      // Several import batches in flight at once: the shared budget, not this loop, sets the pace.
      const { importBatchSize } = this.config.target;
      await this.drain('tickets', opts.ticketIds, (rows) => forEachLimit(chunks(rows, importBatchSize), this.config.load.concurrency, (batch) => this.loadTickets(batch, opts.runId)),
        opts.signal, importBatchSize * this.config.load.concurrency);
      if (opts.finalPass && !opts.signal?.aborted) await this.failIncompleteTickets(opts.runId);
      // Knowledge base after tickets, so its ticket links can be rewritten (load/kb-loader.ts); not in a demo by ticket ids.
      if (!opts.ticketIds && !opts.signal?.aborted) {
        await loadKnowledgeBase({ ...this.deps, config: this.config, loaderId: this.loaderId, runId: opts.runId, signal: opts.signal, count: (e, o, n) => this.count(e, o, n) });
      }
    } finally {
      clearInterval(heartbeat);
    }
    this.summary.calls = this.deps.client.callCount - calls0;
    this.summary.seconds = (Date.now() - started) / 1000;
    return this.summary;
  }

  /** The requesters, assignees, CCs, comment authors and companies that some tickets need. */
  private async scopeOfTickets(ticketIds: string[]): Promise<{ companies: string[]; people: string[] }> {
    const tickets = await stagedBySourceIds(this.deps.db, 'tickets', this.source, ticketIds);
    const comments = await commentsOfTickets(this.deps.db, this.source, ticketIds);
    const people = new Set<string>();
    const companies = new Set<string>();
    for (const t of tickets.values()) {
      people.add(t.requesterSourceId);
      if (t.assigneeSourceId) people.add(t.assigneeSourceId);
      t.ccSourceIds.forEach((id) => people.add(id));
      if (t.companySourceId) companies.add(t.companySourceId);
    }
    for (const list of comments.values()) for (const c of list) if (c.authorSourceId) people.add(c.authorSourceId);
    const staged = await stagedBySourceIds(this.deps.db, 'people', this.source, [...people]);
    for (const p of staged.values()) if (p.companySourceId) companies.add(p.companySourceId);
    return { companies: [...companies], people: [...people] };
  }

  private async drain<E extends CanonicalEntity>(
    entity: E, sourceIds: string[] | undefined, handle: (rows: ClaimedRow<E>[]) => Promise<void>, signal: AbortSignal | undefined, limit = 50,
  ): Promise<void> {
    if ((sourceIds && sourceIds.length === 0) || signal?.aborted) return;
    this.progress.start(entity, sourceIds ? sourceIds.length : (await pendingCounts(this.deps.db, this.source))[entity]);
    while (!signal?.aborted) {
      const rows = await claimForLoad(this.deps.db, {
        entity, source: this.source, loaderId: this.loaderId, limit, leaseSeconds: this.config.load.leaseSeconds, ...(sourceIds ? { sourceIds } : {}),
      });
      if (rows.length === 0) {
        // Rows another loader still holds: a live one will finish them, a dead one's lease runs
        // out and they are ours. Either way this phase is not over until none is in flight,
        // or the next phase would run ahead of its parents and a lone restart would stop short.
        if ((await loadingCount(this.deps.db, entity, this.source, sourceIds)) === 0) return;
        await sleep(Math.min(1000, (this.config.load.leaseSeconds * 1000) / 4), undefined, { signal }).catch(() => undefined);
        continue;
      }
      const calls = this.deps.client.callCount;
      const finished = () => this.summary[entity].loaded + this.summary[entity].skipped + this.summary[entity].failed;
      const before = finished();
      await handle(rows);
      this.summary[entity].calls += this.deps.client.callCount - calls;
      // Rows that went back to pending (outcome unknown) are not progress; they come round again.
      this.progress.advance(finished() - before, this.deps.client.callCount - calls);
    }
  }

  private count(entity: CanonicalEntity, outcome: 'loaded' | 'skipped' | 'failed', n = 1): void {
    this.summary[entity][outcome] += n;
    this.outcomes.inc({ entity, outcome }, n);
  }

  private async fail(entity: CanonicalEntity, sourceIds: string[], err: unknown, runId: number): Promise<void> {
    // A write with no clear answer goes back to pending, in doubt: the next claim looks it up first.
    const retry = err instanceof OutcomeUnknownError;
    const reason = errorMessage(err);
    // The label is the error's kind, never its message: labels must stay few.
    this.failures.inc({ entity, reason: err instanceof TargetHttpError ? `http_${err.status}` : err instanceof DeskportError ? err.code : 'other' }, sourceIds.length);
    await markFailed(this.deps.db, { entity, source: this.source, runId, sourceIds, reason, retry, maxAttempts: this.config.load.maxAttempts });
    if (!retry) this.count(entity, 'failed', sourceIds.length);
    this.deps.log.warn({ entity, sourceIds: sourceIds.slice(0, 5), reason }, retry ? 'outcome unknown; will look up and retry' : 'record failed');
  }

  // ---- companies ----------------------------------------------------------------------------

  private async loadCompanies(rows: ClaimedRow<'companies'>[], runId: number): Promise<void> {
    await forEachLimit(rows, this.config.load.concurrency, async (row) => {
      try {
        // A company found by name may have existed before: 'matched', which a rollback never deletes.
        const found = row.inDoubt ? await this.findCompany(row.data) : null;
        const id = found ?? await this.createCompany(row.data);
        await markLoaded(this.deps.db, { entity: 'companies', source: this.source, runId, items: [{ sourceId: row.sourceId, targetId: id, origin: found ? 'matched' : 'created' }] });
        this.count('companies', 'loaded');
      } catch (err) {
        await this.fail('companies', [row.sourceId], err, runId);
      }
    });
  }

  private async findCompany(c: CanonicalCompany): Promise<string | null> {
    const found = await listAll<{ id: number; name: string }>(this.deps.client, 'companies', { filter: JSON.stringify({ name: { $eq: c.name } }) });
    return found.length > 0 ? String(found[0]!.id) : null;
  }

  private async createCompany(c: CanonicalCompany): Promise<string> {
    const { client } = this.deps;
    const body = await client.request('POST', `${client.v2}/companies.json`, {
      body: {
        company: { name: c.name, ...(c.details ? { details: c.details } : {}), ...(c.notes ? { note: c.notes } : {}) },
        included: { domains: c.domains.map((name) => ({ name })) },
      },
    });
    const id = envelopeId(body, 'company');
    if (!id) throw new Error('company create answered without an id');
    return id;
  }

  // ---- people -------------------------------------------------------------------------------

  private async loadPeople(rows: ClaimedRow<'people'>[], runId: number): Promise<void> {
    const companyIds = await targetIds(this.deps.db, this.source, 'companies', rows.map((r) => r.data.companySourceId).filter((x): x is string => !!x));
    await forEachLimit(rows, this.config.load.concurrency, async (row) => {
      const p = row.data;
      try {
        if (p.role === 'agent') {
          const agent = this.deps.directory.agent(p.email);
          if (agent) {
            await markLoaded(this.deps.db, { entity: 'people', source: this.source, runId, items: [{ sourceId: row.sourceId, targetId: String(agent.id), origin: 'matched' }] });
            this.count('people', 'loaded');
          } else {
            await markSkipped(this.deps.db, {
              entity: 'people', source: this.source, runId, sourceIds: [row.sourceId],
              reason: `agent ${p.email ?? '(no email)'} is not an agent of the target; their messages are signed by the fallback agent with an author header`,
            });
            this.count('people', 'skipped');
          }
          return;
        }
        this.onlyOnSkipped ??= peopleOnlySkippedTickets(this.deps.db, this.source);
        if ((await this.onlyOnSkipped).has(row.sourceId)) {
          await markSkipped(this.deps.db, {
            entity: 'people', source: this.source, runId, sourceIds: [row.sourceId],
            reason: ONLY_ON_SKIPPED_REASON,
          });
          this.count('people', 'skipped');
          return;
        }
        if (!p.email) {
          await markSkipped(this.deps.db, {
            entity: 'people', source: this.source, runId, sourceIds: [row.sourceId],
            reason: 'customer has no email; their tickets use a placeholder address',
          });
          this.count('people', 'skipped');
          return;
        }
        const companyId = p.companySourceId ? companyIds.get(p.companySourceId) : undefined;
        const { id, origin } = (row.inDoubt ? await this.findCustomer(p.email, p.sourceId) : null) ?? await this.createCustomer(p, companyId);
        await markLoaded(this.deps.db, { entity: 'people', source: this.source, runId, items: [{ sourceId: row.sourceId, targetId: id, origin }] });
        this.count('people', 'loaded');
      } catch (err) {
        await this.fail('people', [row.sourceId], err, runId);
      }
    });
  }

  /** The customer with this email; 'created' only if it carries this person's externalId (an earlier attempt of ours). */
  private async findCustomer(email: string, sourceId: string): Promise<{ id: string; origin: IdOrigin } | null> {
    const found = await listAll<{ id: number; externalId?: string }>(this.deps.client, 'customers', { filter: JSON.stringify({ 'contacts.value': { $eq: email } }) });
    if (found.length === 0) return null;
    return { id: String(found[0]!.id), origin: found[0]!.externalId === `${this.source}:${sourceId}` ? 'created' : 'matched' };
  }

  private async createCustomer(p: CanonicalPerson, companyId: string | undefined): Promise<{ id: string; origin: IdOrigin }> {
    const { client } = this.deps;
    try {
      const body = await client.request('POST', `${client.v2}/customers.json`, {
        body: {
          customer: {
            firstName: p.firstName, lastName: p.lastName, externalId: `${this.source}:${p.sourceId}`,
            ...(p.phone ? { phone: p.phone } : {}),
          },
          included: {
            contacts: [{ value: p.email, type: 'email', isMain: true }],
            ...(companyId ? { companies: [{ id: Number(companyId) }] } : {}),
          },
        },
      });
      const id = envelopeId(body, 'customer');
      if (!id) throw new Error('customer create answered without an id');
      return { id, origin: 'created' };
    } catch (err) {
      // The customer may already exist in the target (a live site): reuse it rather than fail,
      // and never let a rollback delete it.
      if (isClientError(err)) {
        const existing = await this.findCustomer(p.email!, p.sourceId);
        if (existing) return { id: existing.id, origin: 'matched' };
      }
      throw err;
    }
  }

  // ---- tickets ------------------------------------------------------------------------------

  private fallbackAgent(): ImportUser {
    const { directory } = this.deps;
    const wanted = this.config.mapping.fallbackAgentEmail;
    const agent = wanted ? directory.agent(wanted) : [...directory.agentsByEmail.values()].find((u) => u.state !== 'deleted');
    if (!agent?.email) throw new Error(wanted ? `fallback agent ${wanted} is not an agent of the target` : 'the target has no agent to sign notes with');
    return { email: agent.email.toLowerCase(), firstName: agent.firstName ?? '', lastName: agent.lastName ?? '', type: 'user' };
  }

  private async loadTickets(claimed: ClaimedRow<'tickets'>[], runId: number): Promise<void> {
    await this.recordKeptAssignees(claimed);
    // Tickets too big for the import (or already started on v2) are written through v2 instead.
    const rows = await this.v2.take(claimed, runId);
    if (rows.length === 0) return;
    const { db } = this.deps;
    const ids = rows.map((r) => r.sourceId);
    const comments = await commentsOfTickets(db, this.source, ids);
    const personIds = new Set<string>();
    for (const r of rows) {
      personIds.add(r.data.requesterSourceId);
      if (r.data.assigneeSourceId) personIds.add(r.data.assigneeSourceId);
      r.data.ccSourceIds.forEach((id) => personIds.add(id));
    }
    for (const list of comments.values()) for (const c of list) if (c.authorSourceId) personIds.add(c.authorSourceId);
    let ctx: ImportContext;
    try {
      ctx = {
        source: this.source, mapping: this.config.mapping, directory: this.deps.directory, fallbackAgent: this.fallbackAgent(),
        people: await stagedBySourceIds(db, 'people', this.source, [...personIds]),
        attachments: await attachmentsOfComments(db, this.source, [...comments.values()].flat().map((c) => c.sourceId)),
        ...(this.deps.blobs ? { signUrl: (path: string, name: string) => this.deps.blobs!.sign(path, name) } : {}),
      };
    } catch (err) {
      await this.fail('tickets', ids, err, runId);
      return;
    }
    this.sourceFields ??= refsOfKind(db, this.source, 'custom_fields').then((list) => new Map(list.map((f) => [f.sourceId, f])));
    const sourceFields = await this.sourceFields;
    const tickets: CanonicalTicket[] = [];
    const payloads: ImportTicket[] = [];
    const fieldValues = new Map<string, FieldValue[]>();
    for (const r of rows) {
      try {
        const payload = buildImportTicket(ctx, r.data, comments.get(r.sourceId) ?? []);
        const values = fieldValuesForImport(payload, r.data, this.deps.directory.customFields, sourceFields, this.deps.directory.landingInboxId(r.data.inbox?.name ?? null, this.config.target.fallbackInboxId));
        if (values.length > 0) fieldValues.set(r.sourceId, values);
        payloads.push(payload);
        tickets.push(r.data);
      } catch (err) {
        await this.fail('tickets', [r.sourceId], err, runId);
      }
    }
    if (tickets.length > 0) await this.importTickets(tickets, payloads, runId, fieldValues);
  }


  /**
   * Issue 16.2: what each ticket keeps of a source assignee the target has no agent for, recorded
   * before the write (the report reads it for the tickets that loaded). A fallback agent the target
   * lacks is the ticket's own failure, raised again by the payload builder with its reason.
   */
  private async recordKeptAssignees(rows: ClaimedRow<'tickets'>[]): Promise<void> {
    const ids = rows.map((r) => r.data.assigneeSourceId).filter((x): x is string => x !== null);
    const people = await stagedBySourceIds(this.deps.db, 'people', this.source, ids);
    await recordKeptAssignees(this.deps.db, this.source, rows.map((r) => {
      try {
        return { sourceId: r.sourceId, kept: keptAssignee(r.data, people, this.deps.directory, this.config.mapping, this.source) };
      } catch {
        return { sourceId: r.sourceId, kept: null };
      }
    }));
  }

  /** One import call for the batch; a rejected batch is split so one bad ticket fails alone. */
  private async importTickets(tickets: CanonicalTicket[], payloads: ImportTicket[], runId: number, fieldValues: Map<string, FieldValue[]>): Promise<void> {
    const { client } = this.deps;
    const fallbackInboxId = this.deps.directory.fallbackInboxId(this.config.target.fallbackInboxId);
    const sourceIds = tickets.map((t) => t.sourceId);
    if (fallbackInboxId === undefined) {
      await this.fail('tickets', sourceIds, new Error('the target has no inbox; create one or set target.fallbackInboxId'), runId);
      return;
    }
    let body: unknown;
    try {
      body = await client.request('POST', '/desk/v1/import/tickets.json', {
        body: { source: this.importSource, fallbackInboxId, tickets: payloads },
        idempotent: true, // the target dedupes by (source, id)
      });
    } catch (err) {
      if (isClientError(err) && tickets.length > 1) {
        const half = Math.ceil(tickets.length / 2);
        await this.importTickets(tickets.slice(0, half), payloads.slice(0, half), runId, fieldValues);
        await this.importTickets(tickets.slice(half), payloads.slice(half), runId, fieldValues);
        return;
      }
      if (tickets.length === 1 && V2Fallback.refusedForSize(err)) {
        await this.v2.write(tickets, runId);
        return;
      }
      await this.fail('tickets', sourceIds, err, runId);
      return;
    }
    const results = importResults(body);
    const loaded: { sourceId: string; targetId: string }[] = [];
    for (const t of tickets) {
      const r = results.get(t.sourceId);
      if (r?.targetId) loaded.push({ sourceId: t.sourceId, targetId: r.targetId });
      else await this.fail('tickets', [t.sourceId], new Error(r?.error ?? 'the import answered without this ticket\'s id'), runId);
    }
    await this.applyStatusesAndFields(tickets, loaded, runId, fieldValues);
  }

  /**
   * The import closes every ticket and has no custom fields: set the mapped status back — one bulk
   * call per status — and, for tickets with field values, one PATCH each carrying their status too.
   */
  private async applyStatusesAndFields(
    tickets: CanonicalTicket[], loaded: { sourceId: string; targetId: string }[], runId: number, fieldValues: Map<string, FieldValue[]>,
  ): Promise<void> {
    const { client } = this.deps;
    const statusOf = new Map(tickets.map((t) => [t.sourceId, t.status]));
    const groups = new Map<string, { sourceId: string; targetId: string }[]>();
    const finish = async (items: { sourceId: string; targetId: string }[], write: () => Promise<void>) => {
      try {
        await write();
        const { comments } = await markLoaded(this.deps.db, { entity: 'tickets', source: this.source, runId, items });
        this.count('tickets', 'loaded', items.length);
        this.count('comments', 'loaded', comments);
      } catch (err) {
        await this.fail('tickets', items.map((i) => i.sourceId), err, runId);
      }
    };
    await forEachLimit(loaded, this.config.load.concurrency, async (l) => {
      const status = statusOf.get(l.sourceId)!;
      const values = fieldValues.get(l.sourceId);
      if (!values) {
        groups.set(status, [...(groups.get(status) ?? []), l]);
        return;
      }
      await finish([l], async () => {
        const statusRef = this.statusRef(status);
        await client.request('PATCH', `${client.v2}/tickets/${l.targetId}.json`, {
          idempotent: true, body: { ticket: { customfields: values, ...(statusRef ? { status: statusRef } : {}) } },
        });
      });
    });
    for (const [statusName, items] of groups) {
      await finish(items, async () => {
        const statusRef = this.statusRef(statusName);
        if (!statusRef) return;
        await client.request('PATCH', `${client.v2}/tickets/update.json`, {
          idempotent: true,
          body: { filter_args: { filter: { id: { $in: items.map((i) => Number(i.targetId)) } }, bulkDryExecute: false }, status: statusRef },
        });
      });
    }
  }

  /** The target status to set after the import (which leaves tickets Closed); null: Closed is right. */
  private statusRef(statusName: string): { id: number } | null {
    if (statusName.toLowerCase() === 'closed') return null;
    const status = this.deps.directory.status(statusName);
    if (!status) throw new Error(`status "${statusName}" does not exist in the target`);
    return { id: status.id };
  }

  /** After transform caught up, a ticket still waiting for comments would wait forever: fail it loudly. */
  private async failIncompleteTickets(runId: number): Promise<void> {
    for (const t of await ticketsNotReady(this.deps.db, this.source)) {
      const reason = t.confirmed
        ? `incomplete: ${t.staged} of ${t.expected} comments reached staging`
        : `incomplete: the source's comment count was never confirmed (the extraction did not finish, or the ticket was deleted in the source meanwhile); ${t.staged} comment(s) staged`;
      await markFailed(this.deps.db, { entity: 'tickets', source: this.source, runId, sourceIds: [t.sourceId], reason, fromStates: ['pending'] });
      this.count('tickets', 'failed');
    }
    // Comments of a ticket that never reached staging (rejected) would otherwise stay pending: missing.
    this.count('comments', 'failed', await failOrphanComments(this.deps.db, this.source, runId));
  }
}

/**
 * Reads the import's answer. Its shape is undocumented; deskport accepts the common forms:
 * `{tickets: [{id: <source id>, ticketId|deskId|newId: <target id>, status, error}]}`.
 */
export function importResults(body: unknown): Map<string, { targetId: string | null; error: string | null }> {
  const out = new Map<string, { targetId: string | null; error: string | null }>();
  const list = (body as { tickets?: unknown[]; results?: unknown[] } | null)?.tickets ?? (body as { results?: unknown[] } | null)?.results ?? [];
  for (const item of list as Record<string, unknown>[]) {
    const sourceId = item.id ?? item.sourceId ?? item.externalId;
    if (sourceId == null) continue;
    const target = item.ticketId ?? item.deskId ?? item.newId ?? item.targetId;
    const errors = Array.isArray(item.errors)
      ? (item.errors as { source?: string; detail?: string }[]).map((e) => [e.source, e.detail].filter(Boolean).join(': ')).join('; ')
      : null;
    const error = item.error ?? item.reason ?? (errors || null) ?? (item.status === 'failed' ? 'the import refused this ticket' : null);
    out.set(String(sourceId), {
      targetId: target == null ? null : String(target),
      error: typeof error === 'string' ? error : error ? JSON.stringify(error) : null,
    });
  }
  return out;
}
