import type { TeamworkDeskClient } from './client.ts';
import { listAll, type Named } from './target-directory.ts';

/** A ticket type of the target: the import takes it by name, and only in the inboxes it is enabled for. */
export interface TargetTicketType {
  id: number;
  name: string;
  /** Inboxes the type is enabled for; null when the list did not say (not checked then). */
  inboxIds: number[] | null;
  enabledForFutureInboxes: boolean;
  displayOrder: number | null;
}

/** The target's priorities and ticket types (`/ticketpriorities.json`, `/tickettypes.json`); null: could not be read. */
export interface TicketMeta {
  priorities: Named[] | null;
  types: TargetTicketType[] | null;
}

interface TypeRow { id: number; name?: string; inboxes?: { id: number }[]; enabledForFutureInboxes?: boolean; displayOrder?: number }

export function ticketTypesFrom(rows: TypeRow[]): TargetTicketType[] {
  return rows.filter((t) => t.name).map((t) => ({
    id: t.id, name: t.name!, inboxIds: Array.isArray(t.inboxes) ? t.inboxes.map((i) => i.id) : null,
    enabledForFutureInboxes: t.enabledForFutureInboxes === true, displayOrder: typeof t.displayOrder === 'number' ? t.displayOrder : null,
  }));
}

/** Reads both lists (a couple of calls); a list the target refuses is null, and its checks are skipped with a warning. */
export async function readTicketMeta(client: TeamworkDeskClient): Promise<TicketMeta> {
  const [priorities, types] = await Promise.all([
    listAll<Named>(client, 'ticketpriorities').catch(() => null),
    listAll<TypeRow>(client, 'tickettypes').then(ticketTypesFrom).catch(() => null),
  ]);
  return { priorities, types };
}
