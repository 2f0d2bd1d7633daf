// Custom fields. Definitions are created through v1 (`POST /desk/v1/customfields.json`, flat
// body, as in Teamwork's sample); options through v2 customfieldoptions; values on tickets as
// `customfields: [{id, meta: {value}}]`.

import { isObj } from '../query.ts';
import type { Router } from '../http.ts';
import type { CustomField, CustomFieldKind, CustomFieldValue } from '../model.ts';
import { ref } from '../store.ts';
import type { Store } from '../store.ts';
import { Errors, V2, actorRef, baseView, bool, flat, list, mustGet, readRef, single, str, unwrap } from './common.ts';
import type { Deps } from './common.ts';

const KINDS: readonly CustomFieldKind[] = ['dropdown', 'text', 'number', 'date', 'checkbox', 'multiselect'];
const WITH_OPTIONS = new Set<CustomFieldKind>(['dropdown', 'multiselect']);

/** Validates ticket custom field values against definitions and the ticket's inbox. */
export function readCustomFieldValues(store: Store, errs: Errors, raw: unknown, source: string, inboxId: number | undefined,
  current: CustomFieldValue[] = []): CustomFieldValue[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    errs.add(source, 'must be an array of {id, meta: {value}}');
    return undefined;
  }
  const out = new Map(current.map((v) => [v.id, v]));
  raw.forEach((item, i) => {
    const src = `${source}[${i}]`;
    const id = readRef(store, errs, item, 'customfields', src);
    if (id === undefined || !isObj(item)) return;
    const field = store.get('customfields', id)!;
    const meta = isObj(item.meta) ? item.meta : {};
    if (meta.delete === true || item.delete === true) {
      out.delete(id);
      return;
    }
    if (!field.enabled) return errs.add(src, `custom field ${id} is disabled`);
    if (inboxId !== undefined && !field.inboxes.some((x) => x.id === inboxId)) {
      return errs.add(src, `custom field ${id} is not enabled for inbox ${inboxId}`);
    }
    if (!('value' in meta)) return errs.required(`${src}.meta.value`);
    const problem = checkValue(store, field, meta.value);
    if (problem) return errs.add(`${src}.meta.value`, problem);
    out.set(id, { id, type: 'customfields', meta: { value: meta.value } });
  });
  return [...out.values()];
}

function checkValue(store: Store, f: CustomField, v: unknown): string | null {
  const isOption = (x: unknown): boolean => typeof x === 'number' && f.options.some((o) => o.id === x) && !!store.get('customfieldoptions', x);
  switch (f.kind) {
    case 'dropdown': return isOption(v) ? null : 'must be the id of one of this field\'s options';
    case 'multiselect': return Array.isArray(v) && v.every(isOption) ? null : 'must be an array of this field\'s option ids';
    case 'text': return typeof v === 'string' ? null : 'must be a string';
    case 'number': return typeof v === 'number' && Number.isFinite(v) ? null : 'must be a number';
    case 'checkbox': return typeof v === 'boolean' ? null : 'must be a boolean';
    case 'date': return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? null : 'must be a YYYY-MM-DD date';
  }
}

