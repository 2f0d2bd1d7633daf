/**
 * API extraction cost against the Zendesk fixture server: requests per 1,000 tickets (all
 * endpoints, with the ticket-events export for comments) and records/s, attachments included.
 *
 *   DESKPORT_WORK_DIR=/tmp/dp-bench npx tsx bench/extract-api.ts [tickets=2000] [pageSize=1000]
 */
import { join } from 'node:path';
import { runExtract } from '../extract/index.ts';
import { createRun } from '../staging/index.ts';
import { startZendeskServer } from '../test/fixtures/zendesk-server/index.ts';
import { pipelineDeps, stopServices, tempDir, testConfig } from '../test/helpers.ts';

const tickets = Number(process.argv[2] ?? 2000);
const pageSize = Number(process.argv[3] ?? 1000);
const server = await startZendeskServer({ seed: 3, tickets, maxAttachmentBytes: 50_000, email: 'a@acme.example', apiToken: 'bench' });
const deps = await pipelineDeps();
const dir = tempDir();
try {
  for (const fetchAttachments of [false, true]) {
    const cfg = testConfig({ source: { kind: 'zendesk-api', url: server.url, email: 'a@acme.example', apiToken: 'bench', pageSize, blobDir: join(dir.path, 'blobs'), fetchAttachments, helpCenter: false } });
    const runId = await createRun(deps.db, 'extract', cfg.source.name);
    const t0 = performance.now();
    const r = await runExtract(deps, cfg, runId);
    const seconds = (performance.now() - t0) / 1000;
    const downloads = Object.entries(r.callsByEndpoint ?? {}).filter(([k]) => k === '/attachments').reduce((n, [, v]) => n + v, 0);
    console.log(JSON.stringify({
      tickets, pageSize, fetchAttachments, comments: r.byEntity.comments, records: r.records, calls: r.calls,
      apiCallsPer1000Tickets: Math.round(((r.calls! - downloads) / tickets) * 1000 * 10) / 10,
      downloadsPer1000Tickets: Math.round((downloads / tickets) * 1000),
      callsByEndpoint: r.callsByEndpoint, seconds: Math.round(seconds * 10) / 10, recordsPerSecond: Math.round(r.records / seconds),
      attachments: r.attachments,
    }, null, 2));
  }
} finally {
  await server.close();
  await deps.drop();
  dir.remove();
  await stopServices();
}
