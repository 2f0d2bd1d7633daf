import type { Config } from '../core/config.ts';
import { targetChanges, type Db } from '../staging/index.ts';
import type { TeamworkDeskClient } from './client.ts';
import { preflight, preflightTargetOf, readTargetFields, stagedPreflightSource } from './preflight.ts';
import { mappingTags, type PrepareInputs } from './prepare-plan.ts';
import { listAll, type Named, type TargetDirectory } from './target-directory.ts';
import { readTicketMeta } from './ticket-meta.ts';
import { readTriggers } from './triggers.ts';

/** The account a target change belongs to: the site's origin (one staging may have served several sites). */
export function targetKey(config: Config): string {
  return new URL(config.target.url!).origin;
}

/**
 * Everything `check` and `prepare` compare, read once: staging's source facts, the preflight over
 * them, the target's fields, priorities, types, triggers and the mapping's tags, and what earlier
 * prepares recorded. About a dozen calls for a typical site.
 */
export async function gatherPrepareInputs(db: Db, config: Config, client: TeamworkDeskClient, directory: TargetDirectory): Promise<PrepareInputs> {
  const source = await stagedPreflightSource(db, config.source.name);
  const fallbackInboxId = directory.fallbackInboxId(config.target.fallbackInboxId);
  const [fields, meta, triggers] = await Promise.all([readTargetFields(client), readTicketMeta(client), readTriggers(client)]);
  const pre = preflight(config.mapping, source, preflightTargetOf(config, directory, fields, meta));
  // One filtered read per tag the mapping adds (a site can have thousands of tags: not listed whole).
  const existingTags = new Set<string>();
  for (const name of mappingTags(config.mapping, source.groups)) {
    const found = await listAll<Named>(client, 'tags', { filter: JSON.stringify({ name: { $eq: name } }) }).catch(() => []);
    if (found.some((t) => (t.name ?? '').toLowerCase() === name.toLowerCase())) existingTags.add(name.toLowerCase());
  }
  return {
    mapping: config.mapping, source, preflight: pre, directory, fallbackInboxId, fields, meta, triggers, existingTags,
    history: await targetChanges(db, targetKey(config)),
  };
}
