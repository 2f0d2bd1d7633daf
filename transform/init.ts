import { existsSync, writeFileSync } from 'node:fs';
import type { Knex } from 'knex';
import type { Config } from '../core/config.ts';
import { DeskportError } from '../core/errors.ts';
import { refsOfKind } from '../staging/index.ts';
import { parseMappingText } from '../core/mapping-file.ts';

/** What `init` read from the target, when one is configured: names to map to, and what is missing. */
export interface TargetNames {
  agentEmails: Set<string>;
  inboxes: string[];
  statuses: string[];
  fields: string[];
}

/**
 * `deskport init`: a starter mapping file from what the source actually has (staged agents,
 * groups, statuses, priorities, types and custom fields), with every option commented, so an
 * operator edits names instead of discovering them. The result always parses.
 */
export async function starterMapping(db: Knex, config: Config, target: TargetNames | null = null): Promise<string> {
  const source = config.source.name;
  const m = config.mapping;
  const agents = await db('people').where({ source, role: 'agent' }).orderByRaw("data->>'email'").select(db.raw("data->>'email' AS email"), db.raw("data->>'name' AS name"));
  const distinct = async (key: string) =>
    (await db('tickets').where({ source }).whereRaw(`data->>? IS NOT NULL`, [key]).distinct(db.raw('data->>? AS v', [key])).orderBy('v')).map((r: any) => r.v as string);
  const statuses = await distinct('sourceStatus');
  const types = await distinct('sourceType');
  const priorities = (await db('tickets').where({ source }).whereRaw("raw->'record'->>'priority' IS NOT NULL")
    .distinct(db.raw("raw->'record'->>'priority' AS v")).orderBy('v')).map((r: any) => r.v as string);
  const groups = (await refsOfKind(db, source, 'groups')).filter((g) => !g.deleted);
  const fields = (await refsOfKind(db, source, 'custom_fields')).filter((f) => !f.system);

  // JSON is YAML: one-line flow values with safe quoting.
  const y = (v: unknown) => JSON.stringify(v);
  const lc = (v: string) => v.toLowerCase();
  // With a target read, each name says whether the target has it: the operator reviews the "missing" ones.
  const inTarget = (list: string[] | Set<string> | undefined, name: string | null) => {
    if (!target || !list) return '';
    const has = name !== null && (list instanceof Set ? list.has(lc(name)) : list.some((x) => lc(x) === lc(name)));
    return has ? '  (in the target)' : '  ← MISSING in the target: create it, or map it to a name the target has';
  };
  const targetList = (label: string, names: string[] | undefined) => (target && names ? [`# The target's ${label}: ${names.join(', ') || '(none)'}.`] : []);
  const table = (values: string[], map: Record<string, string>, fallback: string | null) =>
    Object.fromEntries(values.map((v) => [v, map[v] ?? fallback ?? v]));
  const lines = [
    `# deskport mapping — starter written by \`deskport init\` from source "${source}".`,
    '# Edit names to match your Teamwork Desk site; `deskport transform --remap` re-applies changes.',
    'version: 1',
    '',
    `# R9: ${agents.length} source agent(s). Matched by email; list overrides for addresses that changed.`,
    ...agents.map((a: any) => `#   ${a.email ?? '(no email)'}  ${a.name}${inTarget(target?.agentEmails, a.email ? lc(a.email) : null)}`),
    'agents:',
    '  overrides: {}',
    `  # fallback: ${m.fallbackAgentEmail ?? 'someone@your-site.example'}`,
    '  # A ticket whose assignee has no agent in the target keeps them: tag | header | both | none, or an agent\'s email to assign it to.',
    `  unmatchedAssignee: ${m.unmatchedAssignee}`,
    '',
    '# R11: source value → Teamwork Desk name.',
    ...targetList('statuses', target?.statuses),
    ...(target ? [...new Set([...Object.values(table(statuses, m.statusMap, m.defaultStatus)), m.defaultStatus])] : [])
      .filter((v) => !target!.statuses.some((x) => lc(x) === lc(v))).map((v) => `#   status "${v}"${inTarget(target?.statuses, v)}`),
    'statuses:',
    `  map: ${y(table(statuses, m.statusMap, m.defaultStatus))}`,
    `  default: ${m.defaultStatus}`,
    'priorities:',
    `  map: ${y(table(priorities, m.priorityMap, null))}`,
    'types:',
    `  map: ${y(table(types, m.typeMap, null))}`,
    '',
    '# R10: custom fields map by name to a target field of the same name unless listed here.',
    ...targetList('custom fields', target?.fields),
    'customFields:',
    ...(fields.length === 0 ? ['  []'] : fields.flatMap((f) => [
      `  - source: ${y(f.name)}   # id ${f.sourceId}, ${f.type}${f.active ? '' : ', inactive'}${inTarget(target?.fields, f.name)}`,
      `    target: ${y(f.name)}`,
      ...(f.options.length > 0 ? [`    values: ${y(Object.fromEntries(f.options.map((o) => [o.value, o.value])))}`] : []),
    ])),
    '',
    `# R13/R4: ${groups.length} source group(s): ${groups.map((g) => g.name).join(', ') || '(none)'}.`,
    ...targetList('inboxes', target?.inboxes),
    'inboxes:',
    target?.inboxes[0] ? `  default: ${y(target.inboxes[0])}` : '  # default: Support',
    '  rules:',
    ...(groups.length === 0 ? ['    []'] : groups.map((g) => `    - { inbox: ${y(g.name)}, when: { group: ${y(g.name)} } }${inTarget(target?.inboxes, g.name) ? ` #${inTarget(target?.inboxes, g.name)}` : ''}`)),
    '',
    '# R12: filters (createdFrom, createdBefore, tags any/all/none, fields, organizations, assignees, ticketIds).',
    'filters: {}',
    '',
    'tags:',
    `  extra: ${y(m.extraTags)}`,
    '',
    'enrich:',
    '  groups: none            # none | inbox | tag | both',
    '  authorHeader: auto      # auto | always',
    '  ccs: native             # native | header',
    '  ticketEvents: false',
    '  itsm: true',
    '  inlineImages: inline    # inline | attachment',
    '  organizations: true',
    '',
    '# R8: Help Center labels (Help Docs articles have no tags): description | footer | none.',
    'kb:',
    `  labels: ${m.kbLabels ?? 'description'}`,
    '',
  ];
  const text = lines.join('\n');
  parseMappingText(text, 'starter'); // what init writes must load
  return text;
}

export async function writeStarterMapping(db: Knex, config: Config, path: string, opts: { force?: boolean; target?: TargetNames | null } = {}): Promise<string> {
  refuseOverwrite(path, opts.force);
  const text = await starterMapping(db, config, opts.target ?? null);
  writeFileSync(path, text);
  return text;
}

function refuseOverwrite(path: string, force: boolean | undefined): void {
  if (existsSync(path) && !force) {
    throw new DeskportError('DESKPORT_EXISTS', `${path} already exists`, { hint: 'Pass --force to overwrite it, or name another file.' });
  }
}

/**
 * The config file `init` writes beside the mapping: where the source and the target are and the
 * settings an operator tunes — never a secret (keys and tokens stay in env vars or owner-only files).
 */
export function writeStarterConfig(config: Config, path: string, mappingPath: string, opts: { force?: boolean; fallbackInboxId?: number } = {}): string {
  refuseOverwrite(path, opts.force);
  const { source, target } = config;
  const body = {
    source: {
      kind: source.kind, name: source.name,
      ...(source.kind === 'zendesk-api' ? { url: source.url, ...(source.email ? { email: source.email } : {}) } : { path: source.path }),
    },
    target: {
      ...(target.url ? { url: target.url } : {}),
      importSource: target.importSource, importBatchSize: target.importBatchSize, rateLimitCeiling: target.rateLimitCeiling,
      ...(opts.fallbackInboxId !== undefined ? { fallbackInboxId: opts.fallbackInboxId } : {}),
    },
    mapping: { file: mappingPath },
    load: { concurrency: config.load.concurrency },
  };
  const text = `${JSON.stringify(body, null, 2)}\n`;
  writeFileSync(path, text);
  return text;
}
