import type { Knex } from 'knex';

/**
 * Comments whose ticket never reached staging (the ticket was rejected by transform, or never
 * extracted) would stay pending forever and show as missing in the reconciliation. Once transform
 * caught up, the final load pass fails them with the reason, so every record is accounted for.
 */
export async function failOrphanComments(db: Knex, source: string, runId: number): Promise<number> {
  const res = await db.raw(`
    UPDATE comments c SET load_state = 'failed', load_run_id = ?, claimed_by = NULL,
           load_reason = CASE WHEN EXISTS (SELECT 1 FROM rejects r WHERE r.source = c.source AND r.entity = 'tickets' AND r.source_id = c.ticket_source_id)
                              THEN 'parent ticket was rejected by transform (see rejects)'
                              ELSE 'parent ticket never reached staging' END
     WHERE c.source = ? AND c.load_state = 'pending'
       AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.source = c.source AND t.source_id = c.ticket_source_id)`, [runId, source]);
  return res.rowCount ?? 0;
}
