/**
 * JSON schemas of the API's answers. Fastify validates and serialises with them, and
 * @fastify/swagger turns them into the OpenAPI document (GET /openapi.json) — one definition.
 */
const int = { type: 'integer' } as const;
const str = { type: 'string' } as const;
const nstr = { type: ['string', 'null'] } as const;

export const counts = {
  type: 'object',
  description: 'One entity of the reconciliation view. missing must be 0 once a run ended.',
  properties: {
    entity: str, extracted: int, duplicates: int, staged: int, loaded: int, skipped: int, failed: int, pending: int, loading: int, rejected: int, missing: int,
  },
} as const;

export const reason = { type: 'object', properties: { entity: str, state: str, reason: str, count: int } } as const;

export const record = {
  type: 'object',
  properties: {
    entity: str, source: str, sourceId: str, targetId: nstr, status: { type: 'string', enum: ['pending', 'loading', 'loaded', 'skipped', 'failed', 'rejected'] },
    reason: nstr, ticketSourceId: nstr, targetTicketId: nstr, attempts: int, originalAssignee: nstr,
  },
} as const;

export const totals = { type: 'object', properties: { extracted: int, loaded: int, skipped: int, failed: int, rejected: int, missing: int } } as const;

export const runSummary = {
  type: 'object',
  properties: {
    id: int, kind: str, source: str, status: str, startedAt: str, finishedAt: nstr,
    loaded: int, skipped: int, failed: int, rejected: int, missing: int,
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
    run: runSummary, totals, counts: { type: 'array', items: counts }, reasons: { type: 'array', items: reason },
    verification: { anyOf: [verification, { type: 'null' }] },
  },
} as const;

export const report = {
  type: 'object',
  properties: {
    runId: int, kind: str, status: str, startedAt: str, finishedAt: nstr, generatedAt: str, totals,
    counts: { type: 'array', items: counts }, reasons: { type: 'array', items: reason }, records: { type: 'array', items: record },
    verify: { anyOf: [verifyDoc, { type: 'null' }] },
  },
} as const;

export const error = { type: 'object', properties: { error: str, message: str } } as const;

export const runIdParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;
