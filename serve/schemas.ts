/**
 * JSON schemas of the API's answers. Fastify validates and serialises with them, and
 * @fastify/swagger turns them into the OpenAPI document (GET /openapi.json) — one definition.
 */
const int = { type: 'integer' } as const;
const str = { type: 'string' } as const;
const nstr = { type: ['string', 'null'] } as const;

export const counts = {
  type: 'object',
  description: 'One entity of the reconciliation view. loaded = migrated + withWarnings (in the target). missing must be 0 once a run ended.',
  properties: {
    entity: str, extracted: int, duplicates: int, staged: int, loaded: int, migrated: int, withWarnings: int, skipped: int, failed: int, pending: int, loading: int, rejected: int, missing: int,
  },
} as const;

export const reason = { type: 'object', properties: { entity: str, state: str, reason: str, count: int } } as const;

export const warningGroup = { type: 'object', description: 'Migrated records with this warning', properties: { entity: str, code: str, message: str, count: int } } as const;

export const activity = {
  type: 'object', description: 'What the run itself did: rows it brought to their load state',
  properties: { entity: str, migrated: int, withWarnings: int, skipped: int, failed: int },
} as const;

const loadWarning = { type: 'object', properties: { code: str, message: str } } as const;

export const record = {
  type: 'object',
  properties: {
    entity: str, source: str, sourceId: str, targetId: nstr,
    status: { type: 'string', enum: ['migrated', 'migrated with warnings', 'skipped', 'failed', 'rejected', 'pending'] },
    reason: nstr, warnings: { type: 'array', items: loadWarning }, ticketSourceId: nstr, targetTicketId: nstr, attempts: int, originalAssignee: nstr,
  },
} as const;

export const totals = {
  type: 'object',
  properties: { extracted: int, loaded: int, migrated: int, withWarnings: int, skipped: int, failed: int, rejected: int, pending: int, missing: int },
} as const;

export const runSummary = {
  type: 'object',
  properties: {
    id: int, kind: str, source: str, status: str, startedAt: str, finishedAt: nstr,
    loaded: int, withWarnings: int, skipped: int, failed: int, rejected: int, missing: int,
  },
} as const;

export const diff = { type: 'object', properties: { field: str, expected: {}, actual: {} } } as const;

export const verifyResult = {
  type: 'object',
  properties: { entity: str, source: str, sourceId: str, targetId: nstr, status: { type: 'string', enum: ['ok', 'different', 'missing', 'error'] }, diffs: { type: 'array', items: diff } },
} as const;

export const verification = {
  type: 'object',
  properties: {
    id: int, runId: int, status: str, sample: { type: ['integer', 'null'] }, checked: int, ok: int, different: int, errors: int, calls: int,
    unchecked: { type: 'object', additionalProperties: str, description: 'check → why it was not made (e.g. attachments: not migrated yet)' },
    error: nstr, startedAt: str, finishedAt: nstr,
  },
} as const;

export const verifyDoc = {
  type: 'object',
  properties: { verification, problems: { type: 'array', items: verifyResult } },
} as const;

export const runDetail = {
  type: 'object',
  properties: {
    run: runSummary, totals, counts: { type: 'array', items: counts }, activity: { type: 'array', items: activity }, reasons: { type: 'array', items: reason },
    warnings: { type: 'array', items: warningGroup }, verification: { anyOf: [verification, { type: 'null' }] },
  },
} as const;

export const report = {
  type: 'object',
  properties: {
    runId: int, kind: str, status: str, startedAt: str, finishedAt: nstr, generatedAt: str, totals,
    counts: { type: 'array', items: counts }, activity: { type: 'array', items: activity }, reasons: { type: 'array', items: reason },
    warnings: { type: 'array', items: warningGroup }, records: { type: 'array', items: record },
    verify: { anyOf: [verifyDoc, { type: 'null' }] },
    forcedPast: { anyOf: [{ type: 'array', items: str }, { type: 'null' }], description: 'blocking preflight problems the run was started past with --force; null: not forced' },
  },
} as const;

export const error = { type: 'object', properties: { error: str, message: str } } as const;

export const runIdParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;
