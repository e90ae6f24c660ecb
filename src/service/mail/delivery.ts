import { GIVE_UP_AFTER_MS } from '../../core/mail-outbox.js';
import { deleteExpiredTokens } from '../../store/email-tokens.js';
import { countByState, deleteFinishedBefore } from '../../store/outbox.js';
import type { Context } from '../context.js';
import { inTransaction } from '../transaction.js';
import { enqueueMail } from './outbox.js';
import { siteOf } from './notify.js';
import { testMessage } from './templates.js';
import { createMailTransport, type MailTransport } from './transport.js';
import { MailWorker, type MailWorkerOptions } from './worker.js';

/** Starts this node's delivery worker with the configured transport (SMTP or .eml files). */
export function startMailDelivery(ctx: Context, opts: MailWorkerOptions & { transport?: MailTransport } = {}): MailWorker {
  const transport = opts.transport ?? createMailTransport(ctx.config);
  const worker = new MailWorker(ctx, transport, opts);
  opts.log?.info({ mail: transport.description }, 'mail delivery started');
  if (opts.autoStart !== false) worker.start();
  return worker;
}

/** `twofold mail test --to E`: queues a test message and delivers it now, through the outbox. */
export async function sendTestMail(ctx: Context, to: string): Promise<{ id: string; state: string; error: string | null; via: string }> {
  const transport = createMailTransport(ctx.config);
  const id = await inTransaction(ctx, (t) => enqueueMail(t, { userId: null, kind: 'test', to, content: testMessage(siteOf(t), { at: t.clock.now() }) }));
  const worker = new MailWorker(ctx, transport);
  await worker.runOnce();
  transport.close();
  const row = await ctx.db.selectFrom('mail_outbox').select(['state', 'last_error']).where('id', '=', id).executeTakeFirstOrThrow();
  return { id, state: row.state, error: row.last_error, via: transport.description };
}

export async function mailStatus(ctx: Context) {
  return { ...(await countByState(ctx.db)), via: createMailTransport(ctx.config).description };
}

/** Housekeeping: dead link tokens, and finished messages once nothing can be retried about them. */
export async function deleteOldMailRows(ctx: Context): Promise<void> {
  const now = ctx.clock.now();
  await deleteExpiredTokens(ctx.db, now);
  await deleteFinishedBefore(ctx.db, now - 2 * GIVE_UP_AFTER_MS);
}
