import { join } from 'node:path';
import { readZendeskExport } from '../extract/zendesk-export.ts';
import { splitName } from '../transform/zendesk.ts';
import { startSandbox } from '../test/sandbox/index.ts';
import type { ProgressSnapshot } from '../load/progress.ts';
import type { App } from './app.ts';
import type { Config } from '../core/config.ts';
import { runPipeline, type BeforeLoad } from './pipeline.ts';
import type { RunReport } from './report.ts';

const SANDBOX_KEY = 'demo-sandbox-key';

interface SourceUser { role?: string; email?: string | null; name?: string; active?: boolean }
interface SourceField { type?: string; title?: string; removable?: boolean; custom_field_options?: { name: string }[] | null }
type FieldKind = 'dropdown' | 'text' | 'number' | 'date' | 'checkbox' | 'multiselect';
const FIELD_KINDS: Record<string, FieldKind> = {
  tagger: 'dropdown', multiselect: 'multiselect', checkbox: 'checkbox', date: 'date', integer: 'number', decimal: 'number',
};

/**
 * Zendesk's custom ticket fields as an operator would create them in Teamwork Desk before
 * migrating (R10: values land in fields of the same name): the sandbox's seed. Built-in fields
 * (status, priority…) are mapped by tables instead.
 */
export function fieldSeed(fields: SourceField[]): { agentLabel: string; kind: FieldKind; options?: string[] }[] {
  return fields.filter((f) => f.removable !== false && f.title)
    .map((f) => {
      const kind = FIELD_KINDS[f.type ?? ''] ?? 'text';
      const options = (f.custom_field_options ?? []).map((o) => o.name);
      return { agentLabel: f.title!, kind, ...(options.length > 0 ? { options } : {}) };
    });
}

/**
 * Zendesk agents as an operator would have invited them in Teamwork Desk before migrating
 * (R9): the sandbox's seed. Deleted agents are left out, so the demo shows how their messages
 * survive.
 */
export function agentSeed(users: SourceUser[]): { firstName: string; lastName: string; email: string }[] {
  return users.filter((u) => (u.role === 'agent' || u.role === 'admin') && u.email && u.active !== false)
    .map((u) => ({ ...splitName(u.name ?? ''), email: u.email!.toLowerCase() }));
}

/** The sandbox seed for a source export: its agents and its custom fields, as if set up by hand. */
async function seedOf(path: string): Promise<{ agents: ReturnType<typeof agentSeed>; customfields: ReturnType<typeof fieldSeed> }> {
  const users: SourceUser[] = [];
  const fields: SourceField[] = [];
  for await (const batch of readZendeskExport(path)) {
    for (const rec of batch) {
      if (rec.entity === 'users') users.push(rec.value as SourceUser);
      else if (rec.entity === 'ticket_fields') fields.push(rec.value as SourceField);
    }
  }
  return { agents: agentSeed(users), customfields: fieldSeed(fields) };
}

/**
 * The end-to-end demo on embedded defaults: the bundled sample export goes through Kafka and
 * staging into the Teamwork Desk sandbox (unless a real target is configured).
 */
export async function runDemo(app: App, opts: { onProgress?: (s: ProgressSnapshot) => void; say?: (line: string) => void; beforeLoad?: BeforeLoad } = {}): Promise<{ report: RunReport; sandboxStateFile: string | null }> {
  let config: Config = app.config;
  let sandbox: Awaited<ReturnType<typeof startSandbox>> | null = null;
  let stateFile: string | null = null;
  if (!config.target.url) {
    stateFile = join(config.workDir, 'sandbox-state.json');
    sandbox = await startSandbox({ port: 0, apiKeys: [SANDBOX_KEY], stateFile, seed: await seedOf(config.source.path) });
    config = { ...config, target: { ...config.target, url: sandbox.url, apiKey: SANDBOX_KEY } };
    app.log.info({ url: sandbox.url, stateFile }, 'Teamwork Desk sandbox started');
  }
  try {
    return { report: await runPipeline(app, config, { kind: 'demo', ...opts }), sandboxStateFile: stateFile };
  } finally {
    await sandbox?.close();
  }
}
