import type { Registry } from 'prom-client';
import type { Config } from '../core/config.ts';
import { DeskportError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { counter } from '../core/metrics.ts';
import {
  createVerification, finishVerification, getRun, getVerification, latestRunId, loadedTicketsOfRun, saveVerifyResults, stagedAttachments,
  type Db, type VerificationRow, type VerifyResult,
} from '../staging/index.ts';
import type { TeamworkDeskClient } from './client.ts';
import { TargetDirectory } from './target-directory.ts';
import { compareTicket } from './verify/compare.ts';
import { expectedTickets } from './verify/expected.ts';
import { TargetReader } from './verify/read-target.ts';

export interface VerifyDeps { db: Db; client: TeamworkDeskClient; log: Logger; registry: Registry }
export interface VerifyOptions {
  /** The run whose loaded tickets are read back; default: the newest finished run. */
  runId?: number;
  /** Read back N tickets picked at random instead of all of them. */
  sample?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Checks verify cannot make yet, and why; stored with the verification and shown in every report. */
export const NOT_MIGRATED_YET = 'not migrated yet';

const BATCH = 25;

/**
 * `deskport verify` (R21): reads back from the target what a run loaded — every ticket, or a
 * random sample — through the documented v2 API, inside the shared rate budget, and compares
 * it field by field with staging. Differences are stored per record (verify_results) and
 * summarised on the verification row.
 */
export async function runVerify(deps: VerifyDeps, config: Config, opts: VerifyOptions = {}): Promise<VerificationRow> {
  const { db, client, log } = deps;
  const runId = opts.runId ?? await latestRunId(db, { finished: true });
  if (runId === undefined || !(await getRun(db, runId))) {
    throw new DeskportError('DESKPORT_NO_RUN', runId === undefined ? 'there is no finished run to verify' : `there is no run ${runId}`, {
      hint: 'Run a migration first (deskport run), or name one with --run <id>.',
    });
  }
  const source = config.source.name;
  const outcomes = counter(deps.registry, 'deskport_verify_records_total', 'Records read back by verify, by outcome', ['status']);
  const attachmentsKnown = (await stagedAttachments(db, source, [])) !== null;
  const unchecked: Record<string, string> = {};
  if (!attachmentsKnown) unchecked.attachments = `${NOT_MIGRATED_YET}: staging has no attachment checksums (attachments table)`;
  const id = await createVerification(db, runId, { sample: opts.sample, unchecked });
  const calls0 = client.callCount;
  try {
    const directory = await TargetDirectory.read(client);
    const reader = new TargetReader(client, directory);
    const rows = await loadedTicketsOfRun(db, runId, { source, sample: opts.sample });
    let mappedFields = 0;
    for (let i = 0; i < rows.length; i += BATCH) {
      const batch = rows.slice(i, i + BATCH);
      const files = attachmentsKnown ? await stagedAttachments(db, source, batch.map((r) => r.sourceId)) : null;
      const expected = await expectedTickets({ db, directory, config }, batch, files);
      const results: VerifyResult[] = [];
      for (const row of batch) {
        const base = { entity: 'tickets', source, sourceId: row.sourceId, targetId: row.targetId };
        const e = expected.get(row.sourceId)!;
        try {
          if (e instanceof Error) throw e;
          mappedFields += e.customFields.length;
          const actual = row.targetId ? await reader.ticket(row.targetId, { files: e.threads.some((t) => t.attachments && t.attachments.length > 0) }) : null;
          if (!actual) {
            results.push({ ...base, status: 'missing', diffs: [{ field: 'ticket', expected: row.targetId ?? '(a target id)', actual: null }] });
            continue;
          }
          const diffs = compareTicket(e, actual);
          results.push({ ...base, status: diffs.length === 0 ? 'ok' : 'different', diffs });
        } catch (err) {
          results.push({ ...base, status: 'error', diffs: [{ field: 'error', expected: null, actual: errorMessage(err) }] });
        }
      }
      await saveVerifyResults(db, id, results);
      for (const r of results) outcomes.inc({ status: r.status });
      opts.onProgress?.(Math.min(i + BATCH, rows.length), rows.length);
    }
    if (mappedFields === 0) unchecked.customFields = 'no custom field of these tickets is mapped to a target field';
    await finishVerification(db, id, { status: 'done', calls: client.callCount - calls0, unchecked });
  } catch (err) {
    await finishVerification(db, id, { status: 'failed', calls: client.callCount - calls0, error: errorMessage(err), unchecked });
    throw err;
  }
  const done = (await getVerification(db, id))!;
  log.info({ verification: id, runId, checked: done.checked, different: done.different, errors: done.errors, calls: done.calls }, 'verify finished');
  return done;
}
