/**
 * Export-file extraction at scale: generates a ~1 GB Zendesk JSON export (in a child process, so
 * its memory does not count), then extracts it into Kafka (acks=all, checkpoint per batch) and
 * prints records/s (every record produced to Kafka, comments included) and the extractor's peak
 * RSS. Layout `ndjson` and `--gzip` are supported.
 *
 * The extractor runs in a process started as bin/deskport.js starts deskport (its Node flags and
 * allocator settings: bin/node-runtime.js), so the peak RSS is what an operator's process reaches.
 *
 *   DESKPORT_WORK_DIR=/tmp/dp-bench npx tsx bench/extract-export.ts [tickets=170000] [json|ndjson] [--gzip]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { NODE_ENV, NODE_FLAGS } from '../bin/node-runtime.js';
import { cpuOf } from './cpu.ts';

if (!process.env.DESKPORT_BENCH_CHILD) {
  const r = spawnSync(process.execPath, [...NODE_FLAGS, '--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...NODE_ENV, ...process.env, DESKPORT_BENCH_CHILD: '1' },
  });
  process.exit(r.status ?? 1);
}
import { runExtract } from '../extract/index.ts';
import { createRun } from '../staging/index.ts';
import { pipelineDeps, stopServices, testConfig } from '../test/helpers.ts';

const tickets = Number(process.argv[2] ?? 170_000);
const layout = process.argv[3] === 'ndjson' ? 'ndjson' : 'json';
const gzip = process.argv.includes('--gzip');
const workDir = process.env.DESKPORT_WORK_DIR ?? '.deskport';
const out = join(workDir, 'bench', `export-${tickets}${layout === 'json' ? '.json' : ''}${gzip && layout === 'json' ? '.gz' : ''}`);

if (!existsSync(out)) {
  console.error(`generating ${tickets} tickets into ${out}…`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gen-sample.ts', '--tickets', String(tickets), '--seed', '7', '--out', out, '--layout', layout, ...(gzip ? ['--gzip'] : [])], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
const bytes = layout === 'json' ? statSync(out).size : undefined;

const deps = await pipelineDeps();
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100);
try {
  const cfg = testConfig({ source: { path: out } });
  const runId = await createRun(deps.db, 'extract', cfg.source.name);
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const broker0 = cpuOf('java');
  const result = await runExtract(deps, cfg, runId);
  const broker = broker0 === null ? null : cpuOf('java')! - broker0;
  const seconds = (performance.now() - t0) / 1000;
  // CPU the extractor process used (all its threads): on a shared machine, steadier than wall time.
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  clearInterval(sampler);
  // Records: what the extractor produces to Kafka, one per source record — every user,
  // organization, ticket and comment (a JSON export nests comments in their ticket; each is a
  // record of its own). Top-level records: the elements of the export's arrays.
  console.log(JSON.stringify({
    tickets, layout, gzip, fileBytes: bytes, records: result.messages, topLevelRecords: result.records, seconds: Math.round(seconds * 10) / 10,
    recordsPerSecond: Math.round(result.messages / seconds), topLevelRecordsPerSecond: Math.round(result.records / seconds),
    mbPerSecond: bytes ? Math.round(bytes / 1e6 / seconds) : undefined,
    cpuSeconds: Math.round(cpuSeconds * 10) / 10, cpuMicrosPerRecord: Math.round((cpuSeconds * 1e6) / result.messages),
    // The broker shares the machine's two cores with the extractor.
    brokerCpuMicrosPerRecord: broker === null ? undefined : Math.round((broker * 1e6) / result.messages),
    rejected: result.rejected ?? 0, loadAverage: loadavg().map((x) => Math.round(x * 10) / 10),
    peakRssMb: Math.round(Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 1e6), rssBeforeMb: Math.round(rssBefore / 1e6),
  }, null, 2));
} finally {
  clearInterval(sampler);
  await deps.drop();
  await stopServices();
}
