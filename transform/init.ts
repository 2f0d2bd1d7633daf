import { existsSync, writeFileSync } from 'node:fs';
import type { Knex } from 'knex';
import type { Config } from '../src/config.ts';
import { DeskportError } from '../src/errors.ts';
import { refsOfKind } from '../staging/index.ts';
import { parseMappingText } from './mapping-file.ts';

/**
 * `deskport init`: a starter mapping file from what the source actually has (staged agents,
 * groups, statuses, priorities, types and custom fields), with every option commented, so an
 * operator edits names instead of discovering them. The result always parses.
 */
export async function starterMapping(db: Knex, config: Config): Promise<string> {
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
  const table = (values: string[], map: Record<string, string>, fallback: string | null) =>
    Object.fromEntries(values.map((v) => [v, map[v] ?? fallback ?? v]));
  const lines = [
    `# deskport mapping — starter written by \`deskport init\` from source "${source}".`,
    '# Edit names to match your Teamwork Desk site; `deskport transform --remap` re-applies changes.',
    'version: 1',
    '',
    `# R9: ${agents.length} source agent(s). Matched by email; list overrides for addresses that changed.`,
    ...agents.map((a: any) => `#   ${a.email ?? '(no email)'}  ${a.name}`),
    'agents:',
    '  overrides: {}',
    `  # fallback: ${m.fallbackAgentEmail ?? 'someone@your-site.example'}`,
    '',
    '# R11: source value → Teamwork Desk name.',
    'statuses:',
    `  map: ${y(table(statuses, m.statusMap, m.defaultStatus))}`,
    `  default: ${m.defaultStatus}`,
    'priorities:',
    `  map: ${y(table(priorities, m.priorityMap, null))}`,
    'types:',
    `  map: ${y(table(types, m.typeMap, null))}`,
    '',
    '# R10: custom fields map by name to a target field of the same name unless listed here.',
    'customFields:',
    ...(fields.length === 0 ? ['  []'] : fields.flatMap((f) => [
      `  - source: ${y(f.name)}   # id ${f.sourceId}, ${f.type}${f.active ? '' : ', inactive'}`,
      `    target: ${y(f.name)}`,
      ...(f.options.length > 0 ? [`    values: ${y(Object.fromEntries(f.options.map((o) => [o.value, o.value])))}`] : []),
    ])),
    '',
    `# R13/R4: ${groups.length} source group(s): ${groups.map((g) => g.name).join(', ') || '(none)'}.`,
    'inboxes:',
    '  # default: Support',
    '  rules:',
    ...(groups.length === 0 ? ['    []'] : groups.map((g) => `    - { inbox: ${y(g.name)}, when: { group: ${y(g.name)} } }`)),
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
  ];
  const text = lines.join('\n');
  parseMappingText(text, 'starter'); // what init writes must load
  return text;
}

export async function writeStarterMapping(db: Knex, config: Config, path: string, opts: { force?: boolean } = {}): Promise<string> {
  if (existsSync(path) && !opts.force) {
    throw new DeskportError('DESKPORT_EXISTS', `${path} already exists`, { hint: 'Pass --force to overwrite it, or name another file.' });
  }
  const text = await starterMapping(db, config);
  writeFileSync(path, text);
  return text;
}
