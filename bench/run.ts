/**
 * `npm run bench -- <name> [args…]`: runs one benchmark of this folder (each prints its figures
 * and asserts nothing). Without a name, lists them with the first line of their description.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const names = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.slice(0, -3)).sort();
const [name, ...args] = process.argv.slice(2);

if (!name || !names.includes(name)) {
  if (name) console.error(`no benchmark "${name}"`);
  console.log('usage: npm run bench -- <name> [args…]\n');
  for (const n of names) {
    const doc = readFileSync(`${dir}${n}.ts`, 'utf8').match(/\/\*\*\s*\n\s*\*\s*(.+)/)?.[1] ?? '';
    console.log(`  ${n.padEnd(22)} ${doc}`);
  }
  process.exit(name ? 1 : 0);
}
const res = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${name}.ts`, ...args], { stdio: 'inherit' });
process.exit(res.status ?? 1);
