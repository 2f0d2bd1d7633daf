/**
 * Issue 16.5: every staged row records the mapping it was mapped with; a loader re-applies a
 * changed mapping before it loads (only the stale rows), flags loaded rows whose content changed
 * for delta, and stops with one sentence naming the command when rows cannot be mapped again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ensureCurrentMapping } from '../../cli/current-mapping.ts';
import { mappingHash, type Config } from '../../core/config.ts';
import { DeskportError } from '../../core/errors.ts';
import { staleMappingCounts } from '../../staging/index.ts';
import { dataset, stagedDataset } from '../load/fixture.ts';

describe('issue 16.5: the mapping each staged row was mapped with', () => {
  let staged: Awaited<ReturnType<typeof stagedDataset>>;
  before(async () => {
    staged = await stagedDataset(dataset(8));
  });
  after(async () => staged?.close());

  const edited = (extraTags: string[]): Config => ({ ...staged.config, mapping: { ...staged.config.mapping, extraTags } });

  test('the transform records the hash of the mapping in effect; comments in the file or key order do not change it', async () => {
    const { db } = staged.deps;
    const hash = mappingHash(staged.config.mapping);
    for (const table of ['companies', 'people', 'tickets', 'comments']) {
      const hashes = await db(table).whereNotNull('raw').distinct('mapping_hash');
      assert.deepEqual(hashes.map((h) => h.mapping_hash), [hash], table);
    }
    assert.deepEqual(await staleMappingCounts(db, 'zendesk', hash), { companies: 0, people: 0, tickets: 0, comments: 0 });
    const reordered = Object.fromEntries(Object.entries(staged.config.mapping).reverse()) as Config['mapping'];
    assert.equal(mappingHash(reordered), hash);
    assert.equal(mappingHash({ ...staged.config.mapping, file: 'elsewhere.yaml' }), hash, 'the file name is not the mapping');
    assert.notEqual(mappingHash(edited(['migrated'])['mapping']), hash);
  });

  test('a changed mapping is re-applied once, before loading, and said in one line; loaded rows that change are flagged', async () => {
    const { db, log } = staged.deps;
    const [loaded] = await db('tickets').orderBy('source_id').limit(1).pluck('source_id');
    await db('tickets').where({ source_id: loaded }).update({ load_state: 'loaded' });
    const config = edited(['migrated', 'src:zendesk', 'wave-2']);
    const lines: string[] = [];
    const first = await ensureCurrentMapping({ db, log }, config, (l) => lines.push(l));
    const [{ n: tickets }] = await db('tickets').count<{ n: string }[]>('* as n');
    assert.ok(first && first.remapped > Number(tickets), 'every mapped row was stale');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^\d+ staged record\(s\) were mapped with another mapping than the mapping: re-applied it first, as `deskport transform --remap` does \(\d+ changed, [\d.]+ s\)$/);
    const without = await db('tickets').whereRaw(`NOT data->'tags' @> '["wave-2"]'::jsonb`).count<{ n: string }[]>('* as n');
    assert.equal(Number(without[0]!.n), 0, 'every ticket mapped with the edited mapping');
    assert.equal((await db('tickets').where({ source_id: loaded }).first('changed_since_load')).changed_since_load, true, 'a loaded ticket that changed waits for delta');
    assert.equal(await ensureCurrentMapping({ db, log }, config, (l) => lines.push(l)), null, 'nothing stale the second time');
    assert.equal(lines.length, 1);
  });

  test('rows that cannot be mapped again stop the command with one sentence naming transform --remap', async () => {
    const { db, log } = staged.deps;
    const [broken] = await db('tickets').orderBy('source_id', 'desc').limit(1).pluck('source_id');
    // A raw record the mapper rejects (as if the source record had been damaged in staging).
    await db('tickets').where({ source_id: broken }).update({ raw: JSON.stringify({ record: { id: 'not a ticket' } }), mapping_hash: 'older' });
    await assert.rejects(ensureCurrentMapping({ db, log }, edited(['migrated', 'src:zendesk', 'wave-2'])), (err: unknown) =>
      err instanceof DeskportError && err.code === 'DESKPORT_STALE_MAPPING'
      && /^1 staged record\(s\) were mapped with another mapping than the mapping and could not be mapped again; nothing was loaded$/.test(err.message)
      && /deskport transform --remap/.test(err.hint ?? ''));
  });
});
