import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { parseMappingText } from './mapping-file.ts';

/**
 * Writes into the operator's mapping file what `deskport prepare` created in the target, as
 * comments beside the entries that name it (issue 22) — by splicing lines into the original
 * text at positions the YAML parser found, so every other byte (the operator's comments, spacing,
 * quoting, flow maps) stays exactly as it was. A section the file does not have yet is appended
 * with the table deskport used (its defaults), so the effective mapping does not change.
 */

export interface MappingNote {
  /** The top-level section the note belongs to. */
  section: 'customFields' | 'statuses' | 'priorities' | 'types';
  /** For customFields: the rule whose `source` is this name or id gets the note. */
  source?: { name: string; id: string };
  /** The note, one or more lines (without `#`). */
  text: string;
  /** YAML of the section (`types:\n  map: {…}`) to append when the file has none. */
  appendIfAbsent?: string;
  /** Names whose `← MISSING in the target` marker (written by init) becomes "created by deskport prepare". */
  createdNames?: string[];
}

const MISSING = /←\s*MISSING in the target[^\n]*/;
const lc = (s: string) => s.trim().toLowerCase();

function keyName(k: unknown): string {
  return isScalar(k) ? String(k.value) : String(k);
}

export function annotateMapping(text: string, notes: MappingNote[]): string {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const root = isMap(doc.contents) ? doc.contents : null;
  const inserts: { at: number; text: string }[] = [];
  const appends: string[] = [];
  const lineStart = (offset: number) => text.lastIndexOf('\n', offset - 1) + 1;
  const commentAt = (offset: number, note: string) => {
    const start = lineStart(offset);
    const indent = /^[ \t]*/.exec(text.slice(start))![0];
    inserts.push({ at: start, text: note.split('\n').map((l) => `${indent}# ${l}\n`).join('') });
  };

  for (const n of notes) {
    const pair = root?.items.find((p) => keyName(p.key) === n.section);
    if (!pair) {
      appends.push(`${n.text.split('\n').map((l) => `# ${l}`).join('\n')}\n${n.appendIfAbsent ?? ''}`);
      continue;
    }
    let at = (pair.key as Node | null)?.range?.[0];
    if (n.section === 'customFields' && n.source && isSeq(pair.value)) {
      const rule = pair.value.items.find((item) => {
        if (!isMap(item)) return false;
        const src = item.items.find((p) => keyName(p.key) === 'source');
        const v = src && isScalar(src.value) ? String(src.value.value) : null;
        return v !== null && (v === n.source!.id || lc(v) === lc(n.source!.name));
      }) as Node | undefined;
      if (rule?.range) at = rule.range[0];
    }
    if (at === undefined) appends.push(`${n.text.split('\n').map((l) => `# ${l}`).join('\n')}\n`);
    else commentAt(at, n.text);
  }

  let out = text;
  for (const i of [...inserts].sort((a, b) => b.at - a.at)) out = out.slice(0, i.at) + i.text + out.slice(i.at);
  if (appends.length > 0) out = `${out}${out.endsWith('\n') || out === '' ? '' : '\n'}\n${appends.join('\n')}`;

  // init's markers on the names prepare created.
  const created = notes.flatMap((n) => n.createdNames ?? []);
  if (created.length > 0) {
    out = out.split('\n').map((line) => (MISSING.test(line) && created.some((name) => line.includes(`"${name}"`)) ? line.replace(MISSING, '← created in the target by deskport prepare') : line)).join('\n');
  }
  parseMappingText(out, 'the annotated mapping'); // never write a file that no longer loads
  return out;
}
