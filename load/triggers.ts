import { DeskportError, errorMessage, TargetHttpError } from '../core/errors.ts';
import type { TeamworkDeskClient } from './client.ts';
import { listAll } from './target-directory.ts';

/**
 * The target's triggers (teamwork-desk-api.md §11). Teamwork documents `POST /triggers.json` and
 * `PATCH /triggers/{id}.json` with `{"trigger": {name, description, state, type, …}, "included":
 * {…}, "applyToExistingTickets": false}`; the trigger's `state` sits with the settings its UI
 * shows as "General" (name, description, active status, type), and only the value "active" is
 * shown. deskport pauses a trigger by PATCHing `state` to PAUSED_STATE and reads it back: a site
 * that refuses the value, or answers with something else, leaves the trigger as it was and the
 * operator turns it off by hand (check and prepare say so). Never "deleted": that is the base
 * entity state of a removed record.
 */

/** The state deskport writes to pause a trigger (not documented by Teamwork: verified by read-back on every pause). */
export const PAUSED_STATE = 'inactive';
export const ACTIVE_STATE = 'active';

export interface TargetTrigger {
  id: number;
  name: string;
  state: string;
  /** "Automatic" runs by itself on new and updated tickets; "Manual" only when an agent applies it. */
  type: string;
  inboxIds: number[];
  /** The general settings as read, sent back with a changed state (Desk's PATCH binds over the stored trigger). */
  general: Record<string, unknown>;
}

/** The fields of the trigger's general section that Teamwork's update sample sends. */
const GENERAL = ['name', 'description', 'type', 'state', 'agentHasAccess', 'isShared', 'addToNewInboxes'] as const;

interface TriggerRow { id: number; name?: string; state?: string; type?: string; inboxes?: { id: number }[]; [k: string]: unknown }

function fromRow(t: TriggerRow): TargetTrigger {
  const general: Record<string, unknown> = {};
  for (const k of GENERAL) if (t[k] !== undefined && t[k] !== null) general[k] = t[k];
  return {
    id: t.id, name: t.name ?? `#${t.id}`, state: String(t.state ?? ''), type: String(t.type ?? ''),
    inboxIds: Array.isArray(t.inboxes) ? t.inboxes.map((i) => i.id) : [], general,
  };
}

export type TriggerList = { ok: true; triggers: TargetTrigger[] } | { ok: false; why: string };

/** Every trigger of the site (`GET /triggers.json`, the v2 list convention); `ok: false` says why they could not be read. */
export async function readTriggers(client: TeamworkDeskClient): Promise<TriggerList> {
  try {
    return { ok: true, triggers: (await listAll<TriggerRow>(client, 'triggers')).map(fromRow) };
  } catch (err) {
    return { ok: false, why: err instanceof TargetHttpError ? `${err.status} for GET /triggers.json` : errorMessage(err) };
  }
}

/** Triggers that would act on the migration's tickets: active and automatic. */
export function firingTriggers(list: TargetTrigger[]): TargetTrigger[] {
  return list.filter((t) => t.state.toLowerCase() === ACTIVE_STATE && t.type.toLowerCase() !== 'manual');
}

export async function getTrigger(client: TeamworkDeskClient, id: number): Promise<TargetTrigger | null> {
  try {
    const body = await client.request<{ trigger?: TriggerRow }>('GET', `${client.v2}/triggers/${id}.json`);
    return body?.trigger ? fromRow(body.trigger) : null;
  } catch (err) {
    if (err instanceof TargetHttpError && err.status === 404) return null;
    throw err;
  }
}

/**
 * Sets a trigger's state (its other general settings sent as read; conditions and actions left
 * alone: `included` empty; never applied to existing tickets), then reads it back: the state must
 * be what was asked, or this throws and the trigger is the operator's to switch by hand.
 */
export async function setTriggerState(client: TeamworkDeskClient, trigger: TargetTrigger, state: string): Promise<TargetTrigger> {
  await client.request('PATCH', `${client.v2}/triggers/${trigger.id}.json`, {
    body: { trigger: { ...trigger.general, state }, included: {}, applyToExistingTickets: false },
    idempotent: true,
  });
  const after = await getTrigger(client, trigger.id);
  if (!after) throw new DeskportError('DESKPORT_TRIGGER_GONE', `trigger "${trigger.name}" (${trigger.id}) is no longer in the target`);
  if (after.state.toLowerCase() !== state.toLowerCase()) {
    throw new DeskportError('DESKPORT_TRIGGER_STATE', `trigger "${trigger.name}" (${trigger.id}) reads back state "${after.state}" after deskport set "${state}": this site does not take that state over the API`, {
      hint: 'Switch the trigger off (and later back on) by hand in Teamwork Desk: Settings › Triggers, the Active toggle.',
    });
  }
  return after;
}
