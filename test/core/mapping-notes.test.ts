/**
 * prepare's notes in the operator's mapping file: new comment lines beside the entries that name
 * what was created, every original byte kept; a section the file lacks is appended with the table
 * in use, so the effective mapping stays the same.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { annotateMapping } from '../../core/mapping-notes.ts';
import { mappingFileToConfig, parseMappingText } from '../../core/mapping-file.ts';

const FILE = `# ops mapping   (spacing kept)
version: 1
statuses:
  map: {hold: On-hold,   open: Active}    # flow map, odd spacing
customFields:
  - source: "Product area"   # id 39, tagger  ← MISSING in the target: create it, or map it to a name the target has
    values: {"a": "A"}
  -   source: 52
      target: VIP
`;

/** The lines of `before` appear in `after`, in order (only lines were added). */
function onlyAdded(before: string, after: string): string[] {
  const lines = after.split('\n');
  const added: string[] = [];
  let at = 0;
  for (const line of before.split('\n')) {
    const i = lines.indexOf(line, at);
    assert.ok(i >= 0 || line.includes('MISSING'), `kept: ${JSON.stringify(line)}`);
    if (i < 0) continue;
    added.push(...lines.slice(at, i));
    at = i + 1;
  }
  return [...added, ...lines.slice(at)];
}

test('notes go above the section and above the rule of the source field (by name or id); nothing else changes', () => {
  const out = annotateMapping(FILE, [
    { section: 'statuses', text: 'created ticket status "On-hold" (id 9)', createdNames: ['On-hold'] },
    { section: 'customFields', source: { name: 'Product area', id: '39' }, text: 'created custom field "Product area" (id 14)\nsecond line', createdNames: ['Product area'] },
    { section: 'customFields', source: { name: 'VIP customer', id: '52' }, text: 'created custom field "VIP" (id 15)' },
  ]);
  assert.deepEqual(onlyAdded(FILE, out), [
    '# created ticket status "On-hold" (id 9)',
    '  # created custom field "Product area" (id 14)', '  # second line',
    // init's marker on the created name, the one line that changes
    '  - source: "Product area"   # id 39, tagger  ← created in the target by deskport prepare',
    '  # created custom field "VIP" (id 15)',
  ]);
  assert.deepEqual(parseMappingText(out), parseMappingText(FILE), 'comments only');
});

test('a section the file does not have is appended with the table in use; the mapping is the same', () => {
  const file = 'version: 1\ntags:\n  extra: [migrated]'; // no trailing newline
  const table = { question: 'Question', task: 'Task' };
  const out = annotateMapping(file, [{ section: 'types', text: 'created ticket type "Task" (id 4)', appendIfAbsent: `types:\n  map: ${JSON.stringify(table)}\n` }]);
  assert.ok(out.startsWith(`${file}\n\n# created ticket type "Task" (id 4)\ntypes:\n`), out);
  assert.deepEqual(mappingFileToConfig(parseMappingText(out)).typeMap, table);
});

test('an edit that would not load is refused, the file left to the caller unchanged', () => {
  assert.throws(() => annotateMapping('version: 1\nfilters: {}\n', [{ section: 'types', text: 'x', appendIfAbsent: 'types:\n  nonsense: 1\n' }]), /unknown key/);
});
