/** A completed sandbox run (with one rejected ticket) and its verification, for the serve tests. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runVerify } from '../../load/verify.ts';
import type { Config, ConfigInput } from '../../core/config.ts';
import { runPipeline } from '../../cli/pipeline.ts';
import type { RunReport } from '../../cli/report.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { generateZendeskData } from '../fixtures/zendesk-data.ts';
import { pipelineDeps, tempDir, testConfig } from '../helpers.ts';
import { startSandbox } from '../sandbox/index.ts';

const KEY = 'serve-test-key';

export interface CompletedRun {
  deps: Awaited<ReturnType<typeof pipelineDeps>>;
  sandbox: Awaited<ReturnType<typeof startSandbox>>;
  dir: { path: string; remove(): void };
  config: (over?: ConfigInput) => Config;
  report: RunReport;
  rejectedTicketId: string;
  close(): Promise<void>;
}

export async function completedRun(opts: { tickets?: number; verify?: boolean } = {}): Promise<CompletedRun> {
  const dir = tempDir();
  const data = generateZendeskData({ seed: 5, tickets: opts.tickets ?? 16 });
  const bad = data.tickets[3]!;
  (bad as unknown as Record<string, unknown>).created_at = 'last tuesday';
  writeFileSync(join(dir.path, 'export.json'), JSON.stringify(data));
  const deps = await pipelineDeps();
  const sandbox = await startSandbox({
    port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000,
    seed: { agents: data.users.filter((u) => u.role !== 'end-user' && u.active && u.email).map((u) => ({ firstName: u.name, lastName: '', email: u.email! })) },
  });
  const config = (over: ConfigInput = {}) => testConfig({
    workDir: dir.path, source: { path: join(dir.path, 'export.json'), url: 'acme' }, target: { url: sandbox.url, apiKey: KEY }, ...over,
  });
  const close = async () => {
    await sandbox.close();
    await deps.drop();
    dir.remove();
  };
  // If the run fails, stop what was started here: a leaked server would keep the test process alive.
  try {
    const cfg = config();
    const report = await runPipeline(deps, cfg, { kind: 'run' });
    if (opts.verify !== false) {
      const client = connectTarget(deps, cfg);
      try {
        await runVerify({ ...deps, client }, cfg, { runId: report.runId });
      } finally {
        await client.close();
      }
    }
    return { deps, sandbox, dir, config, report, rejectedTicketId: String(bad.id), close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
