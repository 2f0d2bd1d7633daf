import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { runVerify } from '../../load/verify.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { startServe, type ServeHandle } from '../../serve/index.ts';
import { completedRun, type CompletedRun } from './fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'test-artifacts';
const run$ = promisify(execFile);

/** Headless Chromium as Debian ships it; a fresh profile each time, no network chatter. */
async function chromium(args: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'deskport-chromium-'));
  try {
    const { stdout } = await run$(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--window-size=1280,2000', ...args,
    ], { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

const number = (dom: string, id: string) => Number(new RegExp(`id="${id}"[^>]*>(\\d+)<`).exec(dom)?.[1]);

describe('the HTML report page, rendered in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)` }, () => {
  let run: CompletedRun;
  let server: ServeHandle;
  let pageUrl: string;

  before(async () => {
    run = await completedRun({ verify: false });
    // One tampered ticket in the target, so the page shows a verify diff.
    const t = await run.deps.db('id_map').where({ entity: 'tickets' }).orderBy('source_id').first();
    run.sandbox.store.raw.update('tickets', Number(t.target_id), { subject: 'Subject changed after migration' }, null);
    const client = connectTarget(run.deps, run.config());
    try {
      await runVerify({ ...run.deps, client }, run.config(), { runId: run.report.runId });
    } finally {
      await client.close();
    }
    server = await startServe({ db: run.deps.db, registry: run.deps.registry, config: run.config() }, { port: 0 });
    pageUrl = `${server.url}/runs/${run.report.runId}/report?format=html`;
  });
  after(async () => {
    await server?.close();
    await run?.close();
  });

  test('shows the run totals, failures by reason, links and the verify diff', async () => {
    const dom = await chromium(['--dump-dom', pageUrl]);
    const counts = run.report.counts;
    const sum = (k: 'extracted' | 'migrated' | 'withWarnings' | 'skipped' | 'failed' | 'rejected' | 'missing') => counts.reduce((n, c) => n + c[k], 0);
    assert.equal(number(dom, 'total-extracted'), sum('extracted'));
    assert.equal(number(dom, 'total-migrated'), sum('migrated'));
    assert.equal(number(dom, 'total-with-warnings'), sum('withWarnings'));
    assert.equal(number(dom, 'total-skipped'), sum('skipped'));
    assert.equal(number(dom, 'total-failed'), sum('failed'));
    assert.equal(number(dom, 'total-rejected'), 1);
    assert.equal(number(dom, 'total-missing'), 0);
    assert.doesNotMatch(dom, /id="missing-alarm"/);
    assert.match(dom, /<details class="reason" data-state="rejected">[\s\S]*created_at/);
    assert.equal(number(dom, 'verify-different'), 1);
    assert.match(dom, /Subject changed after migration/);
    // Records link to the source (Zendesk agent UI) and the target (Teamwork Desk).
    assert.match(dom, /href="https:\/\/acme\.zendesk\.com\/agent\/tickets\/\d+"/);
    assert.ok(dom.includes(`href="${run.sandbox.url}/desk/tickets/`));
  });

  test('a screenshot is kept as a test artifact', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'report-page.png');
    rmSync(file, { force: true });
    await chromium([`--screenshot=${file}`, pageUrl]);
    assert.ok(existsSync(file), 'screenshot written');
    assert.deepEqual([...readFileSync(file).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    assert.ok(statSync(file).size > 20_000, 'not a blank page');
  });

  test('missing records raise the alarm on the page', async () => {
    // As if a record had been extracted and lost on the way.
    await run.deps.db('run_entities').where({ run_id: run.report.runId, entity: 'tickets' }).increment('extracted', 2);
    try {
      const dom = await chromium(['--dump-dom', pageUrl]);
      assert.equal(number(dom, 'total-missing'), 2);
      assert.match(dom, /id="missing-alarm"[^>]*>⚠ 2 record\(s\) MISSING/);
    } finally {
      await run.deps.db('run_entities').where({ run_id: run.report.runId, entity: 'tickets' }).decrement('extracted', 2);
    }
  });
});
