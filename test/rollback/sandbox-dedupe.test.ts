import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startSandbox } from '../sandbox/index.ts';
import { KEY } from './harness.ts';

/**
 * Why rollback moves the import source on: whether the real import forgets a deleted ticket is
 * undocumented, so the sandbox models the conservative reading (README, assumption 10).
 */
describe('the sandbox import after a ticket was deleted', () => {
  let sb: Awaited<ReturnType<typeof startSandbox>>;
  before(async () => { sb = await startSandbox({ port: 0, apiKeys: [KEY], rateLimitPerMinute: 100_000 }); });
  after(async () => { await sb.close(); });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await request(`${sb.url}${path}`, {
      method: method as 'POST', ...(body ? { body: JSON.stringify(body) } : {}),
      headers: { authorization: `Basic ${Buffer.from(`${KEY}:x`).toString('base64')}`, 'content-type': 'application/json' },
    });
    const text = await res.body.text();
    return { status: res.statusCode, json: text ? JSON.parse(text) : null };
  };
  const importOne = (source: string) => call('POST', '/desk/v1/import/tickets.json', {
    source, fallbackInboxId: 1,
    tickets: [{ id: 42, subject: 'Printer on fire', customer: { email: 'cara@example.com', type: 'customer' },
      threads: [{ body: 'Help', type: 'message', createdBy: { email: 'cara@example.com', type: 'customer' } }] }],
  });

  test('still dedupes it under the same source; a new source string imports it again', async () => {
    const first = await importOne('Zendesk (deskport)');
    const id = first.json.tickets[0].ticketId;
    assert.equal(first.json.tickets[0].status, 'imported');
    assert.equal((await call('DELETE', `/desk/api/v2/tickets/${id}.json`)).status, 204);
    assert.equal((await call('GET', `/desk/api/v2/tickets/${id}.json`)).status, 404);

    const again = await importOne('Zendesk (deskport)');
    assert.deepEqual(again.json.tickets[0], { id: 42, ticketId: id, status: 'skipped' }, 'skipped: points at the deleted ticket');
    assert.equal(sb.store.list('tickets').length, 0, 'nothing live: the ticket would be lost without a new generation');

    const next = await importOne('Zendesk (deskport)#2');
    assert.equal(next.json.tickets[0].status, 'imported');
    assert.deepEqual(sb.store.list('tickets').map((t) => t.id), [next.json.tickets[0].ticketId]);
  });
});
