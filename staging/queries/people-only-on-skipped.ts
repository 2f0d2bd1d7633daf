import type { Knex } from 'knex';

/** The skip reason of such a customer; `transform --remap` puts them back to pending. */
export const ONLY_ON_SKIPPED_REASON = 'customer appears only on tickets excluded by the mapping\'s filters';

/**
 * People whose every mention — requester, CC, comment author — is on a skipped ticket (one the
 * mapping's filters excluded): a customer like that must not be created in the target for
 * nothing. People on no ticket at all are not in this set; they migrate as usual.
 */
export async function peopleOnlySkippedTickets(db: Knex, source: string): Promise<Set<string>> {
  const any = await db('tickets').where({ source, load_state: 'skipped' }).first(db.raw('1 AS one'));
  if (!any) return new Set();
  const res = await db.raw<{ rows: { person: string }[] }>(`
    WITH mentions AS (
      SELECT t.data->>'requesterSourceId' AS person, t.load_state = 'skipped' AS skipped FROM tickets t WHERE t.source = :source
      UNION ALL
      SELECT jsonb_array_elements_text(t.data->'ccSourceIds'), t.load_state = 'skipped' FROM tickets t WHERE t.source = :source
      UNION ALL
      SELECT c.data->>'authorSourceId', t.load_state = 'skipped'
        FROM comments c JOIN tickets t ON t.source = c.source AND t.source_id = c.ticket_source_id WHERE c.source = :source
    )
    SELECT person FROM mentions WHERE person IS NOT NULL GROUP BY person HAVING bool_and(skipped)`, { source });
  return new Set(res.rows.map((r) => r.person));
}
