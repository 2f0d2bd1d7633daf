import { setTimeout as sleep } from 'node:timers/promises';
import { endOffsets, groupCaughtUp } from '../../core/bus.ts';
import type { Config } from '../../core/config.ts';
import type { PipelineDeps } from '../../cli/pipeline.ts';
import type { Db } from '../../staging/index.ts';
import { startTransform } from '../../transform/index.ts';

/** Runs transform until it consumed everything on the raw topics, then stops it. */
export async function stageAll(deps: PipelineDeps, config: Config, timeoutMs = 60_000): Promise<void> {
  const transform = await startTransform(deps, config);
  try {
    const admin = deps.kafka.admin();
    await admin.connect();
    try {
      const targets = await endOffsets(admin, transform.topics);
      const deadline = Date.now() + timeoutMs;
      while (!(await groupCaughtUp(admin, transform.groupId, targets))) {
        if (Date.now() > deadline) throw new Error('transform did not catch up');
        await sleep(200);
      }
    } finally {
      await admin.disconnect();
    }
  } finally {
    await transform.close();
  }
}

export async function ids(db: Db, table: string, where: Record<string, unknown> = {}): Promise<string[]> {
  return (await db(table).where(where).select('source_id').orderBy('source_id')).map((r: { source_id: string }) => r.source_id);
}

export const sorted = (xs: Iterable<string>) => [...xs].sort();

/** Staging content that must not depend on how the extraction went (crash or not). */
export async function stagingSnapshot(db: Db): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of ['companies', 'people', 'tickets', 'comments']) {
    out[table] = await db(table).select('source_id', 'data', 'content_hash').orderBy('source_id');
  }
  out.attachments = await db('attachments').select('source_id', 'kind', 'ticket_source_id', 'comment_source_id', 'article_source_id', 'source_url',
    'file_name', 'content_type', 'size', 'sha256', 'blob_path', 'inline', 'fetch_state').orderBy('source_id');
  out.run_entities = await db('run_entities').select('entity', 'extracted').orderBy('entity');
  return out;
}
