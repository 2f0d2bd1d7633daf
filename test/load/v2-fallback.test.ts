import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { BlobStore } from '../../staging/blob-store.ts';
import { Loader } from '../../load/loader.ts';
import { TargetDirectory } from '../../load/target-directory.ts';
import { v2Marker } from '../../load/v2-writes.ts';
import type { Config } from '../../core/config.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { upsertAttachments, type AttachmentRow } from '../../staging/index.ts';
import type { ZendeskDataset } from '../fixtures/zendesk-data.ts';
import { startSandbox } from '../sandbox/index.ts';
import { entities, type SandboxMessage, type SandboxTicket } from '../sandbox-readback.ts';
import { tempDir } from '../helpers.ts';
import { agentsOf, dataset, KEY, stagedDataset } from './fixture.ts';

const IMPORT_CAP = 300_000;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
type Msg = SandboxMessage & { files: { id: number }[] };

/**
 * Two oversize tickets: #0 has 8 comments of 50 KB (400 KB, over the sandbox import's 300 KB
 * body cap, which the loader is not told about: the import answers 413) and two attachments, one
 * an inline image; #1 has a comment of 1.2 million characters (over the per-message limit: the
 * loader sees it before any call and splits it into two notes).
 */
function oversizeData(): { data: ZendeskDataset; big: number; long: number; longText: string } {
  const data = dataset(5, 31);
  const [t0, t1] = data.tickets as [ZendeskDataset['tickets'][number], ZendeskDataset['tickets'][number]];
  while (t0.comments.length < 8) t0.comments.push({ ...structuredClone(t0.comments[0]!), id: t0.comments[0]!.id + 100_000 + t0.comments.length });
  t0.comments.forEach((c, i) => {
    c.html_body = `<p>comment ${i} of the big ticket</p><p>${'lorem ipsum '.repeat(4200)}</p>`;
    c.attachments = [];
  });
  const longText = `<p>${'a long paste '.repeat(100_000)}</p>`;
  t1.comments[0]!.html_body = longText;
  return { data, big: t0.id, long: t1.id, longText };
}

async function addAttachments(staged: Awaited<ReturnType<typeof stagedDataset>>, store: BlobStore, ticket: number, commentId: number) {
  const inlineUrl = 'https://acme.zendesk.com/attachments/token/v2inline/?name=chart.png';
  const bytes = { 'report.pdf': randomBytes(70_000), 'chart.png': randomBytes(5000) };
  const rows: AttachmentRow[] = [];
  for (const [name, b] of Object.entries(bytes)) {
    const stored = await store.put(Readable.from([b]));
    const inline = name === 'chart.png';
    rows.push({
      source: 'zendesk', sourceId: `v2-${name}`, kind: 'comment', ticketSourceId: String(ticket), commentSourceId: String(commentId), articleSourceId: null,
      sourceUrl: inline ? inlineUrl : `https://acme.zendesk.com/a/${name}`, fileName: name, contentType: inline ? 'image/png' : 'application/pdf',
      size: b.length, sha256: stored.sha256, blobPath: stored.blobPath, inline, fetchState: 'fetched', reason: null, attempts: 1, runId: staged.runId,
    });
  }
  await upsertAttachments(staged.deps.db, rows);
  await staged.deps.db('comments').where({ source_id: String(commentId) })
    .update({ data: staged.deps.db.raw(`jsonb_set(data, '{bodyHtml}', to_jsonb((data->>'bodyHtml') || ?::text))`, [`<p>See <img src="${inlineUrl}"></p>`]) });
  return Object.fromEntries(Object.entries(bytes).map(([k, b]) => [k, sha(b)]));
}

async function load(config: Config, staged: Awaited<ReturnType<typeof stagedDataset>>, finalPass = true) {
  const client = connectTarget(staged.deps, config);
  try {
    return await new Loader({ ...staged.deps, client, directory: await TargetDirectory.read(client) }, config).run({ runId: staged.runId, finalPass });
  } finally {
    await client.close();
  }
}

/** The sandbox tickets and messages v2 wrote for a source ticket, found by the ticket marker. */
async function v2Ticket(url: string, sourceId: number) {
  const messages = await entities<Msg>(url, 'messages');
  const marker = v2Marker('zendesk', 'ticket', String(sourceId));
  const ticketIds = [...new Set(messages.filter((m) => m.htmlBody.includes(marker)).map((m) => m.ticket.id))];
  const tickets = (await entities<SandboxTicket>(url, 'tickets')).filter((t) => ticketIds.includes(t.id));
  return { tickets, messages: messages.filter((m) => ticketIds.includes(m.ticket.id)).sort((a, b) => a.id - b.id) };
}

