import type { Knex } from 'knex';
import { mappingHash as mappingHashOf, type Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { contentHash, ONLY_ON_SKIPPED_REASON, settleFilteredComments, upsertBatch, upsertRefs, type RefRow, type StagedRow } from '../staging/index.ts';
import type { CanonicalComment, CanonicalEntity, CanonicalTicket } from '../staging/canonical.ts';
import { finishMapping, mapZendeskSource } from './map-record.ts';
import { referencedIds, StagingRefs, type RefKind } from './refs.ts';

/**
 * `deskport transform --remap`: re-applies the current mapping to what is staged, from the raw
 * source record each row keeps — no re-extract, no Kafka. Rows keep their run; a row whose
 * content changes is handled like a re-delivered record (pending again, skipped by a filter, or
 * flagged changed_since_load if the target already has it).
 */

export interface RemapSummary {
  /** Rows re-mapped, rows whose content changed, and rows staged before raw records were kept. */
  byEntity: Record<string, { rows: number; changed: number; noRaw: number }>;
  seconds: number;
}

// KB rows are not re-mapped yet (the loop below names its entities).
const RAW_ENTITY: Record<CanonicalEntity, string> = { companies: 'organizations', people: 'users', tickets: 'tickets', comments: 'comments', kb_categories: 'kb_categories', kb_articles: 'kb_articles' };
const REF_RAW: Record<string, string> = { groups: 'groups', custom_fields: 'ticket_fields' };

export async function remapStaged(db: Knex, config: Config, opts: {
  log?: Logger; batchSize?: number;
  /** Only rows mapped with another mapping than the one in effect (issue 16.5: a loader catching up). */
  onlyStale?: boolean;
} = {}): Promise<RemapSummary> {
  const started = Date.now();
  const source = config.source.name;
  const mapping = config.mapping;
  // Every row written here records the mapping it now carries.
  const mappingHash = mappingHashOf(mapping);
  const batchSize = opts.batchSize ?? 500;
  const byEntity: RemapSummary['byEntity'] = {};

  // Reference data first: tickets resolve group and field names against it.
  const refStats = (byEntity.refs = { rows: 0, changed: 0, noRaw: 0 });
  const refRows = await db('source_refs').where({ source }).select('kind', 'source_id', 'run_id', 'raw', 'content_hash');
  const refUpserts = new Map<number, RefRow[]>();
  for (const r of refRows) {
    refStats.rows++;
    if (!r.raw) { refStats.noRaw++; continue; }
    const o = mapZendeskSource({ ...r.raw, runId: Number(r.run_id), source, entity: REF_RAW[r.kind] }, mapping);
    if (o.kind !== 'ref') continue;
    if (contentHash(o.ref.data) !== r.content_hash) refStats.changed++;
    refUpserts.set(Number(r.run_id), [...(refUpserts.get(Number(r.run_id)) ?? []), o.ref]);
  }
  await db.transaction(async (trx) => {
    for (const [runId, list] of refUpserts) await upsertRefs(trx, runId, list);
  });
  const refs = await new StagingRefs(db, source).loadAll();

  for (const entity of ['companies', 'people', 'tickets', 'comments'] as CanonicalEntity[]) {
    const stats = (byEntity[entity] = { rows: 0, changed: 0, noRaw: 0 });
    let after = '';
    for (;;) {
      // Keyset pagination: stable while rows are rewritten.
      const page = db(entity).where({ source }).where('source_id', '>', after);
      if (opts.onlyStale) page.whereNotNull('raw').whereRaw('mapping_hash IS DISTINCT FROM ?', [mappingHash]);
      const rows = await page.orderBy('source_id').limit(batchSize)
        .select('source_id', 'run_id', 'raw', 'content_hash', db.raw("(data->>'synthetic')::boolean AS synthetic"));
      if (rows.length === 0) break;
      after = rows.at(-1)!.source_id;
      const upserts = new Map<number, StagedRow[]>();
      const ticketIds: string[] = [];
      const add = (runId: number, row: StagedRow) => upserts.set(runId, [...(upserts.get(runId) ?? []), row]);
      const mapped = rows.filter((r: any) => !r.synthetic);
      const tickets: { r: any; runId: number; base: ReturnType<typeof mapZendeskSource> }[] = [];
      for (const r of mapped) {
        stats.rows++;
        if (!r.raw) { stats.noRaw++; continue; }
        const runId = Number(r.run_id);
        const base = mapZendeskSource({ ...r.raw, runId, source, entity: RAW_ENTITY[entity] }, mapping);
        if (base.kind !== 'staged') continue;
        tickets.push({ r, runId, base });
      }
      if (entity === 'tickets') {
        const staged = tickets.flatMap((t) => (t.base.kind === 'staged' ? [t.base.row.data as CanonicalTicket] : []));
        await refs.load(referencedIds(staged, new Set<RefKind>(['companies', 'people'])));
      }
      for (const { r, runId, base } of tickets) {
        const o = finishMapping(base, mapping, refs);
        if (o.kind !== 'staged') continue;
        if (contentHash(o.row.data) !== r.content_hash) stats.changed++;
        add(runId, o.row);
        for (const extra of o.extra ?? []) add(runId, extra);
        if (entity === 'tickets') ticketIds.push(r.source_id);
        if (entity === 'comments') ticketIds.push((o.row.data as CanonicalComment).ticketSourceId);
      }
      await db.transaction(async (trx) => {
        if (entity === 'tickets' && ticketIds.length > 0) {
          // Synthetic notes are regenerated from the ticket; drop those not yet in the target.
          await trx('comments').where({ source }).whereIn('ticket_source_id', ticketIds)
            .whereRaw("(data->>'synthetic')::boolean").whereNot('load_state', 'loaded').delete();
        }
        for (const [runId, list] of upserts) await upsertBatch(trx, runId, list, { mappingHash });
      });
      await settleFilteredComments(db, source, ticketIds);
    }
    opts.log?.info({ entity, ...stats }, 'remapped');
  }
  // Customers skipped because only excluded tickets named them: the filters changed, so the
  // loader decides again (it skips them again if that still holds).
  await db('people').where({ source, load_state: 'skipped', load_reason: ONLY_ON_SKIPPED_REASON })
    .update({ load_state: 'pending', load_reason: null, load_run_id: null });
  return { byEntity, seconds: (Date.now() - started) / 1000 };
}
