import type { Transaction } from 'kysely';
import { endEverySession as advanceGeneration } from '../store/credential-generation.js';
import type { Database } from '../store/schema.js';
import type { Context, RequestMeta } from './context.js';
import { logEvent } from './security-log.js';

/**
 * The one way to end every session and every trusted device of an account (password change or
 * reset, disable, operator actions): one write that no login racing with it outlives (see
 * store/credential-generation.ts). `keep` is the session making the change, which stays signed in;
 * `before` runs in the same transaction first (for example storing the new password hash).
 */
export async function endEverySession(
  ctx: Context,
  userId: string,
  meta: RequestMeta,
  opts: { because: string; keep?: string | undefined; before?: ((tx: Transaction<Database>) => Promise<void>) | undefined },
): Promise<{ sessions: number; devices: number }> {
  const ended = await advanceGeneration(ctx.db, userId, { keep: opts.keep, before: opts.before });
  if (ended.devices > 0) await logEvent(ctx, userId, 'trusted_devices_revoked', meta, { count: ended.devices, because: opts.because });
  return { sessions: ended.sessions, devices: ended.devices };
}