export function registerCustomFields(r: Router, deps: Deps): void {
  const { store } = deps;
  const o = { family: 'customfields' };
  r.add('GET', `${V2}/customfields.json`, 'v2', o, (ctx) => list(deps, ctx, {
    kind: 'customfields', key: 'customfields', filterKeys: ['id', 'inboxes.id', 'kind', 'agentLabel', 'enabled'],
    orderKeys: ['id', 'agentLabel'],
    view: (f) => ({ ...baseView(f), 'inboxes.id': f.inboxes.map((x) => x.id), kind: f.kind, agentLabel: f.agentLabel, enabled: f.enabled }),
  }));
  r.add('GET', `${V2}/customfields/:id.json`, 'v2', o, (ctx) => single(store, 'customfield', 'customfields', mustGet(store, 'customfields', ctx.params.id), ctx));

  r.add('POST', '/desk/v1/customfields.json', 'v1', o, (ctx) => {
    const body = flat(ctx.body);
    const errs = new Errors();
    const agentLabel = str(errs, body, 'agentLabel', 'agentLabel', true);
    const customerLabel = str(errs, body, 'customerLabel', 'customerLabel');
    const description = str(errs, body, 'description', 'description');
    const kind = body.kind;
    if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) errs.add('kind', `must be one of ${KINDS.join(', ')}`);
    const inboxes: number[] = [];
    if (body.inboxes !== undefined) {
      if (!Array.isArray(body.inboxes)) errs.add('inboxes', 'must be an array of inbox ids');
      else body.inboxes.forEach((id, i) => { if (typeof id !== 'number' || !store.get('inboxes', id)) errs.unknownId(`inboxes[${i}]`, id); else inboxes.push(id); });
    }
    const options: Array<{ name: string; displayOrder: number }> = [];
    if (body.options !== undefined) {
      if (!Array.isArray(body.options)) errs.add('options', 'must be an array');
      else body.options.forEach((opt, i) => {
        if (!isObj(opt) || typeof opt.name !== 'string' || !opt.name) return errs.required(`options[${i}].name`);
        options.push({ name: opt.name, displayOrder: typeof opt.displayOrder === 'number' ? opt.displayOrder : i });
      });
    }
    if (typeof kind === 'string' && WITH_OPTIONS.has(kind as CustomFieldKind) && options.length === 0) errs.add('options', 'a dropdown needs at least one option', 'required');
    const flags = Object.fromEntries(['agentRequired', 'customerRequired', 'enabled', 'addToNewInboxes']
      .map((k) => [k, bool(errs, body, k, k)]));
    errs.throwIfAny();
    const actor = actorRef(ctx);
    const field = store.insert('customfields', {
      agentLabel: agentLabel!, customerLabel: customerLabel ?? agentLabel!, description: description ?? '', kind: kind as CustomFieldKind,
      agentRequired: flags.agentRequired ?? false, customerRequired: flags.customerRequired ?? false,
      enabled: flags.enabled ?? true, addToNewInboxes: flags.addToNewInboxes ?? false,
      inboxes: inboxes.map((id) => ref('inboxes', id)), options: [], apps: Array.isArray(body.apps) ? body.apps : [],
    }, actor);
    const optionRefs = options.map((opt) => ref('customfieldoptions', store.insert('customfieldoptions', { ...opt, customfield: ref('customfields', field.id) }, actor).id));
    return single(store, 'customfield', 'customfields', store.update('customfields', field.id, { options: optionRefs }, actor), null, 201, true);
  });

  const oo = { family: 'customfieldoptions' };
  r.add('GET', `${V2}/customfieldoptions.json`, 'v2', oo, (ctx) => list(deps, ctx, {
    kind: 'customfieldoptions', key: 'customfieldoptions', filterKeys: ['id', 'name', 'customfield.id'],
    view: (x) => ({ ...baseView(x), name: x.name, 'customfield.id': x.customfield.id }),
  }));
  r.add('GET', `${V2}/customfieldoptions/:id.json`, 'v2', oo, (ctx) =>
    single(store, 'customfieldoption', 'customfieldoptions', mustGet(store, 'customfieldoptions', ctx.params.id), ctx));
  r.add('POST', `${V2}/customfieldoptions.json`, 'v2', oo, (ctx) => {
    const body = unwrap(ctx.body, 'customfieldoption');
    const errs = new Errors();
    const fieldId = readRef(store, errs, body.customfield, 'customfields', 'customfieldoption.customfield');
    if (body.customfield === undefined) errs.required('customfieldoption.customfield');
    const name = str(errs, body, 'name', 'customfieldoption.name', true);
    const field = fieldId !== undefined ? store.get('customfields', fieldId)! : undefined;
    if (field && !WITH_OPTIONS.has(field.kind)) errs.add('customfieldoption.customfield', `a ${field.kind} field has no options`);
    if (field && name && field.options.some((x) => store.get('customfieldoptions', x.id)?.name.toLowerCase() === name.toLowerCase())) {
      errs.add('customfieldoption.name', 'option already exists', 'duplicate');
    }
    errs.throwIfAny();
    const actor = actorRef(ctx);
    const opt = store.insert('customfieldoptions', { name: name!, displayOrder: field!.options.length, customfield: ref('customfields', field!.id) }, actor);
    store.update('customfields', field!.id, { options: [...field!.options, ref('customfieldoptions', opt.id)] }, actor);
    return single(store, 'customfieldoption', 'customfieldoptions', opt, null, 201, true);
  });
}
