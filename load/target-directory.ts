import type { TeamworkDeskClient } from './client.ts';

/** A page of a v2 list: `{ <plural>: [...], meta.page.hasMore | pagination.hasMorePages }`. */
interface ListPage {
  meta?: { page?: { hasMore?: boolean } };
  pagination?: { hasMorePages?: boolean };
  [key: string]: unknown;
}

/** Pages through a v2 list endpoint (pageSize is clamped to 100 by the API). */
export async function listAll<T>(client: TeamworkDeskClient, resource: string, query: Record<string, string> = {}): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; ; page++) {
    const body = await client.request<ListPage>('GET', `${client.v2}/${resource}.json`, { query: { ...query, page, pageSize: 100 } });
    const items = (body?.[resource] as T[] | undefined) ?? [];
    out.push(...items);
    const more = body?.meta?.page?.hasMore ?? body?.pagination?.hasMorePages ?? items.length === 100;
    if (!more || items.length === 0) return out;
  }
}

export interface TargetUser { id: number; email?: string; firstName?: string; lastName?: string; state?: string; role?: string; isAdmin?: boolean; status?: string }
export interface Named { id: number; name?: string; code?: string; email?: string }

/**
 * The target's reference data the loader resolves names against: agents by email, inboxes,
 * statuses, priorities and types by name. Read once per load (a handful of calls).
 */
export class TargetDirectory {
  private constructor(
    readonly agentsByEmail: Map<string, TargetUser>,
    readonly inboxes: Named[],
    readonly statusByName: Map<string, Named>,
  ) {}

  /** A directory from lists already in hand (a test, or a saved read). */
  static of(users: TargetUser[], inboxes: Named[], statuses: Named[]): TargetDirectory {
    return new TargetDirectory(
      new Map(users.filter((u) => u.email).map((u) => [u.email!.toLowerCase(), u])),
      inboxes,
      new Map(statuses.filter((x) => x.name).map((x) => [x.name!.toLowerCase(), x])),
    );
  }

  static async read(client: TeamworkDeskClient): Promise<TargetDirectory> {
    const [users, inboxes, statuses] = await Promise.all([
      listAll<TargetUser>(client, 'users'),
      listAll<Named>(client, 'inboxes'),
      listAll<Named>(client, 'ticketstatuses'),
    ]);
    const agents = new Map<string, TargetUser>();
    for (const u of users) if (u.email) agents.set(u.email.toLowerCase(), u);
    const statusByName = new Map<string, Named>();
    for (const s of statuses) if (s.name) statusByName.set(s.name.toLowerCase(), s);
    return new TargetDirectory(agents, inboxes, statusByName);
  }

  agent(email: string | null): TargetUser | undefined {
    return email ? this.agentsByEmail.get(email.toLowerCase()) : undefined;
  }

  status(name: string): Named | undefined {
    return this.statusByName.get(name.toLowerCase());
  }
}
