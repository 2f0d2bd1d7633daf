import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { runExtract } from '../../extract/index.ts';
import { createRun, type Db } from '../../staging/index.ts';
import { attachmentSha256 } from '../fixtures/zendesk-server/dataset.ts';
import { startZendeskServer, type ZendeskServer, type ZendeskServerOptions } from '../fixtures/zendesk-server/index.ts';
import { freshDatabase, pipelineDeps, services, tempDir, testConfig, uniqueName } from '../helpers.ts';
import { ids, sorted, stageAll, stagingSnapshot } from './helpers.ts';

const EMAIL = 'admin@acme.example';
const TOKEN = 'fixture-api-token';
const DATA: ZendeskServerOptions = { seed: 11, tickets: 30, maxAttachmentBytes: 40_000, email: EMAIL, apiToken: TOKEN };

function apiConfig(server: ZendeskServer, blobDir: string, extra: Record<string, unknown> = {}) {
  return testConfig({
    source: { kind: 'zendesk-api', url: server.url, email: EMAIL, apiToken: TOKEN, pageSize: 40, blobDir, retryBaseMs: 20, maxRetries: 4, ...extra },
  });
}

async function extractAndStage(deps: Awaited<ReturnType<typeof pipelineDeps>>, cfg: ReturnType<typeof apiConfig>) {
  const runId = await createRun(deps.db, 'extract', cfg.source.name);
  const result = await runExtract(deps, cfg, runId);
  await stageAll(deps, cfg);
  return result;
}

async function assertComplete(db: Db, server: ZendeskServer): Promise<void> {
  const x = server.dataset.expected;
  assert.deepEqual(await ids(db, 'people'), sorted(x.users), 'users: agents and end users, suspended and deleted');
  assert.deepEqual(await ids(db, 'companies'), sorted(x.organizations), 'organizations (duplicates across pages collapse)');
  assert.deepEqual(await ids(db, 'tickets'), sorted(x.tickets), 'tickets (deleted ones are not migrated)');
  assert.deepEqual(await ids(db, 'comments'), sorted(x.comments), 'comments');
  // Order inside every ticket, including the big one and the per-ticket fallbacks.
  const rows = await db('comments').select('ticket_source_id', 'source_id', 'position').orderBy(['ticket_source_id', 'position']);
  const byTicket = new Map<string, string[]>();
  for (const r of rows) byTicket.set(r.ticket_source_id, [...(byTicket.get(r.ticket_source_id) ?? []), r.source_id]);
  for (const [ticket, order] of x.commentOrder) assert.deepEqual(byTicket.get(ticket), order, `comment order of ticket ${ticket}`);
  assert.ok(x.commentOrder.get(x.bigTicket)!.length > 1000);
  // Attachments: every listed one fetched byte-identical, the broken one failed with its reason.
  const att = await db('attachments').where({ kind: 'comment' }).select();
  const listed = att.filter((a) => !a.inline);
  assert.deepEqual(sorted(listed.map((a) => a.source_id)), sorted(x.attachments));
  const byToken = new Map([...server.dataset.attachments.values()].map((e) => [String(e.attachment.id), e.attachment]));
  for (const a of listed) {
    if (x.failedAttachments.includes(a.source_id)) {
      assert.equal(a.fetch_state, 'failed');
      assert.match(a.reason, /500/);
      assert.ok(a.attempts >= 2, 'a failed download was retried');
      continue;
    }
    assert.equal(a.fetch_state, 'fetched', `attachment ${a.source_id}: ${a.reason}`);
    const src = byToken.get(a.source_id)!;
    assert.equal(Number(a.size), src.size);
    assert.equal(a.sha256, attachmentSha256(src.id, src.size));
  }
  // Inline images: found in the HTML bodies, fetched with auth, linked to their comment.
  const inline = att.filter((a) => a.inline);
  assert.deepEqual(sorted(new Set(inline.map((a) => a.source_url))), sorted(new Set(x.inlineImages)));
  assert.ok(inline.every((a) => a.fetch_state === 'fetched' && a.comment_source_id && a.sha256));
  // Text Postgres cannot store was repaired, not dropped.
  const odd = await db('comments').whereRaw("data->>'bodyHtml' like ?", ['%Broken paste%']).first('data');
  assert.ok(odd, 'the comment with a lone surrogate and a NUL is staged');
  assert.ok(odd.data.bodyHtml.includes('\ufffd') && !odd.data.bodyHtml.includes('\u0000'));
}

