import { hashPassword } from '../core/password.js';
import { updatePasswordHash } from '../store/users.js';
import { checkNewPassword, confirmPassword } from './accounts.js';
import type { Context, RequestMeta } from './context.js';
import { endEverySession } from './end-sessions.js';
import { logEvent } from './security-log.js';

/**
 * A new password ends every other session and every trusted device: whoever knew the old password
 * must not keep a way in.
 */
export async function changePassword(
  ctx: Context,
  session: { id: string; userId: string },
  input: { currentPassword: string; newPassword: string },
  meta: RequestMeta,
): Promise<void> {
  const user = await confirmPassword(ctx, session.userId, input.currentPassword, meta, 'password_change');
  checkNewPassword(input.newPassword);
  const hash = await hashPassword(input.newPassword);
  // The new hash and the new generation in one transaction: no login can read the new hash with
  // the old generation, nor keep a session granted on the old one.
  await endEverySession(ctx, user.id, meta, {
    because: 'password_changed',
    keep: session.id,
    before: (tx) => updatePasswordHash(tx, user.id, hash, ctx.clock.now()),
  });
  await logEvent(ctx, user.id, 'password_changed', meta);
}
