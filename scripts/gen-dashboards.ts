/**
 * Builds the Grafana dashboards with Grafana's foundation SDK (@grafana/grafana-foundation-sdk)
 * and writes them to dashboards/grafana/*.json, where Grafana's file provisioning reads them.
 *
 *   npx tsx scripts/gen-dashboards.ts          write the JSON
 *   npx tsx scripts/gen-dashboards.ts --check  exit 1 if the committed JSON is out of date
 *
 * Every expression here must query metrics deskport really exports: the observability test
 * checks each one with promtool and evaluates it against a Prometheus scraping real stages.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as common from '@grafana/grafana-foundation-sdk/common';
import { DashboardBuilder, DatasourceVariableBuilder, RowBuilder, ThresholdsConfigBuilder, ThresholdsMode } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';

const DS = { type: 'prometheus', uid: '${datasource}' };
/** Grafana picks a window of at least four scrapes; the test substitutes a fixed one. */
const W = '$__rate_interval';

function q(expr: string, legend: string, refId = 'A'): DataqueryBuilder {
  return new DataqueryBuilder().expr(expr).legendFormat(legend).refId(refId).datasource(DS);
}

function ts(title: string, unit: string, description: string, ...queries: DataqueryBuilder[]): TimeseriesPanel {
  const p = new TimeseriesPanel().title(title).description(description).unit(unit).datasource(DS).min(0).height(8).span(12)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Bottom).calcs(['lastNotNull', 'max']));
  for (const query of queries) p.withTarget(query);
  return p;
}

function stat(title: string, unit: string, description: string, query: DataqueryBuilder): StatPanel {
  return new StatPanel().title(title).description(description).unit(unit).datasource(DS).height(5).span(4)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .withTarget(query);
}

