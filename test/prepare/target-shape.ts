/** The target's configuration as a comparable value (no ids, no dates): two prepares that should leave the same target compare equal. */
import { entities } from '../sandbox-readback.ts';

interface Live { id: number; state: string }

export async function targetShape(url: string) {
  const live = async <T extends Live>(kind: string) => (await entities<T>(url, kind)).filter((x) => x.state !== 'deleted');
  const inboxes = new Map((await live<Live & { name: string }>('inboxes')).map((i) => [i.id, i.name]));
  const options = new Map((await live<Live & { name: string }>('customfieldoptions')).map((o) => [o.id, o.name]));
  const names = (refs: { id: number }[], from: Map<number, string>) => refs.map((r) => from.get(r.id) ?? `?${r.id}`);
  const sorted = <T>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort();
  return {
    customfields: sorted((await live<Live & { agentLabel: string; kind: string; enabled: boolean; options: { id: number }[]; inboxes: { id: number }[] }>('customfields'))
      .map((f) => ({ label: f.agentLabel, kind: f.kind, enabled: f.enabled, options: names(f.options, options), inboxes: names(f.inboxes, inboxes).sort() }))),
    tickettypes: sorted((await live<Live & { name: string; inboxes: { id: number }[] }>('tickettypes')).map((t) => ({ name: t.name, inboxes: names(t.inboxes, inboxes).sort() }))),
    ticketstatuses: sorted((await live<Live & { name: string }>('ticketstatuses')).map((s) => s.name)),
    ticketpriorities: sorted((await live<Live & { name: string }>('ticketpriorities')).map((p) => p.name)),
    tags: sorted((await live<Live & { name: string }>('tags')).map((t) => t.name)),
    triggers: sorted((await live<Live & { name: string; triggerState: string; triggerType: string }>('triggers')).map((t) => ({ name: t.name, state: t.triggerState, type: t.triggerType }))),
  };
}
