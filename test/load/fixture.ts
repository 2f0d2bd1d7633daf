/** Shared set-up for loader tests: a generated dataset staged through the real pipeline stages. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BlobServer } from '../../load/blob-server.ts';
import { Loader, type LoadSummary } from '../../load/loader.ts';
import { TargetDirectory } from '../../load/target-directory.ts';
import { agentSeed } from '../../cli/demo.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { extractAndStage } from '../../cli/pipeline.ts';
import { createRun } from '../../staging/index.ts';
import type { Config, ConfigInput } from '../../core/config.ts';
import { generateZendeskData, type ZendeskDataset } from '../fixtures/zendesk-data.ts';
import { pipelineDeps, tempDir, testConfig } from '../helpers.ts';

export const KEY = 'loader-test-key';

export function agentsOf(data: ZendeskDataset): { firstName: string; lastName: string; email: string }[] {
  return agentSeed(data.users);
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

/**
 * Loads what `staged` holds into the target at `url` with one Loader, as the load stage does:
 * connect, read the target's directory, run, close.
 */
export async function loadStaged(
  staged: Awaited<ReturnType<typeof stagedDataset>>, url: string,
  opts: { target?: Partial<Config['target']>; blobs?: BlobServer; finalPass?: boolean } = {},
): Promise<LoadSummary> {
  const config: Config = { ...staged.config, target: { ...staged.config.target, url, apiKey: KEY, ...opts.target } };
  const client = connectTarget(staged.deps, config);
  try {
    const directory = await TargetDirectory.read(client);
    return await new Loader({ ...staged.deps, client, directory, ...(opts.blobs ? { blobs: opts.blobs } : {}) }, config)
      .run({ runId: staged.runId, finalPass: opts.finalPass ?? true });
  } finally {
    await client.close();
  }
}

export function dataset(tickets: number, seed = 11): ZendeskDataset {
  return generateZendeskData({ seed, tickets });
}
