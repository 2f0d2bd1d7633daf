import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ensureTopics, rawTopic, RAW_ENTITIES } from '../../core/bus.ts';
import { createRun } from '../../staging/index.ts';
import { remapStaged } from '../../transform/remap.ts';
import { stageAll } from '../extract/helpers.ts';
import { pipelineDeps, testConfig } from '../helpers.ts';

/**
 * Staging keeps each record's raw-topic message as it arrived (raw is `json`, not re-serialized):
 * whatever the producer's spacing and key order, `raw` is its bytes, `transform --remap` reads it,
 * and a message that is not UTF-8 is staged from its parsed value instead of failing its batch.
 */
describe('transform keeps the raw message byte for byte', () => {
  let deps: Awaited<ReturnType<typeof pipelineDeps>>;
  const config = testConfig({ source: { path: '/nonexistent.json' } });
  const topic = rawTopic(config.topicPrefix, config.source.name, 'users');
  const envelope = (id: number, name: string) =>
    `{ "source":"zendesk","runId":1,  "entity":"users","extractedAt":"2026-01-01T00:00:00Z","cursor":"users#${id}",\n "record":{"role":"end-user","id":${id},"name":"${name}","email":"u${id}@example.com","unmapped":[1, 2]}}`;

  before(async () => {
    deps = await pipelineDeps();
    assert.equal(await createRun(deps.db, 'extract', 'zendesk'), 1);
    const admin = deps.kafka.admin();
    await admin.connect();
    await ensureTopics(admin, RAW_ENTITIES.map((e) => rawTopic(config.topicPrefix, config.source.name, e)));
    await admin.disconnect();
    const producer = deps.kafka.producer();
    await producer.connect();
    await producer.send({
      topic, acks: -1,
      messages: [
        { key: '1', value: envelope(1, 'Zoë \\u00e9 😀') },
        // Latin-1 bytes: not UTF-8.
        { key: '2', value: Buffer.concat([Buffer.from(envelope(2, 'caf').slice(0, envelope(2, 'caf').indexOf('caf') + 3)), Buffer.from([0xe9]), Buffer.from(envelope(2, 'caf').slice(envelope(2, 'caf').indexOf('caf') + 3))]) },
      ],
    });
    await producer.disconnect();
  });
  after(async () => {
    await deps?.drop();
  });

  test('raw is the message text; a non-UTF-8 message is staged from its parsed value; remap reads both', async () => {
    await stageAll(deps, config);
    const rows = await deps.db('people').orderBy('source_id').select('source_id', 'data', deps.db.raw('raw::text AS raw_text'), 'raw', 'content_hash');
    assert.deepEqual(rows.map((r) => r.source_id), ['1', '2']);
    assert.equal(rows[0].raw_text, envelope(1, 'Zoë \\u00e9 😀'));
    assert.equal(rows[0].data.name, 'Zoë é 😀');
    assert.equal(rows[0].raw.record.unmapped.length, 2);
    assert.equal(rows[1].data.name, 'caf\ufffd');
    assert.equal(rows[1].raw.record.name, 'caf\ufffd');
    assert.equal((await deps.db('rejects').count<{ n: string }[]>('* as n'))[0]!.n, '0');
    // The json column answers the operators' ->> queries as jsonb did.
    const emails = await deps.db('people').orderBy('source_id').select(deps.db.raw("raw->'record'->>'email' AS email"));
    assert.deepEqual(emails.map((r) => r.email), ['u1@example.com', 'u2@example.com']);

    const summary = await remapStaged(deps.db, config);
    assert.equal(summary.byEntity.people!.rows, 2);
    assert.equal(summary.byEntity.people!.changed, 0);
    assert.equal(summary.byEntity.people!.noRaw, 0);
    const after = await deps.db('people').orderBy('source_id').select('content_hash');
    assert.deepEqual(after.map((r) => r.content_hash), rows.map((r) => r.content_hash));
  });
});
