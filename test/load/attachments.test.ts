import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startBlobServer, type BlobServer } from '../../load/blob-server.ts';
import { BlobStore } from '../../staging/blob-store.ts';
import { upsertAttachments, type AttachmentRow } from '../../staging/index.ts';
import { startSandbox } from '../sandbox/index.ts';
import { entities, type SandboxMessage, type SandboxTicket } from '../sandbox-readback.ts';
import { tempDir } from '../helpers.ts';
import { agentsOf, dataset, KEY, loadStaged, stagedDataset } from './fixture.ts';

const MB = 1024 * 1024;

describe('attachments through the import', () => {
  const data = dataset(6, 21);
  const blobs = tempDir();
  let staged: Awaited<ReturnType<typeof stagedDataset>>;
  let server: BlobServer;
  const store = new BlobStore(join(blobs.path, 'store'));
  before(async () => {
    staged = await stagedDataset(data);
    server = await startBlobServer({ blobDir: store.dir });
  });
  after(async () => {
    await server.close();
    await staged.close();
    blobs.remove();
  });

  test('arrive byte-identical, split over 20 MB per reply, inline images marked, failures said', async () => {
    const ticket = data.tickets[0]!;
    const comment = ticket.comments[0]!;
    const inlineUrl = 'https://acme.zendesk.com/attachments/token/abc/?name=diagram.png';
    const payloads = { small: randomBytes(1500), big1: randomBytes(11 * MB), big2: randomBytes(11 * MB), inline: randomBytes(4000) };
    const rows: AttachmentRow[] = [];
    const add = async (sourceId: string, fileName: string, bytes: Buffer | null, inline = false, sourceUrl = `https://acme.zendesk.com/a/${sourceId}`) => {
      const stored = bytes ? await store.put(Readable.from([bytes])) : null;
      rows.push({
        source: 'zendesk', sourceId, kind: 'comment', ticketSourceId: String(ticket.id), commentSourceId: String(comment.id), articleSourceId: null,
        sourceUrl, fileName, contentType: 'application/octet-stream', size: bytes?.length ?? 999, sha256: stored?.sha256 ?? null,
        blobPath: stored?.blobPath ?? null, inline, fetchState: stored ? 'fetched' : 'failed', reason: stored ? null : 'HTTP 404 from the source', attempts: 1, runId: staged.runId,
      });
    };
    await add('9001', 'notes.txt', payloads.small);
    await add('9002', 'dump-1.bin', payloads.big1);
    await add('9003', 'dump-2.bin', payloads.big2);
    await add('inline:abc', 'diagram.png', payloads.inline, true, inlineUrl);
    await add('9004', 'gone.pdf', null);
    await upsertAttachments(staged.deps.db, rows);
    // The comment's body shows the inline image, as Zendesk's html_body does.
    await staged.deps.db('comments').where({ source_id: String(comment.id) })
      .update({ data: staged.deps.db.raw(`jsonb_set(data, '{bodyHtml}', to_jsonb(?::text))`, [`<p>See <img src="${inlineUrl.replace(/&/g, '&amp;')}" alt="d"></p>`]) });

    const sandbox = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000, seed: { agents: agentsOf(data) } });
    try {
      await loadStaged(staged, sandbox.url, { blobs: server });
      const target = (await entities<SandboxTicket>(sandbox.url, 'tickets')).find((t) => t._sandbox?.importId === ticket.id)!;
      const messages = (await entities<SandboxMessage & { files: { id: number }[] }>(sandbox.url, 'messages'))
        .filter((m) => m.ticket.id === target.id).sort((a, b) => a.id - b.id);
      // The first comment became its reply plus one continuation note for the second 11 MB file.
      assert.equal(messages.length, ticket.comments.length + 1);
      assert.match(messages[0]!.htmlBody, /\[inline image: diagram\.png — attached\]/);
      assert.doesNotMatch(messages[0]!.htmlBody, /<img/);
      assert.match(messages[0]!.htmlBody, /gone\.pdf: HTTP 404 from the source/);
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      const got = new Map<string, string>();
      for (const m of messages.slice(0, 2)) {
        for (const f of m.files) {
          const res = await request(`${sandbox.url}/_sandbox/files/${f.id}/content`);
          const bytes = Buffer.from(await res.body.arrayBuffer());
          const meta = (await (await request(`${sandbox.url}/_sandbox/entities/files/${f.id}`)).body.json()) as { fileName: string };
          got.set(meta.fileName, sha(bytes));
        }
      }
      assert.deepEqual(Object.fromEntries([...got].sort()), {
        'diagram.png': sha(payloads.inline), 'dump-1.bin': sha(payloads.big1), 'dump-2.bin': sha(payloads.big2), 'notes.txt': sha(payloads.small),
      });
      assert.equal(messages[1]!.threadType, 'note');
    } finally {
      await sandbox.close();
    }
  });

  test('the blob server opens only signed, unexpired links', async () => {
    const stored = await store.put(Readable.from([Buffer.from('secret bytes')]));
    const good = server.sign(stored.blobPath, 'a.txt');
    assert.equal((await (await request(good)).body.text()), 'secret bytes');
    const tampered = good.replace(/sig=[^&]+/, 'sig=AAAA');
    assert.equal((await request(tampered)).statusCode, 403);
    const expired = server.sign(stored.blobPath, 'a.txt', -10);
    assert.equal((await request(expired)).statusCode, 410);
    assert.equal((await request(`${server.url}/blobs/`)).statusCode, 404);
  });
});
