import type { Knex } from 'knex';
import { CANONICAL_ENTITIES, type CanonicalEntity } from '../../transform/canonical.ts';

export interface EntityCounts {
  entity: string;
  /** Records the run read from the source (duplicates included). */
  extracted: number;
  staged: number;
  loaded: number;
  skipped: number;
  failed: number;
  pending: number;
  loading: number;
  rejected: number;
  /** Extracted but neither staged nor rejected: must be 0 once transform caught up. */
  missing: number;
}

export interface ReasonCount {
  entity: string;
  state: string;
  reason: string;
  count: number;
}

/** Which raw entity feeds which staging table (people come from users). */
const RAW_FOR: Record<CanonicalEntity, string> = { companies: 'organizations', people: 'users', tickets: 'tickets', comments: 'comments' };

/** Per-entity counts for the rows a run staged, with its extracted and rejected counts. */
export async function runCounts(db: Knex, runId: number): Promise<EntityCounts[]> {
  const extracted = new Map<string, number>(
    (await db('run_entities').where({ run_id: runId }).select('entity', 'extracted')).map((r: any) => [r.entity, r.extracted]));
  const rejected = new Map<string, number>(
    (await db('rejects').where({ run_id: runId }).groupBy('entity').select('entity').count<any[]>('* as n')).map((r: any) => [r.entity, Number(r.n)]));
  const out: EntityCounts[] = [];
  for (const entity of CANONICAL_ENTITIES) {
    const states = new Map<string, number>(
      (await db(entity).where({ run_id: runId }).groupBy('load_state').select('load_state').count<any[]>('* as n'))
        .map((r: any) => [r.load_state, Number(r.n)]));
    const staged = [...states.values()].reduce((a, b) => a + b, 0);
    const raw = RAW_FOR[entity];
    const ex = extracted.get(raw) ?? 0;
    const rej = rejected.get(raw) ?? 0;
    out.push({
      entity, extracted: ex, staged, rejected: rej, missing: Math.max(0, ex - staged - rej - (await duplicateCount(db, runId, raw))),
      loaded: states.get('loaded') ?? 0, skipped: states.get('skipped') ?? 0, failed: states.get('failed') ?? 0,
      pending: states.get('pending') ?? 0, loading: states.get('loading') ?? 0,
    });
  }
  return out;
}

/** Duplicate records a run extracted (same source id twice): they are one staged row. */
async function duplicateCount(db: Knex, runId: number, rawEntity: string): Promise<number> {
  const row = await db('run_entities').where({ run_id: runId, entity: `${rawEntity}:duplicates` }).first('extracted');
  return row?.extracted ?? 0;
}

/** Skipped and failed rows of a run grouped by reason, most frequent first. */
export async function runReasons(db: Knex, runId: number): Promise<ReasonCount[]> {
  const out: ReasonCount[] = [];
  for (const entity of CANONICAL_ENTITIES) {
    const rows = await db(entity).where({ run_id: runId }).whereIn('load_state', ['skipped', 'failed'])
      .groupBy('load_state', 'load_reason').select('load_state', 'load_reason').count<any[]>('* as n');
    for (const r of rows) out.push({ entity, state: r.load_state, reason: r.load_reason ?? '(none)', count: Number(r.n) });
  }
  const rejects = await db('rejects').where({ run_id: runId }).groupBy('entity', 'reason').select('entity', 'reason').count<any[]>('* as n');
  for (const r of rejects) out.push({ entity: r.entity, state: 'rejected', reason: r.reason, count: Number(r.n) });
  return out.sort((a, b) => b.count - a.count);
}
