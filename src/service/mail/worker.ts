import { afterFailure, LEASE_MS } from '../../core/mail-outbox.js';
import { randomId } from '../../core/random.js';
import { claimMessage, findDueMessageIds, markFailed, markRetry, markSent, releaseMessage, type ClaimedMessage } from '../../store/outbox.js';
import type { Store } from '../../store/db.js';
import type { Context } from '../context.js';
import { onCommit } from '../transaction.js';
import { openContent } from './outbox.js';
import type { MailTransport } from './transport.js';

export interface WorkerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface MailWorkerOptions {
  /** How often the outbox is looked at when nothing nudges the worker (default 5 s). */
  pollMs?: number;
  /** Messages taken per look (default 20). */
  batch?: number;
  log?: WorkerLog;
  /** false: no timer and no nudges; the owner calls runOnce() (tests that step a manual clock). */
  autoStart?: boolean;
}

const quiet: WorkerLog = { info: () => {}, warn: () => {} };

/** Workers by store, so a committed transaction can nudge the worker of its own node. */
const workers = new WeakMap<Store, MailWorker>();
onCommit((ctx) => workers.get(ctx.store)?.kick());

/**
 * The delivery worker of one node. Progress never depends on this process's memory: due messages
 * are found by a query, each is taken with a lease (one conditional UPDATE), so any node picks up
 * what another queued, and a crashed node's lease simply runs out. The timer is only how often this
 * node looks; a commit on this node also nudges it, so a message usually leaves at once.
 */
export class MailWorker {
  readonly owner: string;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private stopping = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly log: WorkerLog;

  constructor(
    private readonly ctx: Context,
    private readonly transport: MailTransport,
    opts: MailWorkerOptions = {},
  ) {
    this.owner = randomId(ctx.random);
    this.pollMs = opts.pollMs ?? 5_000;
    this.batch = opts.batch ?? 20;
    this.log = opts.log ?? quiet;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    workers.set(this.ctx.store, this);
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Look at the outbox soon; several nudges while a look runs make one more look. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.runOnce();
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'mail outbox look failed');
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = null;
    });
  }

  /** One pass: claim what is due, send it, until nothing due is left. Returns how many were tried. */
  async runOnce(): Promise<number> {
    let tried = 0;
    for (;;) {
      const now = this.ctx.clock.now();
      const ids = await findDueMessageIds(this.ctx.db, now, this.batch);
      let claimedAny = false;
      for (const id of ids) {
        if (this.stopping) return tried;
        const msg = await claimMessage(this.ctx.db, id, this.owner, now, now + LEASE_MS);
        if (!msg) continue; // another node took it
        claimedAny = true;
        tried++;
        const p = this.deliver(msg);
        this.inFlight.set(msg.id, p);
        try {
          await p;
        } finally {
          this.inFlight.delete(msg.id);
        }
      }
      if (!claimedAny || ids.length < this.batch) return tried;
    }
    return tried;
  }

  private async deliver(msg: ClaimedMessage): Promise<void> {
    const started = this.ctx.clock.now();
    try {
      const content = openContent(this.ctx, msg.id, msg.contentEnc);
      await this.transport.send({ id: msg.id, to: msg.to, ...content });
    } catch (err) {
      const e = err as Error & { code?: string; responseCode?: number };
      const next = afterFailure({ attempts: msg.attempts, createdAt: msg.createdAt }, this.ctx.clock.now());
      const reason = [e.code, e.responseCode, e.message].filter((x) => x !== undefined && x !== '').join(' ');
      if (next.state === 'failed') {
        await markFailed(this.ctx.db, msg.id, this.owner, next.attempts, reason);
        this.log.warn({ mailId: msg.id, kind: msg.kind, attempts: next.attempts, reason: e.code ?? e.responseCode }, 'mail failed for good after 3 days of retries');
      } else {
        await markRetry(this.ctx.db, msg.id, this.owner, next.attempts, next.nextAttemptAt, reason);
        this.log.warn({ mailId: msg.id, kind: msg.kind, attempts: next.attempts, retryAt: new Date(next.nextAttemptAt).toISOString(), reason: e.code ?? e.responseCode }, 'mail not sent; will retry');
      }
      return;
    }
    const sentAt = this.ctx.clock.now();
    await markSent(this.ctx.db, msg.id, this.owner, sentAt);
    this.log.info({ mailId: msg.id, kind: msg.kind, waitedMs: sentAt - msg.createdAt, sendMs: sentAt - started }, 'mail sent');
  }

  /**
   * SIGTERM: take nothing new; a send under way gets `graceMs` to finish, else its message goes
   * back to the queue at once (rather than waiting for the lease to run out).
   */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.stopped) {
      this.transport.close();
      return;
    }
    this.stopped = true;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (workers.get(this.ctx.store) === this) workers.delete(this.ctx.store);
    const pending = [...this.inFlight.entries()];
    if (pending.length > 0) {
      let timeout: NodeJS.Timeout | undefined;
      const expired = new Promise<'timeout'>((r) => {
        timeout = setTimeout(() => r('timeout'), graceMs);
      });
      const done = Promise.allSettled(pending.map(([, p]) => p)).then(() => 'done' as const);
      const outcome = await Promise.race([done, expired]);
      clearTimeout(timeout);
      if (outcome === 'timeout') {
        for (const [id] of pending) if (this.inFlight.has(id)) await releaseMessage(this.ctx.db, id, this.owner).catch(() => {});
        this.transport.close();
        return;
      }
    }
    await this.running?.catch(() => {});
    this.transport.close();
  }

  /** Sends currently in progress (for tests and shutdown). */
  get busy(): number {
    return this.inFlight.size;
  }
}
