/** Reads the sandbox back through its admin surface, as verification would. */
import { request } from 'undici';

export interface SandboxTicket { id: number; subject: string; customer: { id: number }; status: { id: number }; messages: { id: number }[]; tags: { id: number }[]; createdAt: string; _sandbox?: { importId?: number } }
export interface SandboxMessage { id: number; ticket: { id: number }; threadType: string; htmlBody: string; createdAt: string; createdBy: { id: number; type: string } | null }

export async function entities<T>(baseUrl: string, kind: string): Promise<T[]> {
  const res = await request(`${baseUrl}/_sandbox/entities/${kind}`);
  if (res.statusCode !== 200) throw new Error(`sandbox /_sandbox/entities/${kind} answered ${res.statusCode}`);
  const body = (await res.body.json()) as Record<string, T[]>;
  return body[kind]!;
}

export async function emailsSent(baseUrl: string): Promise<number> {
  const res = await request(`${baseUrl}/_sandbox/emails`);
  return ((await res.body.json()) as { count: number }).count;
}

/** Customer id → main email, from the sandbox's contacts. */
export async function customerEmails(baseUrl: string): Promise<Map<number, string>> {
  const contacts = await entities<{ customer?: { id: number }; value: string; contactType: string; isMain?: boolean }>(baseUrl, 'contacts');
  const out = new Map<number, string>();
  for (const c of contacts) if (c.contactType === 'email' && c.customer && (c.isMain || !out.has(c.customer.id))) out.set(c.customer.id, c.value.toLowerCase());
  return out;
}

/**
 * The target's content as a comparable value: tickets by source id with subject, customer,
 * status and their messages (type and date), customers and companies. Two loads that should
 * have the same outcome compare equal on it.
 */
export async function targetContent(url: string) {
  const tickets = await entities<SandboxTicket>(url, 'tickets');
  const messages = await entities<SandboxMessage>(url, 'messages');
  const emails = await customerEmails(url);
  const perTicket = new Map<number, string[]>();
  for (const m of messages) perTicket.set(m.ticket.id, [...(perTicket.get(m.ticket.id) ?? []), `${m.threadType}:${m.createdAt}`]);
  return {
    tickets: tickets.map((t) => ({ source: t._sandbox?.importId, subject: t.subject, customer: emails.get(t.customer.id), status: t.status.id, messages: perTicket.get(t.id)?.sort() }))
      .sort((a, b) => Number(a.source) - Number(b.source)),
    customers: [...emails.values()].sort(),
    companies: (await entities<{ name: string }>(url, 'companies')).map((c) => c.name).sort(),
  };
}