export function overviewDashboard(): Dashboard {
  return new DashboardBuilder('deskport — migration')
    .uid('deskport-migration')
    .description('Throughput per stage, Kafka lag, errors by reason, the target rate limit and the loader ETA (R26).')
    .tags(['deskport', 'generated'])
    .refresh('10s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'))

    .withRow(new RowBuilder('Run'))
    .withPanel(stat('Run state', 'none', 'The state of the current run (deskport run).',
      q('max by (state) (deskport_pipeline_run_state) == 1', '{{state}}')).textMode(common.BigValueTextMode.Name))
    .withPanel(stat('Loader ETA', 's', 'Seconds until the loader finishes the entity it is loading, at the pace of the last minute.',
      q('max(deskport_load_eta_seconds)', 'ETA')))
    .withPanel(stat('Stages up', 'none', 'Stages Prometheus can scrape.', q('sum(up{job="deskport"})', 'up'))
      .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([{ value: null, color: 'red' }, { value: 1, color: 'green' }])))
    .withPanel(stat('Records loaded / s', 'ops', 'Records the loaders finished per second.',
      q(`sum(rate(deskport_load_records_total{outcome="loaded"}[${W}]))`, 'loaded/s')))
    .withPanel(stat('Consumer lag', 'short', 'Messages in the raw topics the transform group has not consumed yet.',
      q('sum(deskport_transform_consumer_lag_messages)', 'lag')))
    .withPanel(stat('Attachment bytes stored', 'bytes', 'Attachment and inline-image bytes the extractor wrote to the blob store.',
      q('sum(deskport_extract_attachment_bytes_total)', 'bytes')))

    .withRow(new RowBuilder('Throughput per stage'))
    .withPanel(ts('Extract: records produced', 'ops', 'Records produced to Kafka per second, by entity.',
      q(`sum by (entity) (rate(deskport_extract_records_total[${W}]))`, '{{entity}}')))
    .withPanel(ts('Transform: consumed and staged', 'ops', 'Raw records consumed and canonical rows staged per second.',
      q(`sum by (entity) (rate(deskport_transform_records_in_total[${W}]))`, 'in {{entity}}'),
      q(`sum by (entity) (rate(deskport_transform_records_staged_total[${W}]))`, 'staged {{entity}}', 'B')))
    .withPanel(ts('Load: records by outcome', 'ops', 'Records the loaders finished per second, by entity and outcome.',
      q(`sum by (entity, outcome) (rate(deskport_load_records_total[${W}]))`, '{{entity}} {{outcome}}')))
    .withPanel(ts('Transform: batch latency', 's', 'Time to map and stage one batch (p50, p95).',
      q(`histogram_quantile(0.5, sum by (le) (rate(deskport_transform_batch_duration_seconds_bucket[${W}])))`, 'p50'),
      q(`histogram_quantile(0.95, sum by (le) (rate(deskport_transform_batch_duration_seconds_bucket[${W}])))`, 'p95', 'B')))

    .withRow(new RowBuilder('Kafka lag'))
    .withPanel(ts('Consumer lag by entity', 'short', 'Messages the transform group has not consumed yet.',
      q('sum by (entity) (deskport_transform_consumer_lag_messages)', '{{entity}}')))
    .withPanel(ts('Consumer lag by partition', 'short', 'Lag of each raw topic partition.',
      q('max by (entity, partition) (deskport_transform_consumer_lag_messages)', '{{entity}}/{{partition}}')))

    .withRow(new RowBuilder('Errors by reason'))
    .withPanel(ts('Transform rejects', 'ops', 'Records rejected by validation (to the rejects table and the DLQ), by entity and kind.',
      q(`sum by (entity, reason) (rate(deskport_transform_rejects_total[${W}]))`, '{{entity}} {{reason}}')))
    .withPanel(ts('Load failures', 'ops', 'Records failed or put back in doubt, by entity and error (HTTP status or error code).',
      q(`sum by (entity, reason) (rate(deskport_load_failures_total[${W}]))`, '{{entity}} {{reason}}')))
    .withPanel(ts('Target errors by endpoint', 'reqpm', 'Calls to the target that did not answer 2xx, per minute.',
      q(`sum by (method, endpoint, status) (rate(deskport_load_http_requests_total{status!~"2.."}[${W}])) * 60`, '{{method}} {{endpoint}} {{status}}')))
    .withPanel(ts('Retries', 'reqpm', 'Calls retried after a 5xx or a network error, per minute, by reason.',
      q(`sum by (reason) (rate(deskport_load_http_retries_total[${W}])) * 60`, '{{reason}}')))

    .withRow(new RowBuilder('Rate limit'))
    .withPanel(ts('Calls per minute against the limit', 'reqpm', 'All calls to the target per minute, and the limit the target announces (X-Rate-Limit-Limit, per minute).',
      q(`sum(rate(deskport_load_http_requests_total[${W}])) * 60`, 'calls/min'),
      q('max(deskport_load_rate_limit_limit)', 'limit', 'B')))
    .withPanel(ts('Headroom', 'short', 'X-Rate-Limit-Remaining as last seen, and the wait the shared budget imposed.',
      q('min(deskport_load_rate_limit_remaining)', 'remaining'),
      q('max(deskport_load_rate_wait_seconds)', 'last wait (s)', 'B')))
    .withPanel(ts('429 Too Many Requests', 'reqpm', '429 answers per minute: should stay at zero while the shared budget works.',
      q(`sum(rate(deskport_load_http_429_total[${W}])) * 60`, '429/min')))
    .withPanel(ts('Calls by endpoint and status', 'reqpm', 'Calls to the target per minute by endpoint and status.',
      q(`sum by (endpoint, status) (rate(deskport_load_http_requests_total[${W}])) * 60`, '{{endpoint}} {{status}}')))

    .withRow(new RowBuilder('Source (Zendesk API) and attachments'))
    .withPanel(ts('Source API calls', 'reqpm', 'Calls to the source API per minute by endpoint and status.',
      q(`sum by (endpoint, status) (rate(deskport_extract_http_requests_total[${W}])) * 60`, '{{endpoint}} {{status}}')))
    .withPanel(ts('Source rate limit', 'short', '429 answers of the source per minute, and the calls left in its window as last seen.',
      q(`sum(rate(deskport_extract_rate_limited_total[${W}])) * 60`, '429/min'),
      q('min(deskport_extract_rate_limit_remaining)', 'remaining', 'B')))
    .withPanel(ts('Attachment bytes into the blob store', 'Bps', 'Attachment and inline-image bytes written to the blob store per second.',
      q(`sum(rate(deskport_extract_attachment_bytes_total[${W}]))`, 'bytes/s')))
    .withPanel(ts('Attachments by outcome', 'ops', 'Attachments and inline images per second by outcome.',
      q(`sum by (state, inline) (rate(deskport_extract_attachments_total[${W}]))`, '{{state}} inline={{inline}}')))

    .withRow(new RowBuilder('ETA'))
    .withPanel(ts('Loader ETA by entity', 's', 'Seconds to finish the entity being loaded, at the pace of the last minute.',
      q('max by (entity) (deskport_load_eta_seconds)', '{{entity}}')))
    .withPanel(ts('Loader pace', 'ops', 'Records finished per second over the last minute.',
      q('sum by (entity) (deskport_load_records_per_second)', '{{entity}}')))
    .build();
}

/** File name → dashboard. */
export function allDashboards(): Record<string, Dashboard> {
  return { 'deskport-migration.json': overviewDashboard() };
}

export const DASHBOARD_DIR = join(fileURLToPath(new URL('..', import.meta.url)), 'dashboards', 'grafana');

export function renderDashboard(d: Dashboard): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, dashboard] of Object.entries(allDashboards())) {
    const path = join(DASHBOARD_DIR, file);
    const text = renderDashboard(dashboard);
    if (check) {
      let current = '';
      try { current = readFileSync(path, 'utf8'); } catch { /* missing counts as stale */ }
      if (current !== text) { console.error(`${path} is out of date: run npx tsx scripts/gen-dashboards.ts`); stale++; }
    } else {
      writeFileSync(path, text);
      console.log(`wrote ${path}`);
    }
  }
  process.exitCode = stale > 0 ? 1 : 0;
}
