import { DeskportError, errorMessage, TargetHttpError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { recordChangeDone, recordChangeFailed, recordChangeIntent, targetChange, type Db } from '../staging/index.ts';
import { OutcomeUnknownError, type TeamworkDeskClient } from './client.ts';
import { readTargetFields } from './preflight.ts';
import type { PlannedChange } from './prepare-plan.ts';
import { listAll, type Named } from './target-directory.ts';
import { ticketTypesFrom } from './ticket-meta.ts';
import { getTrigger, PAUSED_STATE, setTriggerState } from './triggers.ts';

/**
 * `deskport prepare --apply`, the writing half. Every change is recorded in staging as intent
 * before its call and completed with the target id after it; a change found in intent (a crash,
 * a lost answer) is looked up in the target — by label or name, a trigger by its state — before
 * it is made again, so prepare is resumable and never creates a thing twice.
 */

export interface ApplyDeps { db: Db; client: TeamworkDeskClient; log: Logger; target: string }
export interface AppliedChange {
  change: PlannedChange;
  outcome: 'made' | 'failed' | 'skipped';
  targetId: string | null;
  /** The answer was lost and the record was found in the target afterwards (or before retrying). */
  found: boolean;
  error?: string;
}

const lc = (s: string) => s.trim().toLowerCase();
/** Tries per change: a lost answer that the look-up does not find is retried, this many times in all. */
const MAX_ATTEMPTS = 3;

function idOf(body: unknown, ...keys: string[]): string | null {
  const b = body as Record<string, { id?: unknown } | unknown> | null;
  for (const k of keys) {
    const id = (b?.[k] as { id?: unknown } | undefined)?.id;
    if (typeof id === 'number' || typeof id === 'string') return String(id);
  }
  const top = (b as { id?: unknown } | null)?.id;
  return typeof top === 'number' || typeof top === 'string' ? String(top) : null;
}

async function byName(client: TeamworkDeskClient, resource: string, name: string, query: Record<string, string> = {}): Promise<string | null> {
  const found = (await listAll<Named>(client, resource, query)).find((x) => lc(x.name ?? '') === lc(name));
  return found ? String(found.id) : null;
}

/** The request that makes a change; answers the new record's id (null: the answer did not say). */
async function make(client: TeamworkDeskClient, c: PlannedChange): Promise<string | null> {
  const v2 = client.v2;
  switch (c.kind) {
    case 'custom-field': {
      // v1, flat body, as Teamwork's sample (teamwork-desk-api.md §9); staff-only: no customer apps.
      const body = await client.request('POST', '/desk/v1/customfields.json', {
        body: {
          agentLabel: c.label, customerLabel: c.label, description: `Migrated by deskport from source field "${c.sourceName}" (${c.sourceFieldId})`,
          kind: c.fieldKind, ...(c.options.length > 0 ? { options: c.options.map((name, i) => ({ name, displayOrder: i })) } : {}),
          agentRequired: false, customerRequired: false, enabled: true, addToNewInboxes: false, inboxes: c.inboxIds,
        },
      });
      return idOf(body, 'customfield', 'customField');
    }
    case 'custom-field-option':
      return idOf(await client.request('POST', `${v2}/customfieldoptions.json`, { body: { customfieldoption: { customfield: { id: c.fieldId }, name: c.name } } }), 'customfieldoption');
    case 'ticket-status':
      return idOf(await client.request('POST', `${v2}/ticketstatuses.json`, { body: { ticketstatus: { name: c.name } } }), 'ticketstatus');
    case 'ticket-priority':
      return idOf(await client.request('POST', `${v2}/ticketpriorities.json`, { body: { ticketpriority: { name: c.name } } }), 'ticketpriority');
    case 'ticket-type':
      return idOf(await client.request('POST', `${v2}/tickettypes.json`, {
        body: { tickettype: { name: c.name, inboxes: c.inboxIds.map((id) => ({ id })), enabledForFutureInboxes: false } },
      }), 'tickettype');
    case 'ticket-type-inboxes':
      // PUT, as the SDK updates types; the whole general part is sent so a replacing PUT keeps it.
      await client.request('PUT', `${v2}/tickettypes/${c.typeId}.json`, {
        body: { tickettype: { name: c.name, inboxes: c.inboxIds.map((id) => ({ id })), enabledForFutureInboxes: c.enabledForFutureInboxes, ...(c.displayOrder !== null ? { displayOrder: c.displayOrder } : {}) } },
        idempotent: true,
      });
      return String(c.typeId);
    case 'tag':
      return idOf(await client.request('POST', `${v2}/tags.json`, { body: { tag: { name: c.name } } }), 'tag');
    case 'pause-trigger':
      throw new Error('pauses are applied by pauseTrigger');
  }
}

/** Whether the change is already in the target (a lost answer, another prepare, a person): its id, else null. */
async function lookup(client: TeamworkDeskClient, c: PlannedChange): Promise<string | null> {
  switch (c.kind) {
    case 'custom-field': {
      const f = (await readTargetFields(client))?.find((x) => lc(x.agentLabel) === lc(c.label));
      return f ? String(f.id) : null;
    }
    case 'custom-field-option': {
      const o = (await readTargetFields(client))?.find((x) => x.id === c.fieldId)?.options.find((x) => lc(x.name) === lc(c.name));
      return o ? String(o.id) : null;
    }
    case 'ticket-status': return byName(client, 'ticketstatuses', c.name);
    case 'ticket-priority': return byName(client, 'ticketpriorities', c.name);
    case 'ticket-type': return byName(client, 'tickettypes', c.name);
    case 'ticket-type-inboxes': {
      const t = ticketTypesFrom(await listAll(client, 'tickettypes')).find((x) => x.id === c.typeId);
      return t && c.inboxIds.every((id) => t.inboxIds?.includes(id)) ? String(t.id) : null;
    }
    case 'tag': return byName(client, 'tags', c.name, { filter: JSON.stringify({ name: { $eq: c.name } }) });
    case 'pause-trigger': {
      const t = await getTrigger(client, c.triggerId);
      return t && lc(t.state) === PAUSED_STATE ? String(t.id) : null;
    }
  }
}

/** A write whose outcome is unknown: the look-up decides. A 4xx naming a duplicate: someone made it meanwhile. */
function inDoubt(err: unknown): boolean {
  return err instanceof OutcomeUnknownError || (err instanceof TargetHttpError && err.status === 400 && /duplicate|already exists/i.test(err.apiMessage));
}

async function createOnce(deps: ApplyDeps, c: PlannedChange): Promise<AppliedChange> {
  const { db, client, target } = deps;
  const prior = await targetChange(db, target, c.key);
  if (prior?.state === 'intent') {
    // Tried before and never confirmed: look before making it again.
    const id = await lookup(client, c);
    if (id !== null) {
      await recordChangeDone(db, target, c.key, id);
      return { change: c, outcome: 'made', targetId: id, found: true };
    }
  }
  for (let attempt = 1; ; attempt++) {
    await recordChangeIntent(db, { target, key: c.key, kind: c.kind, request: requestOf(c) });
    try {
      const id = (await make(client, c)) ?? (await lookup(client, c));
      await recordChangeDone(db, target, c.key, id);
      return { change: c, outcome: 'made', targetId: id, found: false };
    } catch (err) {
      if (!inDoubt(err)) throw err;
      deps.log.warn({ key: c.key, attempt, err: errorMessage(err) }, 'no clear answer to a prepare change; looking it up');
      const id = await lookup(client, c);
      if (id !== null) {
        await recordChangeDone(db, target, c.key, id);
        return { change: c, outcome: 'made', targetId: id, found: true };
      }
      if (attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}

/** Pause a trigger: its state before goes to staging first, so restore-target can put it back whatever happens next. */
async function pauseTrigger(deps: ApplyDeps, c: Extract<PlannedChange, { kind: 'pause-trigger' }>): Promise<AppliedChange> {
  const { db, client, target } = deps;
  const now = await getTrigger(client, c.triggerId);
  if (!now) throw new DeskportError('DESKPORT_TRIGGER_GONE', `trigger "${c.name}" (${c.triggerId}) is no longer in the target`);
  if (lc(now.state) === PAUSED_STATE) {
    const prior = await targetChange(db, target, c.key);
    if (prior?.state === 'intent') await recordChangeDone(db, target, c.key, String(c.triggerId));
    return { change: c, outcome: prior?.state === 'intent' ? 'made' : 'skipped', targetId: String(c.triggerId), found: true };
  }
  await recordChangeIntent(db, { target, key: c.key, kind: c.kind, request: { triggerId: c.triggerId, name: c.name, state: PAUSED_STATE }, before: { state: now.state, name: now.name } });
  await setTriggerState(client, now, PAUSED_STATE);
  await recordChangeDone(db, target, c.key, String(c.triggerId));
  return { change: c, outcome: 'made', targetId: String(c.triggerId), found: false };
}

/** What a create asks for, as staging keeps it (names, kind, options, inboxes: no secret). */
function requestOf(c: PlannedChange): Record<string, unknown> {
  const { key: _key, ...rest } = c;
  return rest;
}

/**
 * Makes the changes in order, one at a time (each is a handful of calls). A change that fails is
 * recorded with its reason and the others go on; after the site refuses a trigger pause, the
 * remaining pauses are not tried (they would be refused the same way) and are left to the operator.
 */
export async function applyPreparation(deps: ApplyDeps, changes: PlannedChange[], opts: { onChange?: (a: AppliedChange) => void; signal?: AbortSignal } = {}): Promise<AppliedChange[]> {
  const out: AppliedChange[] = [];
  let pauseRefused: string | null = null;
  for (const c of changes) {
    if (opts.signal?.aborted) break;
    let result: AppliedChange;
    if (c.kind === 'pause-trigger' && pauseRefused) {
      result = { change: c, outcome: 'skipped', targetId: null, found: false, error: `not tried: ${pauseRefused}` };
    } else {
      try {
        result = c.kind === 'pause-trigger' ? await pauseTrigger(deps, c) : await createOnce(deps, c);
      } catch (err) {
        const why = errorMessage(err);
        await recordChangeFailed(deps.db, deps.target, c.key, why).catch(() => undefined);
        if (c.kind === 'pause-trigger' && (err instanceof TargetHttpError || (err as DeskportError).code === 'DESKPORT_TRIGGER_STATE')) pauseRefused = why;
        result = { change: c, outcome: 'failed', targetId: null, found: false, error: why };
      }
    }
    out.push(result);
    opts.onChange?.(result);
  }
  return out;
}
