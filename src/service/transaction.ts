import type { Context } from './context.js';

type AfterCommit = (ctx: Context) => void;
const afterCommitHooks: AfterCommit[] = [];

/** Something to do once any transaction has committed (the mail worker's nudge). */
export function onCommit(hook: AfterCommit): void {
  afterCommitHooks.push(hook);
}

/**
 * Runs `fn` with a context whose `db` is one transaction: everything it writes (the change, its
 * security-log entry, the mail it causes) commits together or not at all. Inside a transaction
 * already, it joins it. On SQLite the one connection is held until commit, so `fn` must do no slow
 * work (hash passwords before) and must use only the context it is given.
 */
export async function inTransaction<T>(ctx: Context, fn: (t: Context) => Promise<T>): Promise<T> {
  if (ctx.db.isTransaction) return fn(ctx);
  const result = await ctx.db.transaction().execute((trx) => fn({ ...ctx, db: trx }));
  for (const hook of afterCommitHooks) hook(ctx);
  return result;
}
