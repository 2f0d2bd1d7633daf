import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../core/config.ts';
import { ConfigError } from '../../core/errors.ts';
import { MappingFileError, parseMappingText } from '../../core/mapping-file.ts';
import { tempDir } from '../helpers.ts';

function problems(text: string): string[] {
  try {
    parseMappingText(text, 'm.yaml');
  } catch (err) {
    assert.ok(err instanceof MappingFileError);
    return err.problems;
  }
  assert.fail('expected the mapping to be refused');
}

describe('mapping file', () => {
  test('the example mapping parses and becomes config.mapping', () => {
    const cfg = loadConfig({ env: {}, overrides: { mapping: { file: 'examples/mapping.yaml' } } });
    assert.equal(cfg.mapping.fallbackAgentEmail, 'support-lead@acme.example');
    assert.equal(cfg.mapping.inboxes.default, 'Support');
    assert.equal(cfg.mapping.inboxes.rules[0]!.inbox, 'Billing');
    assert.deepEqual(cfg.mapping.extraTags, ['migrated', 'src:zendesk']);
    assert.equal(cfg.mapping.enrich.groups, 'tag');
  });

  test('no mapping file: the defaults the demo relies on', () => {
    const cfg = loadConfig({ env: {} });
    assert.equal(cfg.mapping.statusMap.pending, 'Waiting on customer');
    assert.deepEqual(cfg.mapping.filters, {});
    assert.deepEqual(cfg.mapping.inboxes, { rules: [] });
    assert.equal(cfg.mapping.enrich.groups, 'none');
  });

  test('every problem is listed at once, with its key path, line and column', () => {
    const text = [
      'version: 1',                        // 1
      'agents:',                           // 2
      '  fallback: not-an-email',          // 3
      'statuses:',                         // 4
      '  map:',                            // 5
      '    open: Opened',                  // 6
      'filterz:',                          // 7
      '  createdFrom: 2024-01-01',         // 8
      'inboxes:',                          // 9
      '  rules:',                          // 10
      '    - inbox: Billing',              // 11
      '      when: {}',                    // 12
      'filters:',                          // 13
      '  createdFrom: last tuesday',       // 14
    ].join('\n');
    const p = problems(text);
    assert.equal(p.length, 5, p.join('\n'));
    assert.ok(p.some((x) => /^agents\.fallback: .*\(line 3, column 13\)$/.test(x)), p.join('\n'));
    assert.ok(p.some((x) => /^statuses\.map\.open: .*\(line 6, column 11\)$/.test(x)), p.join('\n'));
    assert.ok(p.some((x) => /^filterz: unknown key \(allowed: version, agents, .*\) \(line 7, column 1\)$/.test(x)), p.join('\n'));
    assert.ok(p.some((x) => /^inboxes\.rules\[0\]\.when: a rule needs at least one of .*\(line 12, column 13\)$/.test(x)), p.join('\n'));
    assert.ok(p.some((x) => /^filters\.createdFrom: expected a date .*\(line 14, column 16\)$/.test(x)), p.join('\n'));
  });

  test('YAML syntax errors carry their line', () => {
    const p = problems('agents:\n  fallback: [unclosed\n');
    assert.equal(p.length >= 1, true);
    assert.match(p[0]!, /line \d+, column \d+/);
  });

  test('JSON works too; a bad file stops config loading with the file named', () => {
    const dir = tempDir();
    try {
      const good = join(dir.path, 'm.json');
      writeFileSync(good, JSON.stringify({ tags: { extra: ['moved'] }, filters: { ticketIds: { exclude: [5] } } }));
      const cfg = loadConfig({ env: { DESKPORT_MAPPING: good } });
      assert.deepEqual(cfg.mapping.extraTags, ['moved']);
      assert.deepEqual(cfg.mapping.filters.ticketIds, { exclude: ['5'] });
      const bad = join(dir.path, 'bad.yaml');
      writeFileSync(bad, 'tags:\n  extra: nope\n');
      assert.throws(() => loadConfig({ env: { DESKPORT_MAPPING: bad } }), (err: Error) =>
        err instanceof ConfigError && /mapping file .*bad\.yaml: tags\.extra: .*\(line 2, column 10\)/.test(err.message));
      assert.throws(() => loadConfig({ env: { DESKPORT_MAPPING: join(dir.path, 'absent.yaml') } }), /cannot read the file \(ENOENT\)/);
    } finally {
      dir.remove();
    }
  });
});
