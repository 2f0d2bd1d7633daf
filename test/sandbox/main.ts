// CLI: npx tsx test/sandbox/main.ts --port 8080 --rate-limit 120 --api-key KEY --state-file path

import { parseArgs } from 'node:util';
import { startSandbox } from './index.ts';
import type { SandboxOptions } from './index.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
    'rate-limit': { type: 'string' },
    'api-key': { type: 'string', multiple: true },
    'state-file': { type: 'string' },
    'reset-style': { type: 'string' },
    'retry-after': { type: 'boolean' },
    'separate-import-budget': { type: 'boolean' },
    'import-max-tickets': { type: 'string' },
    'shape-seed': { type: 'string' },
    'fault-seed': { type: 'string' },
    'fault-5xx': { type: 'string' },
    'fault-drop': { type: 'string' },
    'fault-lost': { type: 'string' },
    'fault-delay': { type: 'string' },
    'fault-delay-ms': { type: 'string' },
    fresh: { type: 'boolean' },
    log: { type: 'boolean' },
    help: { type: 'boolean' },
  },
});

if (values.help) {
  process.stdout.write(`Teamwork Desk sandbox
  --host 127.0.0.1  --port 8080  --rate-limit 120  --api-key KEY (repeatable)  --state-file path [--fresh]
  --reset-style seconds|epoch  --retry-after  --separate-import-budget  --import-max-tickets 10  --shape-seed N
  --fault-seed N --fault-5xx P --fault-drop P --fault-lost P --fault-delay P --fault-delay-ms MS  --log
`);
  process.exit(0);
}

const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
const opts: SandboxOptions = {
  host: values.host!,
  port: Number(values.port),
  log: values.log ?? false,
  resume: !values.fresh,
};
if (values['api-key']) opts.apiKeys = values['api-key'];
if (values['state-file']) opts.stateFile = values['state-file'];
if (values['rate-limit']) opts.rateLimitPerMinute = Number(values['rate-limit']);
if (values['reset-style'] === 'seconds' || values['reset-style'] === 'epoch') opts.resetStyle = values['reset-style'];
if (values['retry-after']) opts.retryAfterHeader = true;
if (values['separate-import-budget']) opts.importSharesBudget = false;
if (values['import-max-tickets']) opts.importMaxTickets = Number(values['import-max-tickets']);
if (values['shape-seed']) opts.shapeSeed = Number(values['shape-seed']);
if (values['fault-seed'] || values['fault-5xx'] || values['fault-drop'] || values['fault-lost'] || values['fault-delay']) {
  const faults: NonNullable<SandboxOptions['faults']> = { seed: num(values['fault-seed']) ?? 1 };
  if (values['fault-5xx']) faults.error5xx = Number(values['fault-5xx']);
  if (values['fault-drop']) faults.drop = Number(values['fault-drop']);
  if (values['fault-lost']) faults.lostAfterWrite = Number(values['fault-lost']);
  if (values['fault-delay']) faults.delay = Number(values['fault-delay']);
  if (values['fault-delay-ms']) faults.delayMs = Number(values['fault-delay-ms']);
  opts.faults = faults;
}

const sb = await startSandbox(opts);
process.stdout.write(`Teamwork Desk sandbox on ${sb.url} (API ${sb.apiUrl}, key ${sb.apiKey}); admin at ${sb.url}/_sandbox/state\n`);
const stop = async () => {
  await sb.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
