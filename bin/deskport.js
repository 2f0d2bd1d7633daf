#!/usr/bin/env node
// npm bin entry: runs the TypeScript CLI through tsx (a runtime dependency).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_ENV, NODE_FLAGS } from './node-runtime.js';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = import.meta.resolve('tsx');
const result = spawnSync(process.execPath, [...NODE_FLAGS, '--import', tsx, join(here, '..', 'cli', 'cli.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit', env: { ...NODE_ENV, ...process.env },
});
process.exit(result.status ?? 1);
