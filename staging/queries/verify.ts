import type { Knex } from 'knex';

export interface FieldDiff { field: string; expected: unknown; actual: unknown }
export type VerifyStatus = 'ok' | 'different' | 'missing' | 'error';

export interface VerifyResult {
  entity: string;
  source: string;
  sourceId: string;
  targetId: string | null;
  status: VerifyStatus;
  diffs: FieldDiff[];
}

export interface VerificationRow {
  id: number;
  runId: number;
  status: 'running' | 'done' | 'failed';
  sample: number | null;
  checked: number;
  ok: number;
  different: number;
  errors: number;
  calls: number;
  unchecked: Record<string, string>;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export async function createVerification(db: Knex, runId: number, opts: { sample?: number | undefined; unchecked?: Record<string, string> } = {}): Promise<number> {
  const [row] = await db('verifications').insert({
    run_id: runId, sample: opts.sample ?? null, unchecked: JSON.stringify(opts.unchecked ?? {}),
  }).returning('id');
  return Number(row.id);
}

/** Stores results (re-checking a record replaces its result) and bumps the verification's totals. */
export async function saveVerifyResults(db: Knex, verificationId: number, results: VerifyResult[]): Promise<void> {
  if (results.length === 0) return;
  await db.transaction(async (trx) => {
    await trx('verify_results').insert(results.map((r) => ({
      verification_id: verificationId, entity: r.entity, source: r.source, source_id: r.sourceId, target_id: r.targetId,
      status: r.status, diffs: JSON.stringify(r.diffs),
    }))).onConflict(['verification_id', 'entity', 'source_id']).merge();
    const totals = await trx('verify_results').where({ verification_id: verificationId })
      .select(trx.raw(`count(*)::int AS checked,
        (count(*) FILTER (WHERE status = 'ok'))::int AS ok,
        (count(*) FILTER (WHERE status IN ('different', 'missing')))::int AS different,
        (count(*) FILTER (WHERE status = 'error'))::int AS errors`)).first();
    await trx('verifications').where({ id: verificationId }).update(totals);
  });
}

export async function finishVerification(db: Knex, id: number, opts: { status: 'done' | 'failed'; calls: number; error?: string; unchecked?: Record<string, string> }): Promise<void> {
  await db('verifications').where({ id }).update({
    status: opts.status, calls: opts.calls, error: opts.error ?? null, finished_at: db.fn.now(),
    ...(opts.unchecked ? { unchecked: JSON.stringify(opts.unchecked) } : {}),
  });
}

function toVerification(r: any): VerificationRow {
  return {
    id: Number(r.id), runId: Number(r.run_id), status: r.status, sample: r.sample, checked: r.checked, ok: r.ok, different: r.different,
    errors: r.errors, calls: r.calls, unchecked: r.unchecked ?? {}, error: r.error, startedAt: r.started_at, finishedAt: r.finished_at,
  };
}

export async function getVerification(db: Knex, id: number): Promise<VerificationRow | undefined> {
  const r = await db('verifications').where({ id }).first();
  return r ? toVerification(r) : undefined;
}

/** The newest verification of a run. */
export async function latestVerification(db: Knex, runId: number): Promise<VerificationRow | undefined> {
  const r = await db('verifications').where({ run_id: runId }).orderBy('id', 'desc').first();
  return r ? toVerification(r) : undefined;
}

/** Results of a verification; by default only the ones that are not ok. */
export async function verifyResults(db: Knex, verificationId: number, f: { status?: VerifyStatus | 'problems' | 'all'; limit?: number; offset?: number } = {}): Promise<VerifyResult[]> {
  const q = db('verify_results').where({ verification_id: verificationId });
  const status = f.status ?? 'problems';
  if (status === 'problems') q.whereNot({ status: 'ok' });
  else if (status !== 'all') q.where({ status });
  q.orderByRaw('entity, length(source_id), source_id');
  if (f.limit !== undefined) q.limit(f.limit);
  if (f.offset) q.offset(f.offset);
  const rows = await q;
  return rows.map((r: any) => ({ entity: r.entity, source: r.source, sourceId: r.source_id, targetId: r.target_id, status: r.status, diffs: r.diffs }));
}

/** Loaded tickets of a run with their target ids; `sample` picks N at random. */
export async function loadedTicketsOfRun(db: Knex, runId: number, opts: { source: string; sample?: number | undefined }): Promise<{ sourceId: string; targetId: string | null; data: any }[]> {
  const q = db('tickets as t')
    .leftJoin('id_map as m', function join() {
      this.on('m.source', 't.source').andOn('m.source_id', 't.source_id').andOnVal('m.entity', 'tickets');
    })
    .where({ 't.run_id': runId, 't.source': opts.source, 't.load_state': 'loaded' })
    .select('t.source_id', 'm.target_id', 't.data');
  if (opts.sample !== undefined) q.orderByRaw('random()').limit(opts.sample);
  else q.orderByRaw('length(t.source_id), t.source_id');
  const rows = await q;
  return rows.map((r: any) => ({ sourceId: r.source_id, targetId: r.target_id, data: r.data }));
}

export interface StagedAttachment { commentSourceId: string; fileName: string; size: number; sha256: string }

/**
 * Attachments staging knows the bytes of (size + sha256), per comment. The `attachments` table
 * comes with attachment migration; until it exists — or lacks the columns verify needs — this
 * answers null and verify records attachments as "not migrated yet".
 */
export async function stagedAttachments(db: Knex, source: string, ticketSourceIds: string[]): Promise<Map<string, StagedAttachment[]> | null> {
  if (!(await db.schema.hasTable('attachments'))) return null;
  const cols = new Set(Object.keys(await db('attachments').columnInfo()));
  const pick = (...names: string[]) => names.find((n) => cols.has(n));
  const comment = pick('comment_source_id');
  const ticket = pick('ticket_source_id');
  const fileName = pick('file_name', 'filename');
  const size = pick('size', 'size_bytes', 'bytes');
  const sha = pick('sha256');
  if (!comment || !ticket || !fileName || !size || !sha || !cols.has('source')) return null;
  const q = db('attachments').where({ source }).whereIn(ticket, ticketSourceIds).whereNotNull(sha);
  // Only comment attachments whose bytes were fetched: a failed fetch has no checksum to compare.
  if (cols.has('kind')) q.where({ kind: 'comment' });
  if (cols.has('fetch_state')) q.where({ fetch_state: 'fetched' });
  const rows = await q
    .select({ commentSourceId: comment, fileName, size, sha256: sha }).orderBy([comment, fileName]);
  const out = new Map<string, StagedAttachment[]>();
  for (const r of rows as any[]) {
    const list = out.get(r.commentSourceId) ?? [];
    list.push({ commentSourceId: r.commentSourceId, fileName: r.fileName, size: Number(r.size), sha256: r.sha256 });
    out.set(r.commentSourceId, list);
  }
  return out;
}
