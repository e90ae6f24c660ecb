import { randomId } from '../../core/random.js';
import { insertOutboxMessage } from '../../store/outbox.js';
import type { Context } from '../context.js';
import { wantCommitHooks } from '../transaction.js';
import type { Rendered } from './templates.js';

const contentContext = (id: string) => `mail:${id}`;

/**
 * Queues one message. Call it with the transaction of the event that causes the message, so the
 * message exists exactly when the event does. The content is sealed with TWOFOLD_SECRET: until it
 * is sent it holds link tokens.
 */
export async function enqueueMail(ctx: Context, m: { userId: string | null; kind: string; to: string; content: Rendered }): Promise<string> {
  const id = randomId(ctx.random);
  await insertOutboxMessage(ctx.db, {
    id,
    userId: m.userId,
    kind: m.kind,
    to: m.to,
    contentEnc: ctx.box.encrypt(JSON.stringify(m.content), contentContext(id)),
    createdAt: ctx.clock.now(),
  });
  // The node's delivery worker is nudged once the transaction commits (mail/worker.ts).
  wantCommitHooks(ctx);
  return id;
}

export function openContent(ctx: Context, id: string, sealed: string): Rendered {
  return JSON.parse(ctx.box.decrypt(sealed, contentContext(id))) as Rendered;
}
