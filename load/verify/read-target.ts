import { createHash } from 'node:crypto';
import { TargetHttpError } from '../../core/errors.ts';
import type { TeamworkDeskClient } from '../client.ts';
import type { TargetDirectory } from '../target-directory.ts';
import type { TargetMessage, TargetTicket } from './compare.ts';

interface Ref { id: number; type?: string; meta?: { value?: unknown } }
interface WireCustomer { id: number; email?: string | null; contacts?: Ref[]; companies?: Ref[] }
interface WireTicket {
  id: number; subject: string; customer: Ref; agent?: Ref | null; inbox?: Ref | null; status?: Ref | null;
  tags?: Ref[]; customfields?: Ref[];
}
interface WireMessage { id: number; threadType: string; createdAt: string; createdBy?: Ref | null; htmlBody?: string; message?: string; files?: Ref[] }
interface WireFile { id: number; fileName?: string; filename?: string; size?: number }
type Included = Record<string, { id: number; [k: string]: unknown }[]>;

/**
 * Reads one ticket back through the documented v2 API only (never the sandbox's admin surface),
 * spending the shared rate budget like every other call: the ticket with its customer and tags
 * side-loaded, its messages (paged), customers who wrote messages, and — when asked — every
 * file's bytes, hashed.
 */
export class TargetReader {
  private readonly customers = new Map<number, WireCustomer>();
  private readonly agentEmails = new Map<number, string>();

  constructor(private readonly client: TeamworkDeskClient, directory: TargetDirectory) {
    for (const u of directory.agentsByEmail.values()) if (u.email) this.agentEmails.set(u.id, u.email.toLowerCase());
  }

  /** null: the ticket is not in the target (404). */
  async ticket(id: string, opts: { files: boolean }): Promise<TargetTicket | null> {
    const { client } = this;
    let body: { ticket: WireTicket; included?: Included };
    try {
      body = await client.request('GET', `${client.v2}/tickets/${id}.json`, { query: { includes: 'customers,tags' } });
    } catch (err) {
      if (err instanceof TargetHttpError && err.status === 404) return null;
      throw err;
    }
    const t = body.ticket;
    const included = body.included ?? {};
    for (const c of (included.customers ?? []) as unknown as WireCustomer[]) this.customers.set(c.id, c);
    const tagNames = new Map((included.tags ?? []).map((x) => [x.id, String(x.name ?? '')]));
    const customer = await this.customer(t.customer.id);
    const messages: TargetMessage[] = [];
    for (const m of await this.messages(t.id)) {
      messages.push({
        id: m.msg.id, type: m.msg.threadType, createdAt: m.msg.createdAt, body: m.msg.htmlBody ?? m.msg.message ?? '',
        authorEmail: await this.authorEmail(m.msg.createdBy ?? null),
        files: opts.files ? await this.files(t.id, m.msg.files ?? [], m.files) : [],
      });
    }
    return {
      id: t.id, subject: t.subject,
      customer: { id: customer.id, email: await this.customerEmail(customer), companyIds: (customer.companies ?? []).map((c) => String(c.id)) },
      assigneeEmail: t.agent ? this.agentEmails.get(t.agent.id) ?? `(user ${t.agent.id})` : null,
      inboxId: t.inbox?.id ?? null,
      statusId: t.status?.id ?? null,
      tags: (t.tags ?? []).map((r) => tagNames.get(r.id) ?? `(tag ${r.id})`),
      customFields: (t.customfields ?? []).map((f) => ({ id: f.id, value: f.meta?.value ?? null })),
      messages,
    };
  }

  /** Every message of a ticket in creation order, with their files side-loaded. */
  private async messages(ticketId: number): Promise<{ msg: WireMessage; files: Map<number, WireFile> }[]> {
    const { client } = this;
    const out: { msg: WireMessage; files: Map<number, WireFile> }[] = [];
    for (let page = 1; ; page++) {
      const body = await client.request<{ messages?: WireMessage[]; included?: Included; meta?: { page?: { hasMore?: boolean } }; pagination?: { hasMorePages?: boolean } }>(
        'GET', `${client.v2}/tickets/${ticketId}/messages.json`,
        { query: { page, pageSize: 100, orderBy: 'id', orderMode: 'asc', includes: 'files' } },
      );
      const files = new Map(((body?.included?.files ?? []) as unknown as WireFile[]).map((f) => [f.id, f]));
      const items = body?.messages ?? [];
      for (const msg of items) out.push({ msg, files });
      const more = body?.meta?.page?.hasMore ?? body?.pagination?.hasMorePages ?? items.length === 100;
      if (!more || items.length === 0) return out;
    }
  }

  private async customer(id: number): Promise<WireCustomer> {
    const known = this.customers.get(id);
    if (known) return known;
    const { client } = this;
    const body = await client.request<{ customer: WireCustomer; included?: Included }>('GET', `${client.v2}/customers/${id}.json`, { query: { includes: 'contacts' } });
    const c = { ...body.customer };
    // Where the customer carries no email field, its main email contact says it.
    if (!c.email) {
      const contacts = (body.included?.contacts ?? []) as { id: number; value?: string; type?: string; isMain?: boolean }[];
      const main = contacts.find((x) => x.type === 'email' && x.isMain) ?? contacts.find((x) => x.type === 'email');
      c.email = main?.value ?? null;
    }
    this.customers.set(id, c);
    return c;
  }

  private async customerEmail(c: WireCustomer): Promise<string | null> {
    if (c.email) return c.email.toLowerCase();
    this.customers.delete(c.id);
    return (await this.customer(c.id)).email?.toLowerCase() ?? null;
  }

  private async authorEmail(by: Ref | null): Promise<string | null> {
    if (!by) return null;
    if (by.type === 'users' || by.type === 'user') return this.agentEmails.get(by.id) ?? `(user ${by.id})`;
    if (by.type === 'customers' || by.type === 'customer') return this.customerEmail(await this.customer(by.id));
    return `(${by.type ?? 'unknown'} ${by.id})`;
  }

  /** Downloads each file back and hashes it (R7: byte-identical, proven on both sides). */
  private async files(ticketId: number, refs: Ref[], side: Map<number, WireFile>): Promise<TargetMessage['files']> {
    const { client } = this;
    const out: TargetMessage['files'] = [];
    for (const r of refs) {
      const f = side.get(r.id) ?? (await client.request<{ file: WireFile }>('GET', `${client.v2}/files/${r.id}.json`)).file;
      const bytes = await client.request<Buffer>('GET', `${client.v2}/tickets/${ticketId}/files/${r.id}/download`, { raw: true });
      out.push({ id: r.id, fileName: f.fileName ?? f.filename ?? '', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    return out;
  }
}
