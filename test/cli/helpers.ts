/** Runs the CLI as an operator would: a separate process, env only what is given, output captured. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readZendeskExport } from '../../extract/zendesk-export.ts';
import { uniqueName } from '../helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SAMPLE = `${ROOT}data/sample/zendesk-export.json`;

export interface CliResult { code: number; stdout: string; stderr: string }

export function runCli(args: string[], env: Record<string, string | undefined>, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'cli/cli.ts', ...args], {
      cwd: ROOT, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DESKPORT_LOG_LEVEL: 'error', ...env } as NodeJS.ProcessEnv,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Environment for one scenario: its own database, topic prefix and work dir on the test services. */
export function cliEnv(opts: { databaseUrl: string; brokers: string[]; workDir: string; extra?: Record<string, string> }): Record<string, string> {
  return {
    DATABASE_URL: opts.databaseUrl, KAFKA_BROKERS: opts.brokers.join(','), DESKPORT_WORK_DIR: opts.workDir,
    DESKPORT_TOPIC_PREFIX: uniqueName('cli'), DESKPORT_SOURCE_PATH: SAMPLE, ...opts.extra,
  };
}

/** The sample's users and ticket fields (to seed the sandbox as an operator would have set it up). */
export async function sampleRecords(): Promise<{ users: any[]; fields: any[] }> {
  const users: any[] = [];
  const fields: any[] = [];
  for await (const batch of readZendeskExport(SAMPLE)) {
    for (const r of batch) {
      if (r.entity === 'users') users.push(r.value);
      else if (r.entity === 'ticket_fields') fields.push(r.value);
    }
  }
  return { users, fields };
}

/** No stack trace in what an operator sees. */
export function hasStack(text: string): boolean {
  return /\n\s+at .+:\d+:\d+\)?/.test(text);
}
