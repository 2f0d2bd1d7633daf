import type { Config } from '../core/config.ts';
import type { ReasonRow, ReconciliationRow, RecordRow, VerificationRow, VerifyResult, WarningRow } from '../staging/index.ts';
import type { ReportTotals } from './report-files.ts';
import { recordLinks } from './links.ts';

/** Everything the report page shows; the route gathers it, this module only renders. */
export interface PageData {
  run: { id: number; kind: string; status: string; startedAt: string; finishedAt: string | null };
  totals: ReportTotals;
  counts: ReconciliationRow[];
  reasons: ReasonRow[];
  /** Warnings of migrated records, grouped; with some of their records (byWarning, keyed `entity\0message`). */
  warnings: WarningRow[];
  byWarning: Map<string, RecordRow[]>;
  /** Records per reason group (failed/skipped/rejected), capped. */
  byReason: Map<string, RecordRow[]>;
  records: { rows: RecordRow[]; total: number; page: number; pageSize: number; status: string | undefined; entity: string | undefined };
  verify: { verification: VerificationRow; problems: VerifyResult[] } | null;
  basePath: string;
}

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:18px 32px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#b9c0cc}
main{padding:20px 32px;max-width:1200px}section{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:16px 20px;margin:0 0 18px}
h2{font-size:16px;margin:0 0 12px}.cards{display:flex;gap:12px;flex-wrap:wrap}.card{flex:1;min-width:120px;border-radius:8px;padding:12px 14px;background:#eef1f5}
.card b{display:block;font-size:26px}.card span{color:#5a6473;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card.ok{background:#e3f4e8}.card.warn{background:#fff4d6}.card.bad{background:#fde2e1}
.alarm{background:#c62828;color:#fff;font-weight:600;padding:12px 16px;border-radius:8px;margin:0 0 18px;font-size:15px}
.good{background:#2e7d32;color:#fff;padding:10px 16px;border-radius:8px;margin:0 0 18px}
.warnbar{background:#fff4d6;border:1px solid #e8c66a;padding:10px 16px;border-radius:8px;margin:0 0 18px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceff3;vertical-align:top}
th{font-size:12px;color:#5a6473;text-transform:uppercase;letter-spacing:.03em}td.n{text-align:right;font-variant-numeric:tabular-nums}
.pill{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;background:#eef1f5}.pill.loaded,.pill.ok{background:#e3f4e8}
.pill.migrated{background:#e3f4e8}.pill.migrated-with-warnings{background:#fff4d6}
.pill.failed,.pill.rejected,.pill.different,.pill.missing,.pill.error{background:#fde2e1}.pill.skipped{background:#fff4d6}
details{margin:6px 0}summary{cursor:pointer}code{font-size:12px;background:#f1f3f6;padding:1px 4px;border-radius:4px;word-break:break-all}
nav a{margin-right:10px}.muted{color:#7a8391}`;

function card(label: string, value: number, cls: string, id: string): string {
  return `<div class="card ${cls}"><span>${esc(label)}</span><b id="${id}" data-total="${id.replace('total-', '')}">${value}</b></div>`;
}

function link(href: string | null, text: string): string {
  return href ? `<a href="${esc(href)}" rel="noopener">${esc(text)}</a>` : esc(text);
}

/** A status word as a CSS class ("migrated with warnings" → migrated-with-warnings). */
const pillClass = (status: string) => status.replace(/\s+/g, '-');

function recordRow(config: Config, r: RecordRow): string {
  const l = recordLinks(config, r);
  const why = [r.reason, ...r.warnings.map((w) => w.message)].filter(Boolean).join('; ');
  return `<tr><td>${esc(r.entity)}</td><td>${link(l.source, r.sourceId)}</td><td>${l.target ? link(l.target, r.targetId ?? r.targetTicketId ?? '') : esc(r.targetId ?? '—')}</td>`
    + `<td><span class="pill ${esc(pillClass(r.status))}">${esc(r.status)}</span></td><td>${esc(why)}</td></tr>`;
}

const RECORD_HEAD = '<tr><th>entity</th><th>source id</th><th>target id</th><th>status</th><th>reason / warnings</th></tr>';

/** The run report a support lead reads: totals, failures by reason, records with links, the verify diff. */
export function renderReportPage(config: Config, d: PageData): string {
  const t = d.totals;
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<title>deskport — run ${d.run.id} report</title><style>${STYLE}</style></head><body>`);
  parts.push(`<header><h1>deskport — migration report, run ${d.run.id}</h1><p>${esc(d.run.kind)} · <span id="run-status">${esc(d.run.status)}</span>`
    + ` · started ${esc(d.run.startedAt)}${d.run.finishedAt ? ` · finished ${esc(d.run.finishedAt)}` : ''}</p></header><main>`);

  if (t.missing > 0) {
    parts.push(`<div class="alarm" id="missing-alarm">⚠ ${t.missing} record(s) MISSING: extracted from the source but neither migrated, skipped nor failed. `
      + `The run is not complete — see the counts below.</div>`);
  } else if (d.run.status === 'done' && t.failed === 0 && t.withWarnings === 0) {
    parts.push(`<div class="good">Every extracted record is accounted for: migrated, or skipped with a reason.</div>`);
  } else if (d.run.status === 'done' && t.failed === 0) {
    parts.push(`<div class="warnbar" id="warnings-bar">Every extracted record is accounted for, but ${t.withWarnings} were migrated with warnings: `
      + `something of them was not carried — see "Migrated with warnings" below.</div>`);
  }
  parts.push(`<section><h2>Totals</h2><div class="cards">${[
    card('extracted', t.extracted, '', 'total-extracted'),
    card('migrated', t.migrated, 'ok', 'total-migrated'),
    card('migrated with warnings', t.withWarnings, t.withWarnings ? 'warn' : '', 'total-with-warnings'),
    card('skipped', t.skipped, t.skipped ? 'warn' : '', 'total-skipped'),
    card('failed', t.failed, t.failed ? 'bad' : '', 'total-failed'),
    card('rejected', t.rejected, t.rejected ? 'bad' : '', 'total-rejected'),
    card('missing', t.missing, t.missing ? 'bad' : 'ok', 'total-missing'),
  ].join('')}</div></section>`);

  parts.push(`<section><h2>By entity</h2><table id="counts"><tr><th>entity</th><th>extracted</th><th>duplicates</th><th>staged</th><th>migrated</th>`
    + `<th>migrated with warnings</th><th>skipped</th><th>failed</th><th>rejected</th><th>pending</th><th>missing</th></tr>`
    + d.counts.map((c) => `<tr data-entity="${esc(c.entity)}"><td>${esc(c.entity)}</td>${[c.extracted, c.duplicates, c.staged, c.migrated, c.withWarnings, c.skipped, c.failed, c.rejected, c.pending + c.loading, c.missing]
      .map((n) => `<td class="n">${n}</td>`).join('')}</tr>`).join('') + `</table></section>`);

  parts.push(`<section id="reasons"><h2>Skipped, failed and rejected — by reason</h2>`);
  if (d.reasons.length === 0) parts.push(`<p class="muted">None.</p>`);
  for (const r of d.reasons) {
    const key = `${r.entity}\u0000${r.state}\u0000${r.reason}`;
    const rows = d.byReason.get(key) ?? [];
    parts.push(`<details class="reason" data-state="${esc(r.state)}"><summary><span class="pill ${esc(r.state)}">${esc(r.state)}</span> <b>${r.count}</b> ${esc(r.entity)}: ${esc(r.reason)}</summary>`
      + `<table>${RECORD_HEAD}${rows.map((x) => recordRow(config, x)).join('')}</table>`
      + (r.count > rows.length ? `<p class="muted">${r.count - rows.length} more — <a href="${esc(d.basePath)}/records?status=${esc(r.state)}&amp;entity=${esc(r.entity)}">all of them (JSON)</a></p>` : '')
      + `</details>`);
  }
  parts.push(`</section>`);

  parts.push(`<section id="warnings"><h2>Migrated with warnings — what was not carried</h2>`);
  if (d.warnings.length === 0) parts.push(`<p class="muted">None.</p>`);
  for (const w of d.warnings) {
    const rows = d.byWarning.get(`${w.entity}\u0000${w.message}`) ?? [];
    parts.push(`<details class="warning" data-code="${esc(w.code)}"><summary><span class="pill migrated-with-warnings">${esc(w.code)}</span> <b>${w.count}</b> ${esc(w.entity)}: ${esc(w.message)}</summary>`
      + `<table>${RECORD_HEAD}${rows.map((x) => recordRow(config, x)).join('')}</table>`
      + (w.count > rows.length ? `<p class="muted">${w.count - rows.length} more — <a href="${esc(d.basePath)}/records?status=${encodeURIComponent('migrated with warnings')}&amp;entity=${esc(w.entity)}">all of them (JSON)</a></p>` : '')
      + `</details>`);
  }
  parts.push(`</section>`);

  parts.push(renderVerify(d));

  const { rows, total, page, pageSize, status, entity } = d.records;
  const filter = (s?: string, e?: string) => `?${new URLSearchParams({ format: 'html', ...(s ? { status: s } : {}), ...(e ? { entity: e } : {}) })}`;
  parts.push(`<section id="records"><h2>Records</h2><nav>`
    + ['', 'migrated', 'migrated with warnings', 'skipped', 'failed', 'rejected', 'pending'].map((s) => `<a href="${esc(filter(s || undefined, entity))}">${s || 'all'}</a>`).join('')
    + ` · ${['tickets', 'comments', 'people', 'companies', 'kb_categories', 'kb_articles'].map((e) => `<a href="${esc(filter(status, e))}">${e}</a>`).join('')}`
    + ` · <a href="${esc(d.basePath)}/report?format=csv">download CSV</a> · <a href="${esc(d.basePath)}/report?format=json">JSON</a></nav>`
    + `<p class="muted">${total} record(s)${status ? ` with status ${esc(status)}` : ''}${entity ? ` of ${esc(entity)}` : ''}; page ${page} of ${Math.max(1, Math.ceil(total / pageSize))}.</p>`
    + `<table>${RECORD_HEAD}${rows.map((x) => recordRow(config, x)).join('')}</table>`
    + (page * pageSize < total ? `<p><a href="${esc(filter(status, entity))}&amp;page=${page + 1}">next page →</a></p>` : '')
    + `</section>`);
  parts.push(`<p class="muted">Generated by deskport at ${esc(new Date().toISOString())}. Reports as files: <code>reports/run-${d.run.id}/</code> in the work directory.</p></main></body></html>`);
  return parts.join('\n');
}

function renderVerify(d: PageData): string {
  if (!d.verify) {
    return `<section id="verify"><h2>Verification</h2><p class="muted">Not verified yet. Run <code>deskport verify --run ${d.run.id}</code> to read the migrated records back from Teamwork Desk and compare them.</p></section>`;
  }
  const v = d.verify.verification;
  const out = [`<section id="verify"><h2>Verification #${v.id} (${esc(v.status)})</h2><div class="cards">`,
    card('read back', v.checked, '', 'verify-checked'), card('identical', v.ok, 'ok', 'verify-ok'),
    card('different', v.different, v.different ? 'bad' : 'ok', 'verify-different'), card('errors', v.errors, v.errors ? 'bad' : '', 'verify-errors'),
    `</div><p class="muted">${v.sample ? `a random sample of ${v.sample}` : 'every migrated ticket'} · ${v.calls} API calls · ${esc(v.startedAt)}</p>`];
  const unchecked = Object.entries(v.unchecked);
  if (unchecked.length > 0) out.push(`<p>Not compared: ${unchecked.map(([k, why]) => `<b>${esc(k)}</b> (${esc(why)})`).join('; ')}</p>`);
  if (v.error) out.push(`<p class="alarm">verify stopped: ${esc(v.error)}</p>`);
  if (d.verify.problems.length > 0) {
    out.push(`<table id="verify-diff"><tr><th>record</th><th>target</th><th>status</th><th>field</th><th>expected (staging)</th><th>actual (Teamwork Desk)</th></tr>`);
    for (const p of d.verify.problems) {
      p.diffs.forEach((f, i) => {
        out.push(`<tr>${i === 0 ? `<td rowspan="${p.diffs.length}">${esc(p.entity)} ${esc(p.sourceId)}</td><td rowspan="${p.diffs.length}">${esc(p.targetId ?? '—')}</td><td rowspan="${p.diffs.length}"><span class="pill ${esc(p.status)}">${esc(p.status)}</span></td>` : ''}`
          + `<td><code>${esc(f.field)}</code></td><td><code>${esc(JSON.stringify(f.expected))}</code></td><td><code>${esc(JSON.stringify(f.actual))}</code></td></tr>`);
      });
    }
    out.push(`</table>`);
  }
  out.push(`</section>`);
  return out.join('');
}
