import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { z } from 'zod';

/**
 * The mapping file: every "custom migration" option as a line of YAML (or JSON, which is YAML).
 * Two shapes live here: `MappingFile` is what an operator writes (grouped, commented, strict:
 * a typo is an error, not a silently ignored key), and `MappingOptions` is the flat section of
 * the config (`config.mapping`) the pipeline reads. `mappingFileToConfig` turns one into the
 * other; `readMappingFile` reports every problem at once with its key path, line and column.
 */

const scalar = z.union([z.string(), z.number(), z.boolean()]);
/** A date (`2024-01-01`) or a timestamp with an offset. */
const dateOrTimestamp = z.union([
  z.iso.date(),
  z.iso.datetime({ offset: true }),
], { error: 'expected a date (2024-01-01) or an ISO timestamp with offset' });
const idOrName = z.union([z.string().min(1), z.number().int()]).transform(String);
const includeExclude = z.strictObject({
  include: z.array(idOrName).optional(),
  exclude: z.array(idOrName).optional(),
});

/** Ticket filters (R12): a ticket is migrated only when it passes every filter given. */
export const FilterOptions = z.strictObject({
  /** Created at or after (inclusive). */
  createdFrom: dateOrTimestamp.optional(),
  /** Created strictly before. */
  createdBefore: dateOrTimestamp.optional(),
  tags: z.strictObject({
    any: z.array(z.string().min(1)).optional(),
    all: z.array(z.string().min(1)).optional(),
    none: z.array(z.string().min(1)).optional(),
  }).optional(),
  /** Custom field conditions: field by name or id; `in` keeps tickets whose value is listed, `notIn` drops them. */
  fields: z.array(z.strictObject({
    field: idOrName,
    in: z.array(scalar).optional(),
    notIn: z.array(scalar).optional(),
  })).optional(),
  /** Organizations by name or source id. */
  organizations: includeExclude.optional(),
  /** Assignees by email or source id; `unassigned` names tickets without one. */
  assignees: includeExclude.optional(),
  ticketIds: includeExclude.optional(),
});
export type FilterOptions = z.infer<typeof FilterOptions>;

/** One routing condition; every key given must match (R13). */
export const RouteWhen = z.strictObject({
  group: idOrName.optional(),
  brand: idOrName.optional(),
  tag: z.string().min(1).optional(),
  field: z.strictObject({ name: idOrName, equals: scalar }).optional(),
  /** The address the ticket came in through (Zendesk: via.source.to.address or recipient). */
  mailbox: z.string().min(1).optional(),
}).refine((w) => Object.values(w).some((v) => v !== undefined), { message: 'a rule needs at least one of group, brand, tag, field, mailbox' });
export type RouteWhen = z.infer<typeof RouteWhen>;

export const InboxOptions = z.strictObject({
  /** Inbox (by name) for tickets no rule routes; unset: the target's fallback inbox. */
  default: z.string().min(1).optional(),
  /** First matching rule wins. */
  rules: z.array(z.strictObject({ inbox: z.string().min(1), when: RouteWhen })).default([]),
});
export type InboxOptions = z.infer<typeof InboxOptions>;

export const CustomFieldRule = z.strictObject({
  /** Source field by name (its title) or by id. */
  source: idOrName,
  /** Target field by name; default: the source field's name. */
  target: z.string().min(1).optional(),
  targetId: z.number().int().positive().optional(),
  /** Source value → target value; values not listed pass through unchanged. */
  values: z.record(z.string(), scalar.nullable()).default({}),
  /** Leave this field out of the migration on purpose (it is then not "missing"). */
  drop: z.boolean().default(false),
});
export type CustomFieldRule = z.infer<typeof CustomFieldRule>;

