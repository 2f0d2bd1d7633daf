// Regression tests of issue 21: Zendesk response shapes recorded by others, through deskport's
// own schemas and mappers (points 1, 2, 4 and 5; point 3 is test/extract/comment-completeness.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../core/config.ts';
import { buildImportTicket, type ImportContext } from '../../load/import-payload.ts';
import { TargetDirectory } from '../../load/target-directory.ts';
import type { CanonicalComment, CanonicalTicket } from '../../staging/canonical.ts';
import { mapZendeskEnvelope, type MapOutcome } from '../../transform/map-record.ts';
import { normalizeZendeskDate } from '../../transform/zendesk-dates.ts';
import { zendeskAttachment, zendeskOldExportTicket, zendeskTicketComments, zendeskTicketEvents } from '../fixtures/recorded-shapes.ts';

const mapping = loadConfig({ env: {} }).mapping;
const envelope = (entity: string, record: unknown, meta?: Record<string, unknown>) =>
  ({ runId: 1, source: 'zendesk', entity, extractedAt: '2024-01-01T00:00:00Z', cursor: 'c', record, ...(meta ? { meta } : {}) });
const staged = <T>(o: MapOutcome): T => {
  assert.equal(o.kind, 'staged', o.kind === 'rejected' ? o.reason : o.kind);
  return (o as Extract<MapOutcome, { kind: 'staged' }>).row.data as T;
};
const comment = (record: unknown, position = 0) => mapZendeskEnvelope(envelope('comments', record, { ticketId: 42, position }), mapping);

describe('issue 21.1: Zendesk comments with author_id -1 (system authors)', () => {
  test('a system comment is staged, signed by the fallback agent, its header naming "Zendesk system"', () => {
    const c = staged<CanonicalComment>(comment(zendeskTicketComments.comments[1]));
    assert.equal(c.authorSourceId, null);
    assert.equal(c.authorLabel, 'Zendesk system');
    assert.equal(c.public, false);
    const ticket = staged<CanonicalTicket>(mapZendeskEnvelope(envelope('tickets', {
      id: 42, subject: 'Printer', status: 'open', requester_id: 9001, created_at: '2019-06-03T01:00:00Z', updated_at: '2019-06-03T03:00:00Z',
    }, { commentCount: 1 }), mapping));
    const ctx: ImportContext = {
      source: 'zendesk', people: new Map(), mapping,
      directory: TargetDirectory.of([{ id: 1, email: 'fallback@acme.example' }], [{ id: 1, name: 'Support' }], []),
      fallbackAgent: { email: 'fallback@acme.example', firstName: 'Fall', lastName: 'Back', type: 'user' },
    };
    const thread = buildImportTicket(ctx, ticket, [c]).threads[0]!;
    assert.equal(thread.createdBy.email, 'fallback@acme.example');
    assert.match(thread.body, /^<p><em>Originally written by Zendesk system on 2019-06-03T02:23:47Z<\/em><\/p><p>Ticket merged/);
  });

  test('an audit by author -1 is accepted and reads as "system" in the events note', () => {
    const t = staged<CanonicalTicket>(mapZendeskEnvelope(envelope('tickets', zendeskOldExportTicket, { commentCount: 0 }), mapping));
    assert.deepEqual(t.events.map((e) => [e.kind, e.actorSourceId]), [['status', null]]);
  });

  test('other negative or zero author ids are still rejected, with the reason', () => {
    const o = comment({ ...zendeskTicketComments.comments[1], author_id: -7 });
    assert.equal(o.kind, 'rejected');
    assert.match((o as { reason: string }).reason, /^author_id: must be a user id or -1/);
  });
});

describe('issue 21.2: html_body "" with the text in body', () => {
  test('an empty html_body falls back to body (escaped), then to plain_body', () => {
    assert.equal(staged<CanonicalComment>(comment(zendeskTicketComments.comments[0])).bodyHtml, 'Printer on floor 3 jams again');
    const onlyPlain = { ...zendeskTicketComments.comments[0], body: ' ', plain_body: 'a < b\nsecond line' };
    assert.equal(staged<CanonicalComment>(comment(onlyPlain)).bodyHtml, 'a &lt; b<br>second line');
    const html = { ...zendeskTicketComments.comments[0], html_body: '<p>kept</p>' };
    assert.equal(staged<CanonicalComment>(comment(html)).bodyHtml, '<p>kept</p>');
  });
});

