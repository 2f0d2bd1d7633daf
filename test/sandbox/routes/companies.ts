// Companies: {"company": {...}, "included": {"domains": [{"name": "x.com"}]}}. Update is PUT
// (SDK); names are unique per site (strict assumption, see README).

import { isObj } from '../query.ts';
import type { Ctx, Router } from '../http.ts';
import type { Company } from '../model.ts';
import { ref } from '../store.ts';
import { Errors, V2, actorRef, baseView, copyStrings, list, mustGet, single, unwrap } from './common.ts';
import type { Deps } from './common.ts';

const TEXT = ['name', 'description', 'details', 'industry', 'website', 'permission', 'kind', 'note'] as const;

function save(deps: Deps, ctx: Ctx, existing: Company | null): Company {
  const { store } = deps;
  const body = unwrap(ctx.body, 'company');
  const included = isObj(ctx.body) && isObj(ctx.body.included) ? ctx.body.included : {};
  const errs = new Errors();
  const fields: Record<string, unknown> = {};
  copyStrings(errs, body, TEXT, 'company', fields);
  const name = (fields.name as string | undefined) ?? existing?.name ?? '';
  if (!name) errs.required('company.name');
  const clash = store.list('companies').find((c) => c.name.toLowerCase() === name.toLowerCase() && c.id !== existing?.id);
  if (name && clash) errs.add('company.name', `a company named "${name}" already exists (id ${clash.id})`, 'duplicate');
  let domains: string[] | undefined;
  if (included.domains !== undefined) {
    if (!Array.isArray(included.domains)) errs.add('included.domains', 'must be an array');
    else {
      domains = [];
      included.domains.forEach((d, i) => {
        const n = isObj(d) ? d.name : d;
        if (typeof n !== 'string' || !/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(n)) errs.add(`included.domains[${i}].name`, 'must be a domain name');
        else domains!.push(n.toLowerCase());
      });
    }
  }
  errs.throwIfAny();
  const actor = actorRef(ctx);
  const c = existing ?? store.insert('companies', {
    name, description: '', details: '', industry: '', website: '', permission: '', kind: '', note: '', domains: [],
  }, actor);
  let domainRefs = c.domains;
  if (domains) {
    for (const d of c.domains) store.softDelete('domains', d.id, actor);
    domainRefs = domains.map((n) => ref('domains', store.insert('domains', { name: n, company: ref('companies', c.id) }, actor).id));
  }
  return store.update('companies', c.id, { ...fields, domains: domainRefs } as Partial<Company>, actor);
}

export function registerCompanies(r: Router, deps: Deps): void {
  const { store } = deps;
  const o = { family: 'companies' };
  r.add('GET', `${V2}/companies.json`, 'v2', o, (ctx) => list(deps, ctx, {
    kind: 'companies', key: 'companies', filterKeys: ['id', 'name', 'domains', 'kind', 'createdAt', 'updatedAt'],
    orderKeys: ['id', 'name', 'createdAt', 'updatedAt'],
    view: (c) => ({ ...baseView(c), name: c.name, kind: c.kind, domains: c.domains.map((d) => store.get('domains', d.id)?.name) }),
  }));
  r.add('GET', `${V2}/companies/:id.json`, 'v2', o, (ctx) => single(store, 'company', 'companies', mustGet(store, 'companies', ctx.params.id), ctx));
  r.add('POST', `${V2}/companies.json`, 'v2', o, (ctx) => single(store, 'company', 'companies', save(deps, ctx, null), null, 201, true));
  r.add('PUT', `${V2}/companies/:id.json`, 'v2', o, (ctx) =>
    single(store, 'company', 'companies', save(deps, ctx, mustGet(store, 'companies', ctx.params.id)), null, 200, true));
  r.add('DELETE', `${V2}/companies/:id.json`, 'v2', o, (ctx) => {
    const c = mustGet(store, 'companies', ctx.params.id);
    const actor = actorRef(ctx);
    for (const cust of store.list('customers')) {
      if (cust.companies.some((x) => x.id === c.id)) store.update('customers', cust.id, { companies: cust.companies.filter((x) => x.id !== c.id) }, actor);
    }
    store.softDelete('companies', c.id, actor);
    return { status: 204 };
  });
}