export const EnrichOptions = z.strictObject({
  /** R4: groups become routing to the inbox of the same name, a `group:<name>` tag, both, or nothing. */
  groups: z.enum(['none', 'inbox', 'tag', 'both']).default('none'),
  groupTagPrefix: z.string().default('group:'),
  /** R2: the author-and-date header only where the target cannot sign as the author (auto), or on every comment. */
  authorHeader: z.enum(['auto', 'always']).default('auto'),
  /** R6: CCs on the ticket natively, or (also) listed in a header on the first comment. */
  ccs: z.enum(['native', 'header']).default('native'),
  /** R14: status changes, reassignments and merges as one private note at the end of the ticket. */
  ticketEvents: z.boolean().default(false),
  /** R14: ITSM types (problem/incident/change) tagged `itsm:<type>`, incidents linked to their problem. */
  itsm: z.boolean().default(true),
  /** R5: inline images re-uploaded inline (the body points at the new file) or as plain attachments. */
  inlineImages: z.enum(['inline', 'attachment']).default('inline'),
  /** R3: organizations → companies with customer links; false: customers carry no company. */
  organizations: z.boolean().default(true),
}).prefault({});
export type EnrichOptions = z.infer<typeof EnrichOptions>;

/**
 * R9: what a ticket keeps when its source assignee is not an agent of the target (deleted in the
 * source, never invited): a `<source>-assignee:<email>` tag, a line in the first message's header,
 * both, nothing — or an agent's email, to assign such tickets to that agent (the original still
 * kept as tag and header).
 */
const UNMATCHED_MODES = ['tag', 'header', 'both', 'none'];
export const UnmatchedAssignee = z.string().trim().refine((v) => UNMATCHED_MODES.includes(v) || z.email().safeParse(v).success, {
  message: 'expected tag, header, both, none, or the email of an agent of the target',
});
export type UnmatchedAssignee = z.infer<typeof UnmatchedAssignee>;

/** R8: where Help Center labels go (Help Docs articles have no tags): the description, a footer line, or nowhere. */
export const KbLabels = z.enum(['description', 'footer', 'none']);
export type KbLabels = z.infer<typeof KbLabels>;

/** The fields `config.mapping` gains beside the historical flat maps (see core/config.ts). */
export const MappingExtras = {
  /** The mapping file (YAML or JSON); env DESKPORT_MAPPING. */
  file: z.string().min(1).optional(),
  /** Source agent email → target agent email (R9); matching is by email otherwise. */
  agentOverrides: z.record(z.string(), z.email()).default({}),
  defaultPriority: z.string().nullable().default(null),
  defaultType: z.string().nullable().default(null),
  customFields: z.array(CustomFieldRule).default([]),
  inboxes: InboxOptions.prefault({}),
  filters: FilterOptions.default({}),
  enrich: EnrichOptions,
  unmatchedAssignee: UnmatchedAssignee.default('both'),
  /** Unset: `target.kbLabelsInDescription` decides (its old alias), else 'description' (core/config.ts kbLabelsMode). */
  kbLabels: KbLabels.optional(),
};

const statusName = z.enum(['Active', 'Waiting on customer', 'On-hold', 'Solved', 'Closed', 'Spam']);
const table = <T extends z.ZodType>(value: T) => z.strictObject({ map: z.record(z.string(), value).optional(), default: value.nullable().optional() });

/** What an operator writes. Every section is optional; what is left out keeps its default. */
export const MappingFile = z.strictObject({
  version: z.literal(1).default(1),
  agents: z.strictObject({
    overrides: z.record(z.string(), z.email()).optional(),
    /** Signs notes whose author is not an agent of the target. */
    fallback: z.email().optional(),
    unmatchedAssignee: UnmatchedAssignee.optional(),
  }).optional(),
  statuses: z.strictObject({ map: z.record(z.string(), statusName).optional(), default: statusName.optional() }).optional(),
  priorities: table(z.string().min(1)).optional(),
  types: table(z.string().min(1)).optional(),
  customFields: z.array(CustomFieldRule).optional(),
  inboxes: InboxOptions.optional(),
  filters: FilterOptions.optional(),
  tags: z.strictObject({ extra: z.array(z.string().min(1)).optional() }).optional(),
  customers: z.strictObject({ placeholderEmailDomain: z.string().min(3).optional() }).optional(),
  enrich: EnrichOptions.optional(),
  kb: z.strictObject({ labels: KbLabels.optional() }).optional(),
});
export type MappingFile = z.infer<typeof MappingFile>;

