import type { Knex } from 'knex';

/**
 * Issue 16.2: what a loaded ticket kept of a source assignee the target has no agent for
 * (column `tickets.kept_assignee`, 014), for the report, records.csv and the checklist.
 */
export interface KeptAssignee {
  sourceId: string;
  name: string | null;
  email: string | null;
  keptAs: 'tag' | 'header' | 'both' | 'none';
  /** The fallback agent the ticket was assigned to instead (agents.unmatchedAssignee: <email>), else null. */
  assignedTo: string | null;
  tag: string | null;
}

/** Records, per ticket, what it keeps of its original assignee (null: nothing to keep). One statement. */
export async function recordKeptAssignees(db: Knex, source: string, items: { sourceId: string; kept: KeptAssignee | null }[]): Promise<void> {
  if (items.length === 0) return;
  await db.raw(
    `UPDATE tickets AS t SET kept_assignee = x.kept
       FROM jsonb_to_recordset(?::jsonb) AS x(source_id text, kept jsonb)
      WHERE t.source = ? AND t.source_id = x.source_id AND t.kept_assignee IS DISTINCT FROM x.kept`,
    [JSON.stringify(items.map((i) => ({ source_id: i.sourceId, kept: i.kept }))), source],
  );
}

export interface KeptAssigneeTicket extends KeptAssignee { ticketSourceId: string; targetId: string | null }

/** The tickets a run loaded that kept their original assignee this way, in ticket order. */
export async function keptAssigneesOfRun(db: Knex, runId: number, opts: { limit?: number } = {}): Promise<{ total: number; tickets: KeptAssigneeTicket[] }> {
  const base = db('tickets as t').where({ 't.load_run_id': runId, 't.load_state': 'loaded' }).whereNotNull('t.kept_assignee');
  const [{ n }] = await base.clone().count<{ n: string }[]>('* as n');
  const q = base.clone()
    .leftJoin('id_map as m', (j) => j.on('m.source', 't.source').andOn('m.source_id', 't.source_id').andOnVal('m.entity', 'tickets'))
    .orderByRaw('length(t.source_id), t.source_id').select('t.source_id', 't.kept_assignee', 'm.target_id');
  if (opts.limit !== undefined) q.limit(opts.limit);
  const rows = await q;
  return { total: Number(n), tickets: rows.map((r: any) => ({ ...r.kept_assignee, ticketSourceId: r.source_id, targetId: r.target_id ?? null })) };
}

/** Per way of keeping (and fallback agent), how many tickets a run loaded: the report's line. */
export async function keptAssigneeCounts(db: Knex, runId: number): Promise<{ keptAs: KeptAssignee['keptAs']; assignedTo: string | null; count: number }[]> {
  const rows = await db('tickets').where({ load_run_id: runId, load_state: 'loaded' }).whereNotNull('kept_assignee')
    .select(db.raw(`kept_assignee->>'keptAs' AS kept_as`), db.raw(`kept_assignee->>'assignedTo' AS assigned_to`)).count<any[]>('* as n')
    .groupByRaw(`kept_assignee->>'keptAs', kept_assignee->>'assignedTo'`).orderBy('n', 'desc');
  return rows.map((r: any) => ({ keptAs: r.kept_as, assignedTo: r.assigned_to ?? null, count: Number(r.n) }));
}
