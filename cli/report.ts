import type { EntityCounts, ReasonCount } from '../staging/index.ts';

export interface RunReport {
  runId: number;
  counts: EntityCounts[];
  reasons: ReasonCount[];
  calls: number;
  seconds: number;
  /** Where the run's report files were written (serve/report-files.ts). */
  reportDir?: string | undefined;
}

const COLUMNS: (keyof EntityCounts)[] = ['extracted', 'rejected', 'staged', 'loaded', 'skipped', 'failed', 'pending', 'missing'];

/** The run summary an operator reads in the terminal: counts per entity, then reasons. */
export function formatReport(r: RunReport): string {
  const head = ['entity', ...COLUMNS.map((c) => (c === 'loaded' ? 'migrated' : c))];
  const rows = r.counts.map((c) => [c.entity, ...COLUMNS.map((k) => String(c[k]))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const out = [`deskport run ${r.runId}`, line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const tickets = r.counts.find((c) => c.entity === 'tickets');
  if (tickets && tickets.loaded > 0) {
    out.push('', `target calls: ${r.calls} (${(r.calls / tickets.loaded).toFixed(2)} per migrated ticket) in ${r.seconds.toFixed(1)} s`);
  }
  const missing = r.counts.filter((c) => c.missing > 0);
  if (missing.length > 0) {
    out.push('', `!! MISSING RECORDS: ${missing.map((c) => `${c.missing} ${c.entity}`).join(', ')} were extracted but neither migrated, skipped nor failed`);
  }
  if (r.reasons.length > 0) {
    out.push('', 'skipped / failed / rejected, by reason:');
    for (const reason of r.reasons) out.push(`  ${String(reason.count).padStart(6)}  ${reason.entity} ${reason.state}: ${reason.reason}`);
  }
  if (r.reportDir) out.push('', `report files: ${r.reportDir}`);
  return out.join('\n');
}
