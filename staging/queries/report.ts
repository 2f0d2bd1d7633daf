import type { Knex } from 'knex';
import { reasonCounts, reconciliation, warningCounts, type ReasonRow, type ReconciliationRow, type WarningRow } from './reconciliation.ts';

/**
 * The terminal report's counts. Thin names over the reconciliation views (migration 003), so the
 * terminal, the report files, the API and the HTML page all show the same numbers.
 */
export type EntityCounts = ReconciliationRow;
export type ReasonCount = ReasonRow;
export type WarningCount = WarningRow;

export function runCounts(db: Knex, runId: number): Promise<EntityCounts[]> {
  return reconciliation(db, runId);
}

export function runReasons(db: Knex, runId: number): Promise<ReasonCount[]> {
  return reasonCounts(db, runId);
}

export function runWarnings(db: Knex, runId: number): Promise<WarningCount[]> {
  return warningCounts(db, runId);
}
