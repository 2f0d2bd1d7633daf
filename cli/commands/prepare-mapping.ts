import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import type { Config } from '../../core/config.ts';
import { annotateMapping, type MappingNote } from '../../core/mapping-notes.ts';
import type { AppliedChange } from '../../load/prepare-apply.ts';

/**
 * After `prepare --apply`: the mapping file says what was created for it, in comments beside the
 * entries that name it (core/mapping-notes.ts keeps every other byte). The created fields,
 * statuses, priorities and types are matched by name, as the mapping already names them, so the
 * effective mapping does not change.
 */

const json = (v: unknown) => JSON.stringify(v);

export function mappingNotes(results: AppliedChange[], m: Config['mapping'], date: string): MappingNote[] {
  const notes = new Map<string, MappingNote>();
  const add = (key: string, note: MappingNote) => {
    const prev = notes.get(key);
    if (prev) {
      prev.text += `\n${note.text}`;
      prev.createdNames = [...(prev.createdNames ?? []), ...(note.createdNames ?? [])];
    } else notes.set(key, note);
  };
  const by = `deskport prepare (${date})`;
  const tables = {
    statuses: `statuses:\n  map: ${json(m.statusMap)}\n  default: ${json(m.defaultStatus)}\n`,
    priorities: `priorities:\n  map: ${json(m.priorityMap)}\n${m.defaultPriority ? `  default: ${json(m.defaultPriority)}\n` : ''}`,
    types: `types:\n  map: ${json(m.typeMap)}\n${m.defaultType ? `  default: ${json(m.defaultType)}\n` : ''}`,
  };
  for (const r of results.filter((x) => x.outcome === 'made')) {
    const c = r.change;
    const id = r.targetId ? `id ${r.targetId}` : 'id not returned';
    switch (c.kind) {
      case 'custom-field':
        add(`cf:${c.sourceFieldId}`, {
          section: 'customFields', source: { name: c.sourceName, id: c.sourceFieldId }, createdNames: [c.sourceName, c.label],
          text: `${by} created custom field "${c.label}" in Teamwork Desk (${id}, ${c.fieldKind}${c.options.length > 0 ? `, ${c.options.length} options` : ''}, inboxes ${c.inboxNames.join(', ')}) for source field "${c.sourceName}" (${c.sourceFieldId}); it is matched by name`,
        });
        break;
      case 'custom-field-option':
        add(`cf:${c.sourceFieldId}`, {
          section: 'customFields', source: { name: c.sourceName, id: c.sourceFieldId },
          text: `${by} added option "${c.name}" (${id}) to custom field "${c.fieldLabel}" (${c.fieldId})`,
        });
        break;
      case 'ticket-status':
        add('statuses', { section: 'statuses', appendIfAbsent: tables.statuses, createdNames: [c.name], text: `${by} created ticket status "${c.name}" in Teamwork Desk (${id})` });
        break;
      case 'ticket-priority':
        add('priorities', { section: 'priorities', appendIfAbsent: tables.priorities, createdNames: [c.name], text: `${by} created priority "${c.name}" in Teamwork Desk (${id})` });
        break;
      case 'ticket-type':
        add('types', { section: 'types', appendIfAbsent: tables.types, createdNames: [c.name], text: `${by} created ticket type "${c.name}" in Teamwork Desk (${id}, inboxes ${c.inboxNames.join(', ')})` });
        break;
      case 'ticket-type-inboxes':
        add('types', { section: 'types', appendIfAbsent: tables.types, text: `${by} enabled ticket type "${c.name}" (${c.typeId}) for inbox ${c.addInboxNames.join(', ')}` });
        break;
      default:
        break; // tags and trigger pauses name nothing in the mapping
    }
  }
  return [...notes.values()];
}

export type MappingUpdate = { file: string; notes: number } | { file: null; why: string; notes: number };

/** Writes the notes into the mapping file (a temp file renamed over it, its mode kept). */
export function updateMappingFile(config: Config, results: AppliedChange[], date = new Date().toISOString().slice(0, 10)): MappingUpdate {
  const notes = mappingNotes(results, config.mapping, date);
  const file = config.mapping.file;
  if (notes.length === 0) return { file: null, why: 'nothing created that the mapping names', notes: 0 };
  if (!file) return { file: null, why: 'no mapping file in use (--mapping or DESKPORT_MAPPING); the new fields, statuses and types are matched by name', notes: notes.length };
  if (/\.json$/i.test(file)) return { file: null, why: `${file} is JSON, which takes no comments: left as it is (the new names match already)`, notes: notes.length };
  const text = annotateMapping(readFileSync(file, 'utf8'), notes);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: statSync(file).mode & 0o777 });
  renameSync(tmp, file);
  return { file, notes: notes.length };
}
