import { join } from 'node:path';
import { readZendeskExport } from '../extract/zendesk-export.ts';
import { splitName } from '../transform/zendesk.ts';
import { startSandbox } from '../test/sandbox/index.ts';
import type { ProgressSnapshot } from '../load/progress.ts';
import type { App } from './app.ts';
import type { Config } from './config.ts';
import { runPipeline } from './pipeline.ts';
import type { RunReport } from './report.ts';

const SANDBOX_KEY = 'demo-sandbox-key';

interface SourceUser { role?: string; email?: string | null; name?: string; active?: boolean }

/**
 * Zendesk agents as an operator would have invited them in Teamwork Desk before migrating
 * (R9): the sandbox's seed. Deleted agents are left out, so the demo shows how their messages
 * survive.
 */
export function agentSeed(users: SourceUser[]): { firstName: string; lastName: string; email: string }[] {
  return users.filter((u) => (u.role === 'agent' || u.role === 'admin') && u.email && u.active !== false)
    .map((u) => ({ ...splitName(u.name ?? ''), email: u.email!.toLowerCase() }));
}

async function agentsOf(path: string): Promise<{ firstName: string; lastName: string; email: string }[]> {
  const users: SourceUser[] = [];
  for await (const batch of readZendeskExport(path)) {
    for (const rec of batch) if (rec.entity === 'users') users.push(rec.value as SourceUser);
  }
  return agentSeed(users);
}

/**
 * The end-to-end demo on embedded defaults: the bundled sample export goes through Kafka and
 * staging into the Teamwork Desk sandbox (unless a real target is configured).
 */
export async function runDemo(app: App, opts: { onProgress?: (s: ProgressSnapshot) => void } = {}): Promise<{ report: RunReport; sandboxStateFile: string | null }> {
  let config: Config = app.config;
  let sandbox: Awaited<ReturnType<typeof startSandbox>> | null = null;
  let stateFile: string | null = null;
  if (!config.target.url) {
    stateFile = join(config.workDir, 'sandbox-state.json');
    sandbox = await startSandbox({ port: 0, apiKeys: [SANDBOX_KEY], stateFile, seed: { agents: await agentsOf(config.source.path) } });
    config = { ...config, target: { ...config.target, url: sandbox.url, apiKey: SANDBOX_KEY } };
    app.log.info({ url: sandbox.url, stateFile }, 'Teamwork Desk sandbox started');
  }
  try {
    return { report: await runPipeline(app, config, { kind: 'demo', ...opts }), sandboxStateFile: stateFile };
  } finally {
    await sandbox?.close();
  }
}
