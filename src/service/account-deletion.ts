import { deleteMailOf, deleteUser } from '../store/account-admin.js';
import { inTransaction } from './transaction.js';
import { confirmPassword } from './accounts.js';
import type { Context, RequestMeta } from './context.js';
import { notFound } from './errors.js';

/**
 * DELETE /me: the person's own account, with the password again (and a fresh session, checked by
 * the caller). Every row of the account's data goes with it (ON DELETE CASCADE), sessions included.
 */
export async function deleteMyAccount(ctx: Context, userId: string, password: string, meta: RequestMeta): Promise<void> {
  await confirmPassword(ctx, userId, password, meta, 'delete_account');
  await inTransaction(ctx, async (t) => {
    await deleteMailOf(t.db, userId);
    if (!(await deleteUser(t.db, userId))) throw notFound('The account');
  });
}