/** The file's content as `config.mapping` input keys (only those the file sets). */
export function mappingFileToConfig(f: MappingFile): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (k: string, v: unknown) => { if (v !== undefined) out[k] = v; };
  set('agentOverrides', lowerKeys(f.agents?.overrides));
  set('fallbackAgentEmail', f.agents?.fallback);
  set('statusMap', f.statuses?.map);
  set('defaultStatus', f.statuses?.default);
  set('priorityMap', f.priorities?.map);
  set('defaultPriority', f.priorities?.default);
  set('typeMap', f.types?.map);
  set('defaultType', f.types?.default);
  set('customFields', f.customFields);
  set('inboxes', f.inboxes);
  set('filters', f.filters);
  set('extraTags', f.tags?.extra);
  set('placeholderEmailDomain', f.customers?.placeholderEmailDomain);
  set('enrich', f.enrich);
  set('unmatchedAssignee', typeof f.agents?.unmatchedAssignee === 'string' && f.agents.unmatchedAssignee.includes('@')
    ? f.agents.unmatchedAssignee.trim().toLowerCase() : f.agents?.unmatchedAssignee);
  set('kbLabels', f.kb?.labels);
  return out;
}

function lowerKeys(m: Record<string, string> | undefined): Record<string, string> | undefined {
  return m && Object.fromEntries(Object.entries(m).map(([k, v]) => [k.trim().toLowerCase(), v.trim().toLowerCase()]));
}

export class MappingFileError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`mapping file ${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'MappingFileError';
  }
}

/** Parses and validates mapping text; every problem (syntax or schema) is listed with its line. */
export function parseMappingText(text: string, file = '(mapping)'): MappingFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return '';
    const { line, col } = lines.linePos(offset);
    return ` (line ${line}, column ${col})`;
  };
  if (doc.errors.length > 0) {
    throw new MappingFileError(file, doc.errors.map((e) => `${e.message.split('\n')[0]}${at(e.pos[0])}`));
  }
  const value = doc.toJS() ?? {};
  const parsed = MappingFile.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue) => {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [null];
    return keys.map((key) => {
      const full = key === null ? path : [...path, key];
      const node = nodeAt(doc.contents as Node | null, full, key !== null);
      const name = full.length === 0 ? '(top level)' : full.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
      const message = key !== null ? `unknown key (allowed: ${allowedKeys(issue.path)})` : issue.message;
      return `${name}: ${message}${at(node?.range?.[0])}`;
    });
  });
  throw new MappingFileError(file, problems);
}

/** The YAML node at a path (or the nearest ancestor that exists); `keyNode` gives the key itself. */
function nodeAt(root: Node | null, path: (string | number)[], keyNode: boolean): Node | null {
  let node: Node | null = root;
  for (const [i, step] of path.entries()) {
    if (!node) return null;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(step));
      if (!pair) return node;
      if (keyNode && i === path.length - 1) return (pair.key as Node) ?? node;
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if ('items' in node && Array.isArray((node as { items: unknown[] }).items)) {
      const item = (node as { items: Node[] }).items[Number(step)];
      if (!item) return node;
      node = item;
    } else {
      return node;
    }
  }
  return node;
}

/** The keys a strict object at `path` accepts, for the "unknown key" message. */
function allowedKeys(path: PropertyKey[]): string {
  let schema: z.ZodType = MappingFile;
  for (const step of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(step)] ?? schema;
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape).join(', ') : '?';
}

function unwrap(s: z.ZodType): z.ZodType {
  let cur: z.ZodType = s;
  for (let i = 0; i < 10; i++) {
    const def = (cur as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType; schema?: z.ZodType } }).def;
    if (def.innerType) cur = def.innerType;
    else if (def.type === 'pipe' && def.in) cur = def.in;
    else return cur;
  }
  return cur;
}

/** Reads a mapping file; unreadable, unparsable or invalid files throw `MappingFileError`. */
export function readMappingFile(path: string): MappingFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MappingFileError(path, [`cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`]);
  }
  return parseMappingText(text, path);
}
