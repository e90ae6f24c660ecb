import type { Context, RequestMeta } from '../context.js';
import type { AdminAction } from './actions.js';

/**
 * Tells the person by email what an administrator did to the account. The mail outbox comes from
 * the email issue; until it is merged, nothing is sent.
 */
export async function notifyAdminAction(_ctx: Context, _user: { userId: string; email: string }, _action: AdminAction, _meta: RequestMeta): Promise<void> {}
