import type { EntityCounts, KeptAssignee, ReasonCount } from '../staging/index.ts';

export interface RunReport {
  runId: number;
  counts: EntityCounts[];
  reasons: ReasonCount[];
  calls: number;
  seconds: number;
  /** Where the run's report files were written (serve/report-files.ts). */
  reportDir?: string | undefined;
  /** Loaded tickets whose source assignee is not an agent of the target, by what they kept (issue 16.2). */
  kept?: { keptAs: KeptAssignee['keptAs']; assignedTo: string | null; count: number }[];
  /** Tickets already in the target brought in line with a changed source record or mapping (issue 16.5). */
  updated?: { fields: number; tickets: number; unchanged: number; failed: number };
}

const KEPT_AS: Record<KeptAssignee['keptAs'], string> = {
  tag: 'as a tag', header: 'in the first message\'s header', both: 'as a tag and in the first message\'s header', none: 'nowhere (agents.unmatchedAssignee: none)',
};

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
