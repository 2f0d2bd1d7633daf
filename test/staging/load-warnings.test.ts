/**
 * The "migrated with warnings" mechanism (issue 16): a loaded row with warnings is counted apart
 * from plain migrated rows in every report — the reconciliation view, run_records, the report
 * files, the terminal table — and a row loaded again starts without its old warnings.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { formatReport } from '../../cli/report.ts';
import { writeReportFiles } from '../../serve/report-files.ts';
import {
  addLoadWarnings, createRun, markLoaded, markSkipped, reconciliation, runActivity, runRecords, upsertBatch, warningCounts, type Db, type StagedRow,
} from '../../staging/index.ts';
import { freshDatabase, tempDir } from '../helpers.ts';

const SOURCE = 'zendesk';

function ticket(id: string): StagedRow<'tickets'> {
  return {
    entity: 'tickets', source: SOURCE,
    data: {
      sourceId: id, subject: `ticket ${id}`, sourceStatus: 'open', status: 'Active', priority: null, type: 'incident', tags: [],
      requesterSourceId: '1', assigneeSourceId: null, companySourceId: null, groupSourceId: null, ccSourceIds: [], customFields: [],
      createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z', commentCount: 1, sourceType: null, groupName: null,
      brandSourceId: null, sourceMailbox: null, problemSourceId: null, events: [], inbox: null, skip: null, ccHeader: false,
    },
  };
}

function comment(id: string, ticketId: string): StagedRow<'comments'> {
  return {
    entity: 'comments', source: SOURCE,
    data: { sourceId: id, ticketSourceId: ticketId, position: 0, authorSourceId: '1', bodyHtml: '<p>hi</p>', public: true, createdAt: '2024-01-01T00:00:00Z', attachments: [], authorHeader: false, synthetic: false },
  };
}

describe('load warnings: migrated with warnings in every report', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let db: Db;
  let runId: number;
  const dir = tempDir();

  before(async () => {
    database = await freshDatabase();
    db = database.db;
    runId = await createRun(db, 'run', SOURCE);
    await db('run_entities').insert([{ run_id: runId, entity: 'tickets', extracted: 3 }, { run_id: runId, entity: 'comments', extracted: 3 }]);
    await db.transaction((trx) => upsertBatch(trx, runId, [ticket('10'), ticket('11'), ticket('12'), comment('100', '10'), comment('110', '11'), comment('120', '12')]));
    await markLoaded(db, {
      entity: 'tickets', source: SOURCE, runId,
      items: [
        { sourceId: '10', targetId: '5010', warnings: [{ code: 'import_warning', message: 'unknown type "incident" ignored' }] },
        { sourceId: '11', targetId: '5011' },
      ],
      commentWarnings: [{ sourceId: '110', warnings: [{ code: 'attachment_failed', message: 'shot.png: not fetched from the source (HTTP 404)' }] }],
    });
    await markSkipped(db, { entity: 'tickets', source: SOURCE, runId, sourceIds: ['12'], reason: 'filter: tag spam' });
  });
  after(async () => {
    await database.drop();
    dir.remove();
  });

  test('the reconciliation view counts loaded rows with warnings apart', async () => {
    const counts = await reconciliation(db, runId);
    const t = counts.find((c) => c.entity === 'tickets')!;
    assert.deepEqual([t.loaded, t.migrated, t.withWarnings, t.skipped, t.missing], [2, 1, 1, 1, 0]);
    const c = counts.find((x) => x.entity === 'comments')!;
    assert.deepEqual([c.loaded, c.migrated, c.withWarnings], [2, 1, 1]);
  });

  test('records carry the outcome word and their warnings; the status filter takes the words', async () => {
    const { records } = await runRecords(db, runId, { entity: 'tickets' });
    assert.deepEqual(records.map((r) => [r.sourceId, r.status, r.warnings.map((w) => w.code)]), [
      ['10', 'migrated with warnings', ['import_warning']], ['11', 'migrated', []], ['12', 'skipped', []],
    ]);
    assert.equal((await runRecords(db, runId, { status: 'migrated with warnings' })).total, 2);
    assert.equal((await runRecords(db, runId, { status: 'migrated' })).total, 2);
    assert.equal((await runRecords(db, runId, { status: 'loaded' })).total, 4);
  });

  test('warnings are appended once each, grouped by message, and cleared when the row loads again', async () => {
    const w = { code: 'type_not_set', message: 'type "incident" is not in the target: not set' };
    await addLoadWarnings(db, { table: 'tickets', source: SOURCE, items: [{ sourceId: '10', warnings: [w, w] }] });
    await addLoadWarnings(db, { table: 'tickets', source: SOURCE, items: [{ sourceId: '10', warnings: [w] }] });
    const row = await db('tickets').where({ source: SOURCE, source_id: '10' }).first('load_warnings');
    assert.deepEqual(row.load_warnings.map((x: { code: string }) => x.code), ['import_warning', 'type_not_set']);
    assert.deepEqual((await warningCounts(db, runId)).map((g) => [g.entity, g.code, g.count]), [
      ['comments', 'attachment_failed', 1], ['tickets', 'import_warning', 1], ['tickets', 'type_not_set', 1],
    ]);
    assert.deepEqual(await runActivity(db, runId), [
      { entity: 'tickets', migrated: 1, withWarnings: 1, skipped: 1, failed: 0 },
      { entity: 'comments', migrated: 1, withWarnings: 1, skipped: 1, failed: 0 },
    ]);
    // Loaded again (after a rollback, say) without warnings: plain migrated.
    await markLoaded(db, { entity: 'tickets', source: SOURCE, runId, items: [{ sourceId: '10', targetId: '5010' }] });
    const again = await db('tickets').where({ source: SOURCE, source_id: '10' }).first('load_warnings');
    assert.equal(again.load_warnings, null);
    // Put the warning back for the report tests below.
    await addLoadWarnings(db, { table: 'tickets', source: SOURCE, items: [{ sourceId: '10', warnings: [w] }] });
    await addLoadWarnings(db, { table: 'comments', source: SOURCE, items: [{ sourceId: '100', warnings: [] }, { sourceId: '110', warnings: [{ code: 'attachment_failed', message: 'shot.png: not fetched from the source (HTTP 404)' }] }] });
  });

  test('counts.csv, records.csv and report.json say migrated with warnings, with the warning text', async () => {
    const files = (await writeReportFiles(db, dir.path, runId))!;
    const counts = parse(readFileSync(files.countsCsv, 'utf8'), { columns: true }) as Record<string, string>[];
    const t = counts.find((r) => r.entity === 'tickets')!;
    assert.equal(t.migrated, '1');
    assert.equal(t.migrated_with_warnings, '1');
    assert.equal(t.skipped, '1');
    const records = parse(readFileSync(files.csv, 'utf8'), { columns: true }) as Record<string, string>[];
    const warned = records.find((r) => r.entity === 'tickets' && r.source_id === '10')!;
    assert.equal(warned.status, 'migrated with warnings');
    assert.equal(warned.warnings, 'type "incident" is not in the target: not set');
    const json = JSON.parse(readFileSync(join(files.dir, 'report.json'), 'utf8'));
    assert.equal(json.totals.withWarnings, 2);
    assert.equal(json.totals.migrated, 2);
    assert.ok(json.warnings.some((w: { code: string }) => w.code === 'type_not_set'));
  });

  test('the terminal table has a column for them and lists the warnings', async () => {
    const text = formatReport({ runId, counts: await reconciliation(db, runId), reasons: [], warnings: await warningCounts(db, runId), calls: 3, seconds: 1 });
    const [head, , ...rows] = text.split('\n').slice(1);
    assert.match(head!, /migrated\s+with warnings\s+skipped/);
    const tickets = rows.find((r) => r.startsWith('tickets'))!.trim().split(/\s+/);
    // entity extracted rejected staged migrated with-warnings skipped failed pending missing
    assert.deepEqual(tickets, ['tickets', '3', '0', '3', '1', '1', '1', '0', '0', '0']);
    assert.match(text, /migrated with warnings \(in the target, but not whole\): 1 tickets, 1 comments/);
    assert.match(text, /1 {2}tickets: type "incident" is not in the target: not set/);
  });
});
