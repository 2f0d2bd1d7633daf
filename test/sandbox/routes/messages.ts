// Replies and notes: POST /tickets/{id}/messages.json with a flat body. A public reply
// (threadType "message") is always emailed to the customer: recorded in the emails log.

import type { Router } from '../http.ts';
import type { Message } from '../model.ts';
import { ref } from '../store.ts';
import { addMessage, checkFiles, checkMessageBody, checkRecipients, recordEmail } from '../threads.ts';
import { Errors, V2, actorRef, baseView, bool, flat, isEmail, list, mustGet, readRef, readRefs, single, str, strings } from './common.ts';
import type { Deps } from './common.ts';

export function registerMessages(r: Router, deps: Deps): void {
  const { store, config } = deps;
  const o = { family: 'messages' };
  const spec = {
    kind: 'messages' as const, key: 'messages', filterKeys: ['id', 'ticket.id', 'threadType', 'createdAt', 'updatedAt'],
    view: (m: Message) => ({ ...baseView(m), 'ticket.id': m.ticket.id, threadType: m.threadType }),
  };
  r.add('GET', `${V2}/messages.json`, 'v2', o, (ctx) => list(deps, ctx, spec));
  r.add('GET', `${V2}/messages/:id.json`, 'v2', o, (ctx) => single(store, 'message', 'messages', mustGet(store, 'messages', ctx.params.id), ctx));
  r.add('GET', `${V2}/tickets/:ticketId/messages.json`, 'v2', o, (ctx) => {
    const t = mustGet(store, 'tickets', ctx.params.ticketId, 'ticket');
    return list(deps, ctx, { ...spec, where: (m) => m.ticket.id === t.id });
  });
  r.add('POST', `${V2}/tickets/:ticketId/messages.json`, 'v2', o, (ctx) => {
    const ticket = mustGet(store, 'tickets', ctx.params.ticketId, 'ticket');
    const body = flat(ctx.body);
    const errs = new Errors();
    const message = str(errs, body, 'message', 'message', true);
    if (message !== undefined) checkMessageBody(errs, message, 'message');
    const threadType = body.threadType;
    if (threadType === undefined) errs.required('threadType');
    else if (threadType !== 'message' && threadType !== 'note') errs.add('threadType', 'must be "message" or "note"');
    const editMethod = str(errs, body, 'editMethod', 'editMethod') ?? 'html';
    if (editMethod !== 'html' && editMethod !== 'markdown') errs.add('editMethod', 'must be "html" or "markdown"');
    const cc = strings(errs, body, 'cc', 'cc') ?? [];
    const bcc = strings(errs, body, 'bcc', 'bcc') ?? [];
    checkRecipients(errs, cc, bcc, '', isEmail);
    const files = readRefs(store, errs, body.files, 'files', 'files') ?? [];
    checkFiles(store, errs, files.map((f) => f.id), 'files', config.requireFileConfirm);
    const statusId = readRef(store, errs, body.status, 'ticketstatuses', 'status');
    const agentId = readRef(store, errs, body.agent, 'users', 'agent');
    const isDraft = bool(errs, body, 'isDraft', 'isDraft') ?? false;
    const isPinned = bool(errs, body, 'isPinned', 'isPinned') ?? false;
    errs.throwIfAny();

    const actor = actorRef(ctx);
    const msg = addMessage(store, {
      ticket, threadType: threadType as 'message' | 'note', body: message!, editMethod, cc, bcc,
      fileIds: files.map((f) => f.id), author: actor, isDraft, isPinned,
      status: statusId !== undefined ? ref('ticketstatuses', statusId) : null,
    }, actor);
    const patch: Record<string, unknown> = {};
    if (statusId !== undefined) patch.status = ref('ticketstatuses', statusId);
    if (agentId !== undefined) patch.agent = ref('users', agentId);
    if (Object.keys(patch).length) store.update('tickets', ticket.id, patch, actor);
    if (threadType === 'message' && !isDraft) {
      const customer = store.raw('customers', ticket.customer.id);
      recordEmail(store, { reason: 'reply', ticketId: ticket.id, messageId: msg.id, to: customer ? [customer.email] : [], cc, bcc });
    }
    return single(store, 'message', 'messages', msg, null, 201, true);
  });
}
