import type { TeamworkDeskClient } from './client.ts';
import { targetFieldsFrom, type TargetField } from './custom-fields.ts';

/** A page of a v2 list: `{ <plural>: [...], meta.page.hasMore | pagination.hasMorePages }`. */
interface ListPage {
  meta?: { page?: { hasMore?: boolean } };
  pagination?: { hasMorePages?: boolean };
  [key: string]: unknown;
}

/** Pages through a v2 list endpoint (pageSize is clamped to 100 by the API). */
export async function listAll<T>(client: TeamworkDeskClient, resource: string, query: Record<string, string> = {}): Promise<T[]> {
  return (await listWithIncluded<T, never>(client, resource, null, query)).items;
}

/** `listAll`, also gathering one kind of side-loaded record (`included.<includedKey>`) from every page. */
export async function listWithIncluded<T, I>(client: TeamworkDeskClient, resource: string, includedKey: string | null, query: Record<string, string> = {}): Promise<{ items: T[]; included: I[] }> {
  const items: T[] = [];
  const included: I[] = [];
  for (let page = 1; ; page++) {
    const body = await client.request<ListPage>('GET', `${client.v2}/${resource}.json`, { query: { ...query, page, pageSize: 100 } });
    const pageItems = (body?.[resource] as T[] | undefined) ?? [];
    items.push(...pageItems);
    if (includedKey) included.push(...(((body?.included as Record<string, I[]> | undefined)?.[includedKey]) ?? []));
    const more = body?.meta?.page?.hasMore ?? body?.pagination?.hasMorePages ?? pageItems.length === 100;
    if (!more || pageItems.length === 0) return { items, included };
  }
}

export interface TargetUser { id: number; email?: string; firstName?: string; lastName?: string; state?: string; role?: string }

/**
 * A user's state as Teamwork's sources show it: `state` is "active" or "deleted" (desksdkgo
 * models/base.go; models/user.go has no status field).
 */
export const isDeletedUser = (u: TargetUser): boolean => (u.state ?? '').toLowerCase() === 'deleted';

/**
 * No Teamwork source shows what tells an invited agent from an active one (desksdkgo models/user.go
 * and models/base.go, Teamwork/mcp internal/twdesk/users.go): `check` and the post-migration
 * checklist say so instead of reporting "no invited agents".
 */
export const INVITATION_STATE_UNREADABLE = 'invitation state could not be read: Teamwork Desk\'s users API shows only state active or deleted, nothing about accepted invitations';
export interface Named { id: number; name?: string; code?: string; email?: string }

/**
 * The target's reference data the loader resolves names against: agents by email, inboxes,
 * statuses by name, custom fields with their options. Read once per load (a handful of calls).
 */
export class TargetDirectory {
  private constructor(
    readonly agentsByEmail: Map<string, TargetUser>,
    readonly inboxes: Named[],
    readonly statusByName: Map<string, Named>,
    readonly customFields: TargetField[],
  ) {}

  /** A directory from lists already in hand (a test, or a saved read). */
  static of(users: TargetUser[], inboxes: Named[], statuses: Named[], customFields: TargetField[] = []): TargetDirectory {
    return new TargetDirectory(
      new Map(users.filter((u) => u.email).map((u) => [u.email!.toLowerCase(), u])),
      inboxes,
      new Map(statuses.filter((x) => x.name).map((x) => [x.name!.toLowerCase(), x])),
      customFields,
    );
  }

  static async read(client: TeamworkDeskClient): Promise<TargetDirectory> {
    const [users, inboxes, statuses, fields] = await Promise.all([
      listAll<TargetUser>(client, 'users'),
      listAll<Named>(client, 'inboxes'),
      listAll<Named>(client, 'ticketstatuses'),
      listWithIncluded<Parameters<typeof targetFieldsFrom>[0][number], { id: number; name?: string }>(client, 'customfields', 'customfieldoptions', { includes: 'customfieldoptions' }),
    ]);
    return TargetDirectory.of(users, inboxes, statuses, targetFieldsFrom(fields.items, fields.included));
  }

  agent(email: string | null): TargetUser | undefined {
    return email ? this.agentsByEmail.get(email.toLowerCase()) : undefined;
  }

  /**
   * The inbox a ticket lands in (R13): its routed inbox by name when the target has it, else the
   * import's fallback — the configured one, or the target's first.
   */
  landingInboxId(routedName: string | null, configuredFallback: number | undefined): number | undefined {
    const routed = routedName ? this.inboxes.find((i) => i.name?.toLowerCase() === routedName.toLowerCase()) : undefined;
    return routed?.id ?? this.fallbackInboxId(configuredFallback);
  }

  fallbackInboxId(configured: number | undefined): number | undefined {
    return configured ?? this.inboxes[0]?.id;
  }

  status(name: string): Named | undefined {
    return this.statusByName.get(name.toLowerCase());
  }
}
