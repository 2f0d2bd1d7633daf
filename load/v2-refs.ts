import { TargetHttpError } from '../core/errors.ts';
import type { TeamworkDeskClient } from './client.ts';
import { listAll, type Named } from './target-directory.ts';

/**
 * Names → ids of the target's priorities, ticket types and tags, for v2 writes (the import takes
 * names, v2 takes refs). Read once per loader, on first use; a missing tag is created (as the
 * import would), a missing priority or type is left unset rather than invented.
 */
export class V2Refs {
  private lists: Promise<{ priorities: Map<string, number>; types: Map<string, number>; tags: Map<string, number> }> | null = null;

  constructor(private readonly client: TeamworkDeskClient) {}

  private read() {
    const byName = (list: Named[]) => new Map(list.filter((x) => x.name).map((x) => [x.name!.toLowerCase(), x.id]));
    this.lists ??= Promise.all([
      listAll<Named>(this.client, 'ticketpriorities'), listAll<Named>(this.client, 'tickettypes'), listAll<Named>(this.client, 'tags'),
    ]).then(([p, t, g]) => ({ priorities: byName(p), types: byName(t), tags: byName(g) }));
    return this.lists;
  }

  async priority(name: string | null): Promise<number | undefined> {
    return name ? (await this.read()).priorities.get(name.toLowerCase()) : undefined;
  }

  async type(name: string | null): Promise<number | undefined> {
    return name ? (await this.read()).types.get(name.toLowerCase()) : undefined;
  }

  /** Tag ids for names, creating the tags the target lacks. */
  async tags(names: string[]): Promise<number[]> {
    const { tags } = await this.read();
    const ids: number[] = [];
    for (const name of names) {
      const key = name.toLowerCase();
      let id = tags.get(key);
      if (id === undefined) {
        id = await this.createTag(name);
        tags.set(key, id);
      }
      ids.push(id);
    }
    return ids;
  }

  private async createTag(name: string): Promise<number> {
    const { client } = this;
    try {
      const body = await client.request<{ tag?: { id?: number } }>('POST', `${client.v2}/tags.json`, { body: { tag: { name } } });
      if (typeof body?.tag?.id === 'number') return body.tag.id;
    } catch (err) {
      // Another loader (or a person) created it meanwhile: use theirs.
      if (!(err instanceof TargetHttpError && err.status === 400)) throw err;
    }
    const found = await listAll<Named>(client, 'tags', { filter: JSON.stringify({ name: { $eq: name } }) });
    if (!found[0]) throw new Error(`tag "${name}" could not be created`);
    return found[0].id;
  }
}