describe('Zendesk API extraction against the fixture server', () => {
  let server: ZendeskServer;
  const dir = tempDir();
  before(async () => {
    server = await startZendeskServer(DATA);
  });
  after(async () => {
    await server.close();
    dir.remove();
  });

  test('a full extraction lands every record of the dataset in staging', async () => {
    const deps = await pipelineDeps();
    try {
      const cfg = apiConfig(server, join(dir.path, 'blobs-full'));
      const result = await extractAndStage(deps, cfg);
      await assertComplete(deps.db, server);
      const blob = await deps.db('attachments').where({ fetch_state: 'fetched' }).first('blob_path', 'sha256');
      const bytes = readFileSync(join(cfg.source.blobDir!, blob.blob_path));
      assert.equal(createHash('sha256').update(bytes).digest('hex'), blob.sha256, 'the blob store holds the bytes under their hash');
      // Comments come from the events export: per-ticket calls only for the fallback tickets.
      const perTicket = Object.entries(result.callsByEndpoint!).filter(([k]) => k.includes('/comments')).reduce((n, [, v]) => n + v, 0);
      assert.equal(perTicket, server.dataset.expected.fallbackTickets.length);
      // Help Center: article attachments fetched into the store.
      const art = await deps.db('attachments').where({ kind: 'article' }).select();
      assert.equal(art.length, 1);
      assert.equal(art[0].fetch_state, 'fetched');
      assert.equal(result.byEntity.kb_articles, server.dataset.expected.kbArticles.length);
      assert.equal(result.byEntity.kb_categories, server.dataset.expected.kbCategories.length);
      const cp = await deps.db('checkpoints').where({ stream: 'api:tickets' }).first('cursor');
      assert.equal(JSON.parse(cp.cursor).done, true, 'the high-water mark is stored for a delta run');
    } finally {
      await deps.drop();
    }
  });

  test('a 429 storm and 5xx slow the extractor down but lose nothing', async () => {
    const stormy = await startZendeskServer({ ...DATA, faults: { storm: { from: 4, count: 3 }, retryAfterSeconds: 1, serverErrorEvery: 11 } });
    const deps = await pipelineDeps();
    try {
      const cfg = apiConfig(stormy, join(dir.path, 'blobs-storm'), { maxRetries: 6 });
      await extractAndStage(deps, cfg);
      await assertComplete(deps.db, stormy);
      assert.ok(stormy.stats.tooMany >= 3 && stormy.stats.serverErrors > 0);
      const waited = (await deps.registry.getSingleMetricAsString('deskport_extract_rate_limit_wait_seconds_total'));
      const seconds = Number(/reason="429"} (\S+)/.exec(waited)?.[1] ?? 0);
      assert.ok(seconds >= stormy.stats.tooMany - 0.001, `waited Retry-After for each 429 (${seconds} s for ${stormy.stats.tooMany})`);
    } finally {
      await deps.drop();
      await stormy.close();
    }
  });

  test('retries run out with a clear error instead of hanging', async () => {
    const angry = await startZendeskServer({ ...DATA, tickets: 10, faults: { tooManyEvery: 1, retryAfterSeconds: 0 } });
    const deps = await pipelineDeps();
    try {
      const cfg = apiConfig(angry, join(dir.path, 'blobs-angry'), { maxRetries: 2 });
      const runId = await createRun(deps.db, 'extract', cfg.source.name);
      await assert.rejects(runExtract(deps, cfg, runId), (err: Error) => {
        assert.match(err.message, /kept rate-limiting .* gave up after 3 attempt/);
        return true;
      });
    } finally {
      await deps.drop();
      await angry.close();
    }
  });

  test('wrong credentials give one clear message without the token', async () => {
    const deps = await pipelineDeps();
    try {
      const cfg = apiConfig(server, join(dir.path, 'blobs-bad'), { apiToken: 'wrong-token-123' });
      const runId = await createRun(deps.db, 'extract', cfg.source.name);
      await assert.rejects(runExtract(deps, cfg, runId), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'DESKPORT_SOURCE_AUTH');
        assert.match(err.message, /rejected the credentials \(401, API token of admin@acme\.example\)/);
        assert.ok(!err.message.includes('wrong-token-123'));
        return true;
      });
    } finally {
      await deps.drop();
    }
  });

  test('kill -9 during extraction, then restart: same staging content as an uninterrupted run', async () => {
    const svc = await services();
    const prefix = uniqueName('t');
    const crashed = await freshDatabase();
    const blobDir = join(dir.path, 'blobs-kill');
    const env = {
      ...process.env, DATABASE_URL: crashed.url, KAFKA_BROKERS: svc.brokers.join(','), DESKPORT_TOPIC_PREFIX: prefix, DESKPORT_LOG_LEVEL: 'error',
      DESKPORT_SOURCE_KIND: 'zendesk-api', DESKPORT_SOURCE_URL: server.url, DESKPORT_SOURCE_EMAIL: EMAIL, DESKPORT_SOURCE_API_TOKEN: TOKEN,
      DESKPORT_BLOB_DIR: blobDir, DESKPORT_CONFIG: join(dir.path, 'kill-config.json'),
    };
    (await import('node:fs')).writeFileSync(env.DESKPORT_CONFIG, JSON.stringify({ source: { pageSize: 40, retryBaseMs: 20 } }));
    const startChild = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'cli/extract-main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { child, exited, output: () => ({ out, err }) };
    };
    try {
      // Kill twice: once inside the ticket export, once inside the ticket-events (comments) export.
      for (const [path, n] of [['/api/v2/incremental/tickets/cursor.json', 1], ['/api/v2/incremental/ticket_events.json', 4]] as const) {
        const before = server.stats.byPath.get(path) ?? 0;
        const run = startChild();
        const deadline = Date.now() + 60_000;
        while ((server.stats.byPath.get(path) ?? 0) < before + n) {
          if (Date.now() > deadline) throw new Error(`the extractor never reached ${path}: ${run.output().err}`);
          await sleep(5);
        }
        run.child.kill('SIGKILL');
        assert.equal(await run.exited, null, 'killed, not finished');
      }
      const last = startChild();
      const code = await last.exited;
      assert.equal(code, 0, last.output().err);
      const printed = JSON.parse(last.output().out.trim().split('\n').at(-1)!);
      assert.equal(printed.runId, 1, 'the restart resumed the interrupted run');

      const { createKafka } = await import('../../core/bus.ts');
      const { createLogger } = await import('../../core/log.ts');
      const { createRegistry } = await import('../../core/metrics.ts');
      const log = createLogger({ level: process.env.DESKPORT_TEST_LOG ?? 'error' });
      const crashedDeps = { db: crashed.db, kafka: createKafka(svc.brokers, log), log, registry: createRegistry() };
      const cfg = testConfig({ topicPrefix: prefix, source: { kind: 'zendesk-api', url: server.url, email: EMAIL, apiToken: TOKEN, blobDir } });
      await stageAll(crashedDeps, cfg);
      await assertComplete(crashed.db, server);

      const clean = await pipelineDeps();
      try {
        await extractAndStage(clean, apiConfig(server, join(dir.path, 'blobs-clean')));
        assert.deepEqual(await stagingSnapshot(crashed.db), await stagingSnapshot(clean.db));
      } finally {
        await clean.drop();
      }
    } finally {
      await crashed.drop();
    }
  });
});
