import type { Knex } from 'knex';
import type { Config } from '../core/config.ts';
import type { CanonicalCustomField, CanonicalGroup, CanonicalTicket } from '../staging/canonical.ts';

/**
 * Names the mapping file uses (groups, custom fields, organizations, agent emails) resolved from
 * source ids. Tickets carry ids; rules are written with names. The lookups are synchronous so the
 * rules stay pure functions; `StagingRefs.load` fills them from staging before a batch is mapped.
 */
export interface RefLookup {
  groupName(id: string): string | undefined;
  field(id: string): CanonicalCustomField | undefined;
  fieldByName(name: string): CanonicalCustomField | undefined;
  companyName(id: string): string | undefined;
  personEmail(id: string): string | undefined;
}

/** Kinds of reference a mapping may need, and the raw topic each comes from. */
export type RefKind = 'groups' | 'custom_fields' | 'companies' | 'people';
export const REF_TOPIC: Record<RefKind, string> = { groups: 'groups', custom_fields: 'ticket_fields', companies: 'organizations', people: 'users' };

const isId = (s: string) => /^\d+$/.test(s);

/** Which kinds of reference this mapping resolves by name (and so must wait for). */
export function neededRefKinds(m: Config['mapping']): Set<RefKind> {
  const out = new Set<RefKind>();
  if (m.enrich.groups !== 'none' || m.inboxes.rules.some((r) => r.when.group !== undefined && !isId(r.when.group))) out.add('groups');
  // Always: a custom field the mapping does not name lands in the target field of the same name (R10).
  out.add('custom_fields');
  const orgs = [...(m.filters.organizations?.include ?? []), ...(m.filters.organizations?.exclude ?? [])];
  if (orgs.some((o) => !isId(o))) out.add('companies');
  const agents = [...(m.filters.assignees?.include ?? []), ...(m.filters.assignees?.exclude ?? [])];
  if (agents.some((a) => a.includes('@'))) out.add('people');
  return out;
}

/** The source ids a batch of tickets refers to, by kind. */
export function referencedIds(tickets: CanonicalTicket[], kinds: Set<RefKind>): Map<RefKind, Set<string>> {
  const out = new Map<RefKind, Set<string>>([...kinds].map((k) => [k, new Set<string>()]));
  for (const t of tickets) {
    if (t.groupSourceId) out.get('groups')?.add(t.groupSourceId);
    for (const f of t.customFields) out.get('custom_fields')?.add(f.fieldSourceId);
    if (t.companySourceId) out.get('companies')?.add(t.companySourceId);
    if (t.assigneeSourceId) out.get('people')?.add(t.assigneeSourceId);
  }
  return out;
}

/** A lookup over fixed maps: tests, and remap (which loads everything up front). */
export class MapRefs implements RefLookup {
  readonly groups = new Map<string, CanonicalGroup>();
  readonly fields = new Map<string, CanonicalCustomField>();
  readonly companies = new Map<string, string>();
  readonly people = new Map<string, string>();
  private byFieldName = new Map<string, CanonicalCustomField>();

  addGroups(list: CanonicalGroup[]): this {
    for (const g of list) this.groups.set(g.sourceId, g);
    return this;
  }

  addFields(list: CanonicalCustomField[]): this {
    for (const f of list) {
      this.fields.set(f.sourceId, f);
      this.byFieldName.set(f.name.toLowerCase(), f);
    }
    return this;
  }

  groupName(id: string) { return this.groups.get(id)?.name; }
  field(id: string) { return this.fields.get(id); }
  fieldByName(name: string) { return this.byFieldName.get(name.toLowerCase()); }
  companyName(id: string) { return this.companies.get(id); }
  personEmail(id: string) { return this.people.get(id); }
}

/** Reads reference data from staging on demand; what it found stays cached for the process. */
export class StagingRefs extends MapRefs {
  constructor(private readonly db: Knex, private readonly source: string) {
    super();
  }

  has(kind: RefKind, id: string): boolean {
    switch (kind) {
      case 'groups': return this.groups.has(id);
      case 'custom_fields': return this.fields.has(id);
      case 'companies': return this.companies.has(id);
      case 'people': return this.people.has(id);
    }
  }

  /** Loads the ids not cached yet; returns those staging does not have (yet). */
  async load(wanted: Map<RefKind, Set<string>>): Promise<Map<RefKind, string[]>> {
    const missing = new Map<RefKind, string[]>();
    for (const [kind, ids] of wanted) {
      const need = [...ids].filter((id) => !this.has(kind, id));
      if (need.length === 0) continue;
      await this.fetch(kind, need);
      const still = need.filter((id) => !this.has(kind, id));
      if (still.length > 0) missing.set(kind, still);
    }
    return missing;
  }

  /** Everything staged (remap, init): reference tables are small. */
  async loadAll(): Promise<this> {
    const refs = await this.db('source_refs').where({ source: this.source }).select('kind', 'data');
    this.addGroups(refs.filter((r: any) => r.kind === 'groups').map((r: any) => r.data));
    this.addFields(refs.filter((r: any) => r.kind === 'custom_fields').map((r: any) => r.data));
    return this;
  }

  private async fetch(kind: RefKind, ids: string[]): Promise<void> {
    const db = this.db;
    if (kind === 'groups' || kind === 'custom_fields') {
      const rows = await db('source_refs').where({ source: this.source, kind }).whereIn('source_id', ids).select('data');
      if (kind === 'groups') this.addGroups(rows.map((r: any) => r.data));
      else this.addFields(rows.map((r: any) => r.data));
    } else if (kind === 'companies') {
      const rows = await db('companies').where({ source: this.source }).whereIn('source_id', ids).select('source_id', db.raw("data->>'name' AS name"));
      for (const r of rows) this.companies.set(r.source_id, r.name);
    } else {
      const rows = await db('people').where({ source: this.source }).whereIn('source_id', ids).select('source_id', 'email');
      for (const r of rows) this.people.set(r.source_id, r.email ?? '');
    }
  }
}

export const NO_REFS: RefLookup = new MapRefs();
