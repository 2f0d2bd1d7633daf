/**
 * Test helpers around a real Prometheus (Debian's `prometheus` package): start one on a free
 * loopback port with the project's dashboards/prometheus.yml, query its HTTP API, stop it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';

export const DASHBOARDS = 'dashboards';

/** Fails with the install command when the binaries are missing (.ci/run installs them). */
export function requireBinary(name: string): void {
  const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`${name} is not installed: apt-get install -y prometheus (it ships prometheus and promtool)`);
  }
}

export function promtool(args: string[], cwd?: string): { code: number; out: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', ...(cwd ? { cwd } : {}) });
  return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface PrometheusHandle {
  url: string;
  /** Writes the file_sd target list (replacing the compose one) that Prometheus picks up. */
  setTargets(groups: { targets: string[]; labels: Record<string, string> }[]): void;
  query(expr: string, time?: number): Promise<PromResult>;
  queryRange(expr: string, start: number, end: number, step: number): Promise<PromResult>;
  get<T = unknown>(path: string): Promise<T>;
  stop(): Promise<void>;
  logs(): string;
}

export interface PromResult {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[] };
}

/**
 * Starts Prometheus with a copy of the project's prometheus.yml and alerts.yml in `dir`. Only the
 * global scrape and evaluation intervals are shortened (to 1 s) so a test sees several scrapes;
 * scrape jobs, file discovery and rule files are the project's.
 */
export async function startPrometheus(dir: string): Promise<PrometheusHandle> {
  const config = YAML.parse(readFileSync(join(DASHBOARDS, 'prometheus.yml'), 'utf8'));
  config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' };
  writeFileSync(join(dir, 'prometheus.yml'), YAML.stringify(config));
  for (const rule of config.rule_files as string[]) copyFileSync(join(DASHBOARDS, rule), join(dir, rule));
  mkdirSync(join(dir, 'targets'), { recursive: true });
  const targetsFile = join(dir, 'targets', 'test.yml');
  writeFileSync(targetsFile, '[]\n');

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (b: Buffer) => { output += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { output += b.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  async function get<T>(path: string): Promise<T> {
    const res = await fetch(`${url}${path}`);
    return (await res.json()) as T;
  }

  const handle: PrometheusHandle = {
    url,
    setTargets(groups) {
      writeFileSync(targetsFile, YAML.stringify(groups));
    },
    query: (expr, time) => get(`/api/v1/query?${new URLSearchParams({ query: expr, ...(time ? { time: String(time) } : {}) })}`),
    queryRange: (expr, start, end, step) => get(`/api/v1/query_range?${new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(step) })}`),
    get,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
    },
    logs: () => output,
  };

  const deadline = Date.now() + 20_000;
  while (true) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${output}`);
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`prometheus not ready after 20 s:\n${output}`);
    }
    await sleep(100);
  }
  return handle;
}

// ---- the expressions the project's dashboards and alerts use --------------------------------

export interface NamedExpr { where: string; expr: string }

/** Every PromQL expression of every panel in dashboards/grafana/*.json. */
export function dashboardExprs(dashboards: Record<string, { panels?: unknown[] }>): NamedExpr[] {
  const out: NamedExpr[] = [];
  for (const [file, d] of Object.entries(dashboards)) {
    const walk = (panels: unknown[] | undefined) => {
      for (const p of panels ?? []) {
        const panel = p as { title?: string; targets?: { expr?: string; refId?: string }[]; panels?: unknown[] };
        for (const t of panel.targets ?? []) if (t.expr) out.push({ where: `${file} "${panel.title}" ${t.refId ?? ''}`.trim(), expr: t.expr });
        walk(panel.panels);
      }
    };
    walk(d.panels);
  }
  return out;
}

/** Every rule expression of dashboards/alerts.yml. */
export function alertExprs(): NamedExpr[] {
  const doc = YAML.parse(readFileSync(join(DASHBOARDS, 'alerts.yml'), 'utf8')) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ where: `alerts.yml ${r.alert ?? r.record}`, expr: String(r.expr).trim() })));
}

/** Grafana's `$__rate_interval` is at least four scrape intervals; the tests scrape every second. */
export function concrete(expr: string, rateInterval = '10s'): string {
  return expr.replaceAll('$__rate_interval', rateInterval);
}

/** The metric names an expression reads (deskport's own and Prometheus' `up`). */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/\b(deskport_[a-z0-9_]+|up)\b(?=\s*[{[)\s]|$)/g)) names.add(m[1]!);
  return [...names];
}
