/** Shared set-up for loader tests: a generated dataset staged through the real pipeline stages. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractAndStage } from '../../src/pipeline.ts';
import { createRun } from '../../staging/index.ts';
import type { Config, ConfigInput } from '../../src/config.ts';
import { generateZendeskData, type ZendeskDataset } from '../fixtures/zendesk-data.ts';
import { pipelineDeps, tempDir, testConfig } from '../helpers.ts';

export const KEY = 'loader-test-key';

export function agentsOf(data: ZendeskDataset): { firstName: string; lastName: string; email: string }[] {
  return data.users.filter((u) => u.role !== 'end-user' && u.active && u.email)
    .map((u) => ({ firstName: u.name.split(' ')[0]!, lastName: u.name.split(' ').slice(1).join(' '), email: u.email! }));
}

/** A fresh database holding `data` staged (extract → Kafka → transform), ready to load. */
export async function stagedDataset(data: ZendeskDataset, overrides: ConfigInput = {}) {
  const deps = await pipelineDeps();
  const dir = tempDir();
  const path = join(dir.path, 'export.json');
  writeFileSync(path, JSON.stringify(data));
  const config: Config = testConfig({ source: { path }, ...overrides });
  const runId = await createRun(deps.db, 'run', config.source.name);
  await extractAndStage(deps, config, runId);
  return {
    deps, config, runId, exportPath: path,
    async close() {
      await deps.drop();
      dir.remove();
    },
  };
}

export function dataset(tickets: number, seed = 11): ZendeskDataset {
  return generateZendeskData({ seed, tickets });
}
