/**
 * The observability files as operators use them: the Grafana dashboard JSON (built with Grafana's
 * foundation SDK, and up to date with its generator), Grafana provisioning, prometheus.yml and
 * the alert rules (checked and unit-tested with promtool), and docker-compose.yml (validated by
 * docker-compose against the compose specification's JSON schema; no Docker engine needed).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import YAML from 'yaml';
import { allDashboards, DASHBOARD_DIR, renderDashboard } from '../../scripts/gen-dashboards.ts';
import { tempDir } from '../helpers.ts';
import { dashboardExprs, DASHBOARDS, promtool, requireBinary } from './prometheus.ts';

/** Compose files use `<<:` merge keys (YAML 1.1); the yaml package resolves them on request. */
const yaml = (path: string) => YAML.parse(readFileSync(path, 'utf8'), { merge: true });

interface Panel {
  type: string; title: string; datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number }; targets?: { expr: string; refId: string }[];
}

describe('Grafana dashboards', () => {
  test('the committed JSON is what the SDK generator builds', () => {
    for (const [file, dashboard] of Object.entries(allDashboards())) {
      const committed = readFileSync(join(DASHBOARD_DIR, file), 'utf8');
      assert.equal(committed, renderDashboard(dashboard), `${file} is stale: run npx tsx scripts/gen-dashboards.ts`);
    }
  });

  test('every panel queries the Prometheus datasource variable and none overlaps another', () => {
    for (const [file, d] of Object.entries(allDashboards()) as [string, { uid?: string; templating?: { list?: { type: string; name: string }[] }; panels?: Panel[] }][]) {
      assert.match(d.uid ?? '', /^[a-z0-9-]{1,40}$/, `${file}: a stable uid`);
      assert.ok(d.templating?.list?.some((v) => v.type === 'datasource' && v.name === 'datasource'), `${file}: datasource variable`);
      const panels = d.panels ?? [];
      const titles = new Set<string>();
      const cells = new Set<string>();
      for (const p of panels) {
        assert.ok(p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: inside the 24-column grid`);
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
          for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
            assert.ok(!cells.has(`${x},${y}`), `${file}: "${p.title}" overlaps another panel at ${x},${y}`);
            cells.add(`${x},${y}`);
          }
        }
        if (p.type === 'row') continue;
        assert.ok(!titles.has(p.title), `${file}: two panels titled "${p.title}"`);
        titles.add(p.title);
        assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `${p.title}: datasource`);
        assert.ok((p.targets ?? []).length > 0, `${p.title}: has a query`);
        const refIds = p.targets!.map((t) => t.refId);
        assert.equal(new Set(refIds).size, refIds.length, `${p.title}: distinct refIds`);
      }
      assert.ok(panels.length >= 20, `${file}: ${panels.length} panels`);
    }
    assert.ok(dashboardExprs(allDashboards() as never).length >= 20);
  });

  test('provisioning points Grafana at Prometheus and at the dashboard folder compose mounts', () => {
    const ds = yaml(join(DASHBOARDS, 'provisioning/datasources/prometheus.yml'));
    assert.equal(ds.apiVersion, 1);
    assert.deepEqual(ds.datasources.map((d: { type: string; url: string }) => [d.type, d.url]), [['prometheus', 'http://prometheus:9090']]);
    const providers = yaml(join(DASHBOARDS, 'provisioning/dashboards/deskport.yml'));
    const path = providers.providers[0].options.path as string;
    const compose = yaml('docker-compose.yml');
    const mounts = compose.services.grafana.volumes as string[];
    assert.ok(mounts.includes(`./dashboards/grafana:${path}:ro`), `grafana mounts the dashboards at ${path}`);
    assert.ok(mounts.includes('./dashboards/provisioning:/etc/grafana/provisioning:ro'));
  });
});

describe('Prometheus configuration and alert rules', () => {
  test('promtool checks prometheus.yml (with its rule files)', () => {
    requireBinary('promtool');
    const r = promtool(['check', 'config', 'prometheus.yml'], DASHBOARDS);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS: 7 rules found/);
  });

  test('the alert rules pass their promtool unit tests (each fires on its condition, not on a healthy twin)', () => {
    requireBinary('promtool');
    const r = promtool(['test', 'rules', 'alerts.test.yml'], DASHBOARDS);
    assert.equal(r.code, 0, r.out);
    const tested = new Set([...readFileSync(join(DASHBOARDS, 'alerts.test.yml'), 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    const rules = yaml(join(DASHBOARDS, 'alerts.yml')).groups.flatMap((g: { rules: { alert: string }[] }) => g.rules.map((x) => x.alert));
    assert.deepEqual(rules.filter((a: string) => !tested.has(a)), [], 'every alert has a unit test');
  });

  test('a broken alert rule is caught', () => {
    requireBinary('promtool');
    const dir = tempDir();
    try {
      writeFileSync(join(dir.path, 'bad.yml'), 'groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(deskport_load_http_429_total[5m]) > \n');
      const r = promtool(['check', 'rules', join(dir.path, 'bad.yml')]);
      assert.notEqual(r.code, 0);
      assert.match(r.out, /parse error/);
    } finally {
      dir.remove();
    }
  });

  test('the compose targets list every deskport stage on the port the stages expose', () => {
    const groups = yaml(join(DASHBOARDS, 'targets/compose.yml')) as { targets: string[]; labels: { stage: string } }[];
    const compose = yaml('docker-compose.yml');
    const port = compose['x-deskport-env'].DESKPORT_METRICS_PORT;
    assert.deepEqual(groups.map((g) => g.labels.stage).sort(), ['extract', 'load', 'serve', 'transform']);
    for (const g of groups) {
      assert.deepEqual(g.targets, [`${g.labels.stage}:${port}`]);
      assert.ok(compose.services[g.labels.stage], `compose has a ${g.labels.stage} service`);
    }
    const prom = yaml(join(DASHBOARDS, 'prometheus.yml'));
    assert.deepEqual(prom.scrape_configs[0].file_sd_configs[0].files, ['targets/*.yml']);
    assert.ok(compose.services.prometheus.volumes.includes('./dashboards:/etc/prometheus:ro'));
  });
});

describe('docker-compose.yml', () => {
  const compose = yaml('docker-compose.yml');

  test('docker-compose validates it against the compose specification', () => {
    requireBinary('docker-compose');
    const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  test('and rejects a file that breaks the specification (the check is real)', () => {
    requireBinary('docker-compose');
    const dir = tempDir();
    try {
      const broken = structuredClone(compose);
      broken.services.transform.restart_policy = 'sometimes';
      writeFileSync(join(dir.path, 'docker-compose.yml'), YAML.stringify(broken));
      const r = spawnSync('docker-compose', ['-f', join(dir.path, 'docker-compose.yml'), 'config', '-q'], { encoding: 'utf8' });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /restart_policy/);
    } finally {
      dir.remove();
    }
  });

  test('the stack: Kafka 3.9 in KRaft mode, Postgres, Prometheus, Grafana, the sandbox and each stage', () => {
    const s = compose.services;
    for (const name of ['kafka', 'postgres', 'prometheus', 'grafana', 'sandbox', 'extract', 'transform', 'load', 'serve']) assert.ok(s[name], name);
    assert.match(s.kafka.image, /^apache\/kafka:3\.9\./);
    assert.equal(s.kafka.environment.KAFKA_PROCESS_ROLES, 'broker,controller');
    for (const stage of ['extract', 'transform', 'load', 'serve']) {
      assert.equal(s[stage].build, '.', `${stage} is built from the Dockerfile`);
      assert.equal(s[stage].environment.DESKPORT_METRICS_HOST, '0.0.0.0');
      assert.equal(s[stage].environment.KAFKA_BROKERS, 'kafka:9092');
    }
    assert.ok(existsSync('Dockerfile'));
    assert.match(readFileSync('Dockerfile', 'utf8'), /EXPOSE 9464/);
    // Published ports stay on loopback.
    for (const [name, svc] of Object.entries(s) as [string, { ports?: string[] }][]) {
      for (const p of svc.ports ?? []) assert.match(p, /^127\.0\.0\.1:/, `${name} publishes ${p} on loopback only`);
    }
  });

  test('each stage service runs a command the CLI has, or an entry point that exists', () => {
    const cli = readFileSync('cli/cli.ts', 'utf8');
    const commands = new Set([...cli.matchAll(/\.command\('([a-z-]+)'\)/g)].map((m) => m[1]));
    for (const stage of ['extract', 'transform', 'load', 'serve', 'deskport']) {
      const svc = compose.services[stage] as { entrypoint?: string[]; command: string[] };
      if (svc.entrypoint) {
        const script = svc.entrypoint.find((a) => a.endsWith('.ts'));
        assert.ok(script && existsSync(script), `${stage}: entry point ${script} exists`);
      } else {
        assert.ok(commands.has(svc.command[0]!), `${stage}: the CLI has a \`${svc.command[0]}\` command`);
      }
    }
  });
});