describe('v2 fallback for tickets the import refuses for their size', () => {
  const blobs = tempDir();
  const store = new BlobStore(join(blobs.path, 'store'));
  const { data, big, long, longText } = oversizeData();
  let staged: Awaited<ReturnType<typeof stagedDataset>>;
  let files: Record<string, string>;
  before(async () => {
    staged = await stagedDataset(data);
    files = await addAttachments(staged, store, big, data.tickets[0]!.comments[2]!.id);
  });
  after(async () => {
    await staged.close();
    blobs.remove();
  });

  test('arrive through v2 with every comment and attachment, as notes, emailing nobody', async () => {
    const sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, importMaxBodyBytes: IMPORT_CAP, seed: { agents: agentsOf(data) } });
    try {
      const config: Config = { ...staged.config, source: { ...staged.config.source, blobDir: store.dir }, target: { ...staged.config.target, url: sandbox.url, apiKey: KEY } };
      const summary = await load(config, staged);
      assert.equal(summary.tickets.loaded, data.tickets.length, 'every ticket loaded');
      assert.equal(summary.tickets.failed, 0);
      assert.ok(sandbox.store.callCount({ route: '/desk/v1/import/tickets.json', status: 413 }) >= 1, 'the import refused the big ticket');

      const t0 = await v2Ticket(sandbox.url, big);
      assert.equal(t0.tickets.length, 1, 'one target ticket');
      const src0 = data.tickets[0]!;
      assert.equal(t0.tickets[0]!.subject, src0.subject);
      assert.equal(t0.messages.length, src0.comments.length, 'one message per comment');
      assert.deepEqual(t0.messages.map((m) => m.threadType), ['message', ...src0.comments.slice(1).map(() => 'note')], 'history as notes (the create carries the first)');
      src0.comments.forEach((_c, i) => {
        assert.match(t0.messages[i]!.htmlBody, new RegExp(`comment ${i} of the big ticket`));
        assert.match(t0.messages[i]!.htmlBody, /Originally written by .* on \d{4}-/, 'author and date header');
      });
      const withFiles = t0.messages[2]!;
      assert.match(withFiles.htmlBody, /\[inline image: chart\.png — attached\]/);
      const got: Record<string, string> = {};
      for (const f of withFiles.files) {
        const bytes = Buffer.from(await (await request(`${sandbox.url}/_sandbox/files/${f.id}/content`)).body.arrayBuffer());
        const meta = (await (await request(`${sandbox.url}/_sandbox/entities/files/${f.id}`)).body.json()) as { fileName: string; disposition: string };
        got[meta.fileName] = sha(bytes);
        assert.equal(meta.disposition, meta.fileName === 'chart.png' ? 'attachment-inline' : 'attachment');
      }
      assert.deepEqual(got, files, 'attachments byte-identical (sha256)');

      const t1 = await v2Ticket(sandbox.url, long);
      assert.equal(t1.tickets.length, 1);
      assert.equal(t1.messages.length, data.tickets[1]!.comments.length + 1, 'the long comment became two notes');
      const joined = t1.messages.slice(0, 2).map((m) => m.htmlBody).join('');
      assert.equal((joined.match(/paste/g) ?? []).length, (longText.match(/paste/g) ?? []).length, 'nothing of the long comment lost');
      assert.equal(sandbox.store.emails().length, 0, 'emailed nobody');
      const rows = await staged.deps.db('comments').whereIn('ticket_source_id', [String(big), String(long)]).select('load_state');
      assert.ok(rows.every((r) => r.load_state === 'loaded'));
    } finally {
      await sandbox.close();
    }
  });

  test('load.v2PublicReplies: public comments become replies, which email the customer (why it is off by default)', async () => {
    await staged.deps.db.raw(`UPDATE tickets SET load_state = 'pending', load_attempts = 0, changed_since_load = false`);
    await staged.deps.db.raw(`UPDATE comments SET load_state = 'pending', load_attempts = 0`);
    await staged.deps.db.raw('TRUNCATE v2_writes, id_map');
    const sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, importMaxBodyBytes: IMPORT_CAP, seed: { agents: agentsOf(data) } });
    try {
      const config: Config = {
        ...staged.config, source: { ...staged.config.source, blobDir: store.dir }, target: { ...staged.config.target, url: sandbox.url, apiKey: KEY },
        load: { ...staged.config.load, v2PublicReplies: true },
      };
      await load(config, staged);
      const t0 = await v2Ticket(sandbox.url, big);
      const src = data.tickets[0]!.comments;
      assert.deepEqual(t0.messages.slice(1).map((m) => m.threadType), src.slice(1).map((c) => (c.public ? 'message' : 'note')));
      const publicReplies = src.slice(1).filter((c) => c.public).length;
      assert.ok(publicReplies > 0, 'the fixture has public comments');
      assert.equal(sandbox.store.emails().filter((e) => e.ticketId === t0.tickets[0]!.id).length, publicReplies, 'each public reply emailed the customer');
      assert.equal(sandbox.store.emails().filter((e) => e.reason === 'ticket-create').length, 0, 'the create never does (notifyCustomer: false)');
    } finally {
      await sandbox.close();
    }
  });

  test('a v2 ticket deleted in the target since (a rollback) is written again, not assumed to exist', async () => {
    await staged.deps.db.raw(`UPDATE tickets SET load_state = 'pending', load_attempts = 0, changed_since_load = false`);
    await staged.deps.db.raw(`UPDATE comments SET load_state = 'pending', load_attempts = 0`);
    await staged.deps.db.raw('TRUNCATE v2_writes, id_map');
    const sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, importMaxBodyBytes: IMPORT_CAP, seed: { agents: agentsOf(data) } });
    try {
      const config: Config = { ...staged.config, source: { ...staged.config.source, blobDir: store.dir }, target: { ...staged.config.target, url: sandbox.url, apiKey: KEY } };
      await load(config, staged);
      const gone = (await v2Ticket(sandbox.url, big)).tickets[0]!.id;
      const res = await request(`${sandbox.url}/desk/api/v2/tickets/${gone}.json`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
      assert.equal(res.statusCode, 204);
      // What a rollback leaves: the rows pending again, their id_map rows gone, the v2 write log as it was.
      await staged.deps.db('tickets').where({ source_id: String(big) }).update({ load_state: 'pending', load_attempts: 0 });
      await staged.deps.db('comments').where({ ticket_source_id: String(big) }).update({ load_state: 'pending' });
      await staged.deps.db('id_map').where({ entity: 'tickets', source_id: String(big) }).delete();
      await load(config, staged);
      const live = (await v2Ticket(sandbox.url, big)).tickets.filter((t) => (t as { state?: string }).state !== 'deleted');
      assert.equal(live.length, 1, 'written again');
      assert.notEqual(live[0]!.id, gone);
      const messages = (await entities<Msg>(sandbox.url, 'messages')).filter((m) => m.ticket.id === live[0]!.id);
      assert.equal(messages.length, data.tickets[0]!.comments.length);
    } finally {
      await sandbox.close();
    }
  });

  test('a write whose answer was lost is found again, never repeated', async () => {
    await staged.deps.db.raw(`UPDATE tickets SET load_state = 'pending', load_attempts = 0, changed_since_load = false`);
    await staged.deps.db.raw(`UPDATE comments SET load_state = 'pending', load_attempts = 0`);
    await staged.deps.db.raw('TRUNCATE v2_writes, id_map');
    const sandbox = await startSandbox({
      port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, importMaxBodyBytes: IMPORT_CAP, seed: { agents: agentsOf(data) },
      // Every create (ticket, message, file ref, import…) may commit and then lose its answer: the client cannot know.
      faults: { seed: 5, byMethod: { POST: { lostAfterWrite: 0.3 } } },
    });
    try {
      const config: Config = {
        ...staged.config, source: { ...staged.config.source, blobDir: store.dir }, target: { ...staged.config.target, url: sandbox.url, apiKey: KEY },
        load: { ...staged.config.load, maxAttempts: 100 },
      };
      let passes = 0;
      for (; passes < 40; passes++) {
        await load(config, staged, false);
        const left = await staged.deps.db('tickets').whereNot({ load_state: 'loaded' }).count<{ n: string }[]>('* as n');
        if (Number(left[0]!.n) === 0) break;
      }
      assert.ok(sandbox.store.callCount({ status: 'lost' }) > 0, 'answers were lost');
      assert.ok(sandbox.store.callCount({ method: 'GET', route: '/desk/api/v2/search/tickets.json' }) > 0, 'a ticket in doubt was looked up by its marker');
      assert.ok(sandbox.store.callCount({ method: 'GET', route: '/desk/api/v2/tickets/:ticketId/messages.json' }) > 0, 'a message in doubt was looked up by its marker');
      const t0 = await v2Ticket(sandbox.url, big);
      assert.equal(t0.tickets.length, 1, 'the ticket was created once');
      assert.equal(t0.messages.length, data.tickets[0]!.comments.length, 'every message posted once');
      const markers = t0.messages.map((m) => /\[deskport zendesk comment (\d+) part (\d+)\]/.exec(m.htmlBody)?.slice(1).join(':') ?? 'first');
      assert.equal(new Set(markers).size, markers.length, 'no message twice');
      assert.equal((await v2Ticket(sandbox.url, long)).tickets.length, 1);
      assert.equal(sandbox.store.emails().length, 0);
      const states = await staged.deps.db('v2_writes').select('state').count('* as n').groupBy('state');
      assert.deepEqual(states.map((s) => [s.state, Number(s.n)]), [['done', data.tickets[0]!.comments.length + data.tickets[1]!.comments.length + 1]]);
    } finally {
      await sandbox.close();
    }
  });
});
