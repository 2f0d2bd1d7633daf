/** Compares the sandbox with a source, ticket by ticket, through staging's id map. */
import assert from 'node:assert/strict';
import { loadConfig } from '../../core/config.ts';
import type { Db } from '../../staging/index.ts';
import { entities, type SandboxMessage, type SandboxTicket } from '../sandbox-readback.ts';

/** Sandbox status ids of the default account (test/sandbox/README.md). */
const STATUS_IDS: Record<string, number> = { Active: 1, 'Waiting on customer': 3, 'On-hold': 4, Solved: 5, Closed: 6, Spam: 7 };
const STATUS_MAP = loadConfig({ env: {} }).mapping.statusMap;

export interface SourceTicket { id: number; subject: string; status: string; comments: { id: number; html_body: string }[] }

/** Text of an HTML body, as stored after extraction (NUL dropped, lone surrogates replaced). */
export function text(html: string): string {
  return html.replace(/\u0000/g, '').replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
}

/** The sandbox holds exactly the source: every ticket once, its subject, its status, its comments in order. */
export async function assertSameAsSource(db: Db, sandboxUrl: string, source: SourceTicket[]): Promise<void> {
  const map = new Map((await db('id_map').where({ entity: 'tickets' }).select('source_id', 'target_id')).map((r) => [Number(r.source_id), Number(r.target_id)]));
  const tickets = new Map((await entities<SandboxTicket>(sandboxUrl, 'tickets')).map((t) => [t.id, t]));
  const messages = await entities<SandboxMessage>(sandboxUrl, 'messages');
  assert.equal(tickets.size, source.length, 'one target ticket per source ticket, no duplicates');
  for (const src of source) {
    const target = tickets.get(map.get(src.id)!);
    assert.ok(target, `ticket ${src.id} is in the sandbox`);
    assert.equal(target.subject, src.subject || '(no subject)', `ticket ${src.id} subject`);
    assert.equal(target.status.id, STATUS_IDS[STATUS_MAP[src.status] ?? 'Active'], `ticket ${src.id} status (${src.status})`);
    const got = messages.filter((m) => m.ticket.id === target.id).sort((a, b) => a.id - b.id);
    assert.equal(got.length, src.comments.length, `ticket ${src.id}: one message per comment`);
    src.comments.forEach((c, i) => {
      // Inline images become markers naming the attached file (load/import-payload.ts).
      const [have, expect] = [text(got[i]!.htmlBody.replace(/<em>\[inline image: [^\]]*\]<\/em>/g, '')), text(c.html_body)];
      assert.ok(have.includes(expect), `ticket ${src.id} comment ${c.id} body:\n  expected ${JSON.stringify(expect.slice(0, 300))}\n  in ${JSON.stringify(have.slice(0, 600))}`);
    });
  }
}
