/**
 * A Teamwork Desk sandbox set up as an operator would have half-prepared it for the bundled
 * sample: every agent invited and active, but two custom fields (a drop-down and a checkbox),
 * the ticket type "Task" and the status "On-hold" missing, and two automatic triggers active
 * (plus one already inactive and one manual, which prepare must leave alone).
 */
import { agentSeed, fieldSeed } from '../../cli/demo.ts';
import { DEFAULT_SEED } from '../sandbox/seed.ts';
import type { SeedData } from '../sandbox/index.ts';
import { sampleRecords } from '../cli/helpers.ts';

export const MISSING_FIELDS = ['Product area', 'VIP customer'];
export const MISSING_TYPE = 'Task';
export const MISSING_STATUS = 'On-hold';
export const FIRING_TRIGGERS = ['Auto-assign new tickets', 'Email the customer on close'];
export const QUIET_TRIGGERS = ['Old escalation (off)', 'Manual: escalate'];

export async function imperfectSeed(): Promise<SeedData> {
  const { users, fields } = await sampleRecords();
  return {
    ...DEFAULT_SEED,
    defaults: false,
    agents: [...(DEFAULT_SEED.agents ?? []), ...agentSeed(users)],
    statuses: DEFAULT_SEED.statuses!.filter((s) => s.name !== MISSING_STATUS),
    types: DEFAULT_SEED.types!.filter((t) => t.name !== MISSING_TYPE),
    // The mapping's own tags exist already, so the changes are exactly the fields, type, status and triggers.
    tags: [{ name: 'migrated' }, { name: 'src:zendesk' }],
    customfields: fieldSeed(fields).filter((f) => !MISSING_FIELDS.includes(f.agentLabel)),
    triggers: [
      { name: FIRING_TRIGGERS[0]!, type: 'Automatic', state: 'active' },
      { name: FIRING_TRIGGERS[1]!, type: 'Automatic', state: 'active' },
      { name: QUIET_TRIGGERS[0]!, type: 'Automatic', state: 'inactive' },
      { name: QUIET_TRIGGERS[1]!, type: 'Manual', state: 'active' },
    ],
  };
}
