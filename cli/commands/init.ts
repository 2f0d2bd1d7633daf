import { TargetDirectory } from '../../load/target-directory.ts';
import { writeStarterConfig, writeStarterMapping, type TargetNames } from '../../transform/init.ts';
import type { App } from '../app.ts';
import { connectTarget } from '../../load/connect-target.ts';
import { ensureStaged } from './stage.ts';

/**
 * `deskport init`: what the source has (staged first if staging is empty) and, with a target
 * configured, what the target has, written as a starter mapping file with every name to review
 * marked — and a config file without secrets that names both ends and the mapping.
 */
export async function runInit(app: App, opts: { mappingPath: string; configPath: string; force: boolean; say: (line: string) => void }): Promise<{ missing: number }> {
  await ensureStaged(app, { say: opts.say });
  let target: TargetNames | null = null;
  let fallbackInboxId: number | undefined;
  if (app.config.target.url) {
    const client = connectTarget(app, app.config);
    try {
      const dir = await TargetDirectory.read(client);
      target = {
        agentEmails: new Set([...dir.agentsByEmail.keys()]),
        inboxes: dir.inboxes.map((i) => i.name ?? '').filter(Boolean),
        statuses: [...dir.statusByName.values()].map((s) => s.name ?? '').filter(Boolean),
        fields: dir.customFields.map((f) => f.agentLabel),
      };
      fallbackInboxId = dir.inboxes[0]?.id;
    } finally {
      await client.close();
    }
  }
  const text = await writeStarterMapping(app.db, app.config, opts.mappingPath, { force: opts.force, target });
  writeStarterConfig(app.config, opts.configPath, opts.mappingPath, { force: opts.force, ...(fallbackInboxId !== undefined ? { fallbackInboxId } : {}) });
  const missing = text.split('\n').filter((l) => l.includes('MISSING in the target')).length;
  opts.say(`wrote ${opts.mappingPath} and ${opts.configPath} (no secrets: keys stay in DESKPORT_TARGET_API_KEY(_FILE) and DESKPORT_SOURCE_*_TOKEN(_FILE))`);
  opts.say(target
    ? `${missing} name(s) marked MISSING in the target: create them there or change the mapping`
    : 'no target configured (DESKPORT_TARGET_URL): names are not checked against Teamwork Desk yet');
  opts.say(`next: npx deskport --config ${opts.configPath} check`);
  return { missing };
}
