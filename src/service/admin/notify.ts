import type { Context, RequestMeta } from '../context.js';
import { notify } from '../mail/notify.js';
import type { AdminAction } from './actions.js';

/** What the mail says the administrator did, completing "An administrator … changed your account: …". */
const WORDS: Record<AdminAction, string | null> = {
  lock: 'locked it; you cannot sign in until it is unlocked, and every session was signed out',
  unlock: 'unlocked it; you can sign in again',
  // The security log's admin_two_factor_reset event sends its own "two-factor authentication turned off" notice.
  reset_2fa: null,
  revoke_sessions: 'signed it out everywhere',
  set_groups: 'changed its groups',
  delete: 'deleted it, with everything of it',
  // The recovery's own "cancelled" message tells the person.
  cancel_recovery: null,
  approve_recovery: 'ended the waiting period of your account recovery; log in with your password to finish it',
};

/**
 * Tells the person by email what an administrator did (SPEC §9), through the mail outbox. Call it
 * with the transaction's context of the change, so the message is queued only if the change commits.
 */
export async function notifyAdminAction(ctx: Context, user: { userId: string }, action: AdminAction, meta: RequestMeta): Promise<void> {
  const words = WORDS[action];
  if (words) await notify(ctx, { userId: user.userId, kind: 'admin_action', meta, detail: { action: words } });
}
