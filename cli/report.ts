import type { EntityCounts, KeptAssignee, ReasonCount, WarningCount } from '../staging/index.ts';

export interface RunReport {
  runId: number;
  counts: EntityCounts[];
  reasons: ReasonCount[];
  /** What migrated records did not carry, grouped (the `warning_counts` view). */
  warnings?: WarningCount[];
  calls: number;
  seconds: number;
  /** Where the run's report files were written (serve/report-files.ts). */
  reportDir?: string | undefined;
  /** Loaded tickets whose source assignee is not an agent of the target, by what they kept (issue 16.2). */
  kept?: { keptAs: KeptAssignee['keptAs']; assignedTo: string | null; count: number }[];
  /** Tickets already in the target brought in line with a changed source record or mapping (issue 16.5). */
  updated?: { fields: number; tickets: number; unchanged: number; failed: number };
  /** The blocking preflight problems the run was forced past (--force); null or absent: not forced. */
  forcedPast?: string[] | null;
}

const KEPT_AS: Record<KeptAssignee['keptAs'], string> = {
  tag: 'as a tag', header: 'in the first message\'s header', both: 'as a tag and in the first message\'s header', none: 'nowhere (agents.unmatchedAssignee: none)',
};

/** The lines every report of a forced run starts with (issue 16.8). */
export function forcedLines(problems: string[] | null | undefined): string[] {
  if (!problems || problems.length === 0) return [];
  return [`!! FORCED: this run was started with --force past ${problems.length} blocking problem${problems.length === 1 ? '' : 's'} that check found:`, ...problems.map((p) => `  ✗ ${p}`), ''];
}

/** Table columns: a record is in exactly one of migrated … missing (rejected and staged beside). */
const COLUMNS: [keyof EntityCounts, string][] = [
  ['extracted', 'extracted'], ['rejected', 'rejected'], ['staged', 'staged'], ['migrated', 'migrated'], ['withWarnings', 'with warnings'],
  ['skipped', 'skipped'], ['failed', 'failed'], ['pending', 'pending'], ['missing', 'missing'],
];

/** How many warnings groups the terminal lists (the report files hold every record). */
const MAX_WARNING_LINES = 20;

/** The run summary an operator reads in the terminal: counts per entity, then reasons. */
export function formatReport(r: RunReport): string {
  const head = ['entity', ...COLUMNS.map(([, h]) => h)];
  const rows = r.counts.map((c) => [c.entity, ...COLUMNS.map(([k]) => String(k === 'pending' ? c.pending + c.loading : c[k]))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const out = [`deskport run ${r.runId}`, ...forcedLines(r.forcedPast), line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const tickets = r.counts.find((c) => c.entity === 'tickets');
  if (tickets && tickets.loaded > 0) {
    out.push('', `target calls: ${r.calls} (${(r.calls / tickets.loaded).toFixed(2)} per migrated ticket) in ${r.seconds.toFixed(1)} s`);
  }
  const missing = r.counts.filter((c) => c.missing > 0);
  if (missing.length > 0) {
    out.push('', `!! MISSING RECORDS: ${missing.map((c) => `${c.missing} ${c.entity}`).join(', ')} were extracted but neither migrated, skipped nor failed`);
  }
  const warned = r.counts.filter((c) => c.withWarnings > 0);
  if (warned.length > 0) {
    out.push('', `migrated with warnings (in the target, but not whole): ${warned.map((c) => `${c.withWarnings} ${c.entity}`).join(', ')}`);
    for (const w of (r.warnings ?? []).slice(0, MAX_WARNING_LINES)) out.push(`  ${String(w.count).padStart(6)}  ${w.entity}: ${w.message}`);
    const more = (r.warnings ?? []).length - MAX_WARNING_LINES;
    if (more > 0) out.push(`  … and ${more} more kinds of warning (records.csv lists each record's warnings)`);
  }
  if (r.reasons.length > 0) {
    out.push('', 'skipped / failed / rejected, by reason:');
    for (const reason of r.reasons) out.push(`  ${String(reason.count).padStart(6)}  ${reason.entity} ${reason.state}: ${reason.reason}`);
  }
  if (r.kept && r.kept.length > 0) {
    out.push('', 'tickets whose source assignee is not an agent of the target (records.csv: original_assignee; post-checklist):');
    for (const k of r.kept) {
      out.push(`  ${String(k.count).padStart(6)}  tickets ${k.assignedTo ? `assigned to ${k.assignedTo}` : 'unassigned'}, original assignee kept ${KEPT_AS[k.keptAs]}`);
    }
  }
  if (r.updated && r.updated.tickets + r.updated.unchanged + r.updated.failed > 0) {
    const u = r.updated;
    out.push('', `already in the target, brought in line with the source and the mapping: ${u.fields} field(s) on ${u.tickets} ticket(s) updated (${u.unchanged} already matching${u.failed > 0 ? `, ${u.failed} failed: run again` : ''})`);
  }
  if (r.reportDir) out.push('', `report files: ${r.reportDir}`);
  return out.join('\n');
}