describe('issue 21.4: every documented Zendesk date format, normalised to UTC ISO 8601', () => {
  test('ISO 8601 with Z, offsets and fractions, the older 2011/09/25 22:35:44 -0700, Unix seconds', () => {
    const cases: [unknown, string][] = [
      ['2015-04-16T09:14:57Z', '2015-04-16T09:14:57Z'],
      ['2012-05-05T22:35:44+10:00', '2012-05-05T12:35:44Z'],
      ['2012-05-05T22:35:44-0700', '2012-05-06T05:35:44Z'],
      ['2020-01-01T00:00:00.123Z', '2020-01-01T00:00:00.123Z'],
      ['2015-04-16 09:14:57', '2015-04-16T09:14:57Z'],
      ['2011/09/25 22:35:44 -0700', '2011-09-26T05:35:44Z'],
      ['2011/09/25 22:35:44 +0000', '2011-09-25T22:35:44Z'],
      [1455821369, '2016-02-18T18:49:29Z'],
      ['1455821369', '2016-02-18T18:49:29Z'],
    ];
    for (const [input, want] of cases) assert.equal(normalizeZendeskDate(input), want, String(input));
    for (const bad of ['yesterday', '2011-02-30T00:00:00Z', '2011/13/01 00:00:00 -0700', '25/09/2011', '', true, 1.5, -1]) {
      assert.equal(normalizeZendeskDate(bad), null, String(bad));
    }
  });

  test('an old export ticket with slashed audit dates is staged with UTC dates', () => {
    const t = staged<CanonicalTicket>(mapZendeskEnvelope(envelope('tickets', zendeskOldExportTicket, { commentCount: 0 }), mapping));
    assert.equal(t.createdAt, '2011-09-26T05:35:44Z');
    assert.equal(t.updatedAt, '2011-09-26T15:00:00Z');
    assert.equal(t.events[0]!.at, '2011-09-26T05:35:44Z');
  });

  test('only a date that cannot be parsed is rejected, the value in the reason', () => {
    const o = mapZendeskEnvelope(envelope('tickets', { ...zendeskOldExportTicket, audits: [{ ...zendeskOldExportTicket.audits[0], created_at: 'Sept 25th' }] }, { commentCount: 0 }), mapping);
    assert.equal(o.kind, 'rejected');
    assert.match((o as { reason: string }).reason, /^audits\.0\.created_at: "Sept 25th" is not a date \(accepted: ISO 8601/);
  });
});

describe('issue 21.5: attachments named by `name`, comment child events without `public`', () => {
  const base = { id: 601, author_id: 9001, body: 'see attached', created_at: '2024-07-01T00:00:00Z', public: true };

  test('an attachment named by `name` keeps its name; with no name at all it is named from its URL or id', () => {
    const named = staged<CanonicalComment>(comment({ ...base, attachments: [zendeskAttachment.attachment] }));
    assert.deepEqual(named.attachments.map((a) => [a.sourceId, a.fileName, a.inline, a.contentType, a.size]), [['77001', 'invoice-march.pdf', false, 'application/pdf', 4096]]);
    const bare = staged<CanonicalComment>(comment({ ...base, attachments: [
      { id: 1, content_url: 'https://acme.zendesk.com/attachments/token/abc/?name=photo.jpg' },
      { id: 2, content_url: 'https://acme.zendesk.com/attachments/token/def/' },
      { id: 3, content_url: 'https://files.example/store/report.csv' },
    ] }));
    assert.deepEqual(bare.attachments.map((a) => [a.fileName, a.contentType, a.size, a.inline]), [
      ['photo.jpg', null, null, false], ['attachment-2', null, null, false], ['report.csv', null, null, false]]);
  });

  test('an attachment without content_url is rejected with that path: the field the attachment is', () => {
    const o = comment({ ...base, attachments: [{ id: 1, file_name: 'a.txt' }] });
    assert.equal(o.kind, 'rejected');
    assert.match((o as { reason: string }).reason, /^attachments\.0\.content_url: /);
  });

  test('a comment child event without `public` (Airbyte\'s recorded shape) is staged as a private note', () => {
    const child = zendeskTicketEvents.ticket_events[0]!.child_events[0]!;
    const event = zendeskTicketEvents.ticket_events[0]!;
    // The extractor hands the child over with its event's author and date (extract/zendesk-api).
    const c = staged<CanonicalComment>(comment({ id: child.id, body: child.body, author_id: event.updater_id, created_at: event.created_at }));
    assert.equal(c.public, false);
    assert.equal(c.bodyHtml, 'Is there an update?');
    assert.equal(c.authorSourceId, '9001');
  });
});
