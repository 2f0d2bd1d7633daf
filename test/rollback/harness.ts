/** Shared by the rollback tests: the CLI as a process, and the sandbox's live content read back. */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'undici';
import { entities, type SandboxMessage } from '../sandbox-readback.ts';

export const KEY = 'rollback-test-key';

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Starts `deskport <args>` the way an operator runs it; `done` resolves when it exits. */
export function startCli(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/cli.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b) => { stdout += b; });
  child.stderr!.on('data', (b) => { stderr += b; });
  const done = new Promise<CliResult>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

export function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return startCli(args, env).done;
}

interface Live { id: number; state: string }
interface Ticket extends Live { subject: string; customer: { id: number }; status: { id: number }; _sandbox?: { importId?: number; importSource?: string } }

/**
 * Everything live (state "active") in the sandbox, read through its admin surface: users,
 * customers with their emails, companies, tickets with their messages. Deleted records are left
 * out, as the v2 API leaves them out.
 */
export async function liveContent(url: string) {
  const live = async <T extends Live>(kind: string) => (await entities<T>(url, kind)).filter((x) => x.state === 'active');
  const contacts = await live<Live & { customer?: { id: number }; value: string; contactType: string }>('contacts');
  const emailOf = new Map<number, string>();
  for (const c of contacts) if (c.contactType === 'email' && c.customer) emailOf.set(c.customer.id, c.value.toLowerCase());
  const messages = await live<Live & SandboxMessage>('messages');
  const perTicket = new Map<number, string[]>();
  for (const m of messages) perTicket.set(m.ticket.id, [...(perTicket.get(m.ticket.id) ?? []), `${m.threadType}:${m.createdAt}:${m.htmlBody.length}`]);
  const tickets = await live<Ticket>('tickets');
  return {
    users: (await live<Live & { email: string }>('users')).map((u) => `${u.id}:${u.email}`).sort(),
    customers: (await live<Live>('customers')).map((c) => `${c.id}:${emailOf.get(c.id) ?? '?'}`).sort(),
    companies: (await live<Live & { name: string }>('companies')).map((c) => `${c.id}:${c.name}`).sort(),
    tickets: tickets.map((t) => ({
      source: t._sandbox?.importId, subject: t.subject, customer: emailOf.get(t.customer.id), status: t.status.id,
      messages: (perTicket.get(t.id) ?? []).sort(),
    })).sort((a, b) => Number(a.source) - Number(b.source)),
    importSources: [...new Set(tickets.map((t) => t._sandbox?.importSource))].sort(),
    messages: messages.length,
    // Made by the import by name and not deleted by a rollback (which cannot tell them from the site's own).
    leftovers: {
      tags: (await live<Live & { name: string }>('tags')).map((t) => t.name.toLowerCase()).sort(),
      ticketSources: (await live<Live & { name: string }>('ticketsources')).map((t) => t.name).sort(),
    },
  };
}

/** The same content without target ids: two loads of the same records compare equal on it. */
export function withoutIds(c: Awaited<ReturnType<typeof liveContent>>) {
  const strip = (s: string) => s.replace(/^\d+:/, '');
  return { ...c, users: c.users.map(strip).sort(), customers: c.customers.map(strip).sort(), companies: c.companies.map(strip).sort(), importSources: [], leftovers: null };
}

/** Creates a customer through the v2 API, as someone using the site would have. */
export async function createCustomer(url: string, email: string, firstName: string): Promise<number> {
  const res = await request(`${url}/desk/api/v2/customers.json`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${KEY}:x`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ customer: { firstName, lastName: 'Existing' }, included: { contacts: [{ value: email, type: 'email', isMain: true }] } }),
  });
  const body = (await res.body.json()) as { customer: { id: number } };
  if (res.statusCode >= 300) throw new Error(`customer create answered ${res.statusCode}: ${JSON.stringify(body)}`);
  return body.customer.id;
}
