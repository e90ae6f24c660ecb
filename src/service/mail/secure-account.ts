import { tokenProblem } from '../../core/email-token.js';
import { hashToken, isTokenShaped } from '../../core/token.js';
import { clearAttempts } from '../../store/attempts.js';
import { consumeEmailToken, findEmailToken, type EmailToken } from '../../store/email-tokens.js';
import { deleteRecoveryCodes } from '../../store/recovery-codes.js';
import { endEverySession } from '../end-sessions.js';
import { deleteTotp } from '../../store/totp.js';
import { isTwoFactorEnabled, twoFactorStatus } from '../../store/two-factor-status.js';
import { setPasswordResetRequired } from '../../store/users.js';
import type { Context, RequestMeta } from '../context.js';
import { logEvent } from '../security-log.js';
import { inTransaction } from '../transaction.js';
import { invalidToken } from './email-address.js';
import { notify } from './notify.js';

/*
 * "This wasn't me" (SPEC §7): the link of a security notice, single use, 7 days, bound to the
 * account and the event. It ends every session, revokes every trusted device, removes the factor the
 * notice announced as added, and makes the next login go through a password reset.
 */

export async function findSecureLink(ctx: Context, token: string): Promise<EmailToken> {
  if (!isTokenShaped(token)) throw invalidToken();
  const found = await findEmailToken(ctx.db, hashToken(token), ['secure_account']);
  if (!found || tokenProblem(found, ctx.clock.now())) throw invalidToken();
  return found;
}

export interface Secured {
  userId: string;
  removed: string | null;
}

export async function secureAccount(ctx: Context, token: string, meta: RequestMeta): Promise<Secured> {
  const link = await findSecureLink(ctx, token);
  const userId = link.userId;
  return inTransaction(ctx, async (t) => {
    const now = t.clock.now();
    if (!(await consumeEmailToken(t.db, link.id, now))) throw invalidToken();
    let removed: string | null = null;
    const detail = link.detail ?? {};
    if (detail.factor === 'totp') {
      await deleteTotp(t.db, userId);
      removed = 'authenticator_app';
    } else if (detail.factor === 'security_key' && detail.name) {
      const r = await t.db
        .deleteFrom('security_keys')
        .where('user_id', '=', userId)
        .where((eb) => eb(eb.fn('lower', ['name']), '=', detail.name!.toLowerCase()))
        .executeTakeFirst();
      if (Number(r.numDeletedRows) > 0) removed = 'security_key';
    }
    if (removed && !isTwoFactorEnabled(await twoFactorStatus(t.db, userId))) {
      // The factor removed was the last one: what only 2FA needs goes too, as on Disable.
      await deleteRecoveryCodes(t.db, userId);
      await clearAttempts(t.db, userId);
    }
    const { devices } = await endEverySession(t, userId, meta, { because: 'account_secured' });
    await setPasswordResetRequired(t.db, userId, now);
    await logEvent(t, userId, 'account_secured', meta, {
      ...(link.eventId ? { event: link.eventId } : {}),
      ...(detail.kind ? { notice: detail.kind } : {}),
      ...(removed ? { removed } : {}),
      devicesRevoked: devices,
    });
    await notify(t, { userId, kind: 'account_secured', meta });
    return { userId, removed };
  });
}
