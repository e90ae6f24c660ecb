import type { Context } from './context.js';

type AfterCommit = (ctx: Context) => void;
const afterCommitHooks: AfterCommit[] = [];
/**
 * The transactions (by their Kysely transaction object) that asked for the hooks. Most commit
 * nothing a hook cares about, and a nudge of the mail worker costs it a look at the outbox: a
 * second-factor login, one transaction, would otherwise add that query to every login.
 */
const wanting = new WeakSet<object>();

/** Something to do once a transaction that asked for it (wantCommitHooks) has committed: the mail worker's nudge. */
export function onCommit(hook: AfterCommit): void {
  afterCommitHooks.push(hook);
}

/** Asks for the after-commit hooks once the transaction `ctx` is in commits (the outbox does, when it queues a message). */
export function wantCommitHooks(ctx: Context): void {
  if (ctx.db.isTransaction) wanting.add(ctx.db);
}

/**
 * Runs `fn` with a context whose `db` is one transaction: everything it writes (the change, its
 * security-log entry, the mail it causes) commits together or not at all. Inside a transaction
 * already, it joins it. On SQLite the one connection is held until commit, so `fn` must do no slow
 * work (hash passwords before) and must use only the context it is given.
 */
export async function inTransaction<T>(ctx: Context, fn: (t: Context) => Promise<T>): Promise<T> {
  if (ctx.db.isTransaction) return fn(ctx);
  let trx: object | undefined;
  const result = await ctx.db.transaction().execute((tx) => {
    trx = tx;
    return fn({ ...ctx, db: tx });
  });
  if (trx && wanting.has(trx)) for (const hook of afterCommitHooks) hook(ctx);
  return result;
}
