import { hashPassword } from '../core/password.js';
import { deleteUserSessions } from '../store/sessions.js';
import { updatePasswordHash } from '../store/users.js';
import { checkNewPassword, confirmPassword } from './accounts.js';
import type { Context, RequestMeta } from './context.js';
import { logEvent } from './security-log.js';
import { revokeAllDevices } from './trusted-devices.js';

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
  await updatePasswordHash(ctx.db, user.id, await hashPassword(input.newPassword), ctx.clock.now());
  await deleteUserSessions(ctx.db, user.id, session.id);
  await revokeAllDevices(ctx, user.id, meta, 'password_changed');
  await logEvent(ctx, user.id, 'password_changed', meta);
}
