import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { freePort } from './ports.js';

export interface ReceivedMail {
  parsed: ParsedMail;
  to: string[];
  raw: string;
  /** Date.now() when the message was fully received. */
  at: number;
}

/**
 * A real SMTP server on a loopback port (the `smtp-server` package), collecting what it receives,
 * parsed with `mailparser`. It can be stopped and started again on the same port, to play a mail
 * server that is down and comes back.
 */
export class TestSmtp {
  readonly received: ReceivedMail[] = [];
  private server: SMTPServer | null = null;
  private waiters: { n: number; resolve: () => void }[] = [];
  constructor(readonly port: number) {}

  static async start(): Promise<TestSmtp> {
    const s = new TestSmtp(await freePort());
    await s.up();
    return s;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      // No reverse DNS of 127.0.0.1: it only adds delay to every message.
      disableReverseLookup: true,
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw).then(
            (parsed) => {
              this.received.push({ parsed, to: session.envelope.rcptTo.map((r) => r.address), raw: raw.toString('utf8'), at: Date.now() });
              this.waiters = this.waiters.filter((w) => {
                if (this.received.length >= w.n) w.resolve();
                return this.received.length < w.n;
              });
              callback();
            },
            (err: Error) => callback(err),
          );
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async down(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Resolves once `n` messages in all have arrived (or rejects after `ms`). */
  waitFor(n: number, ms = 15_000): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`waited ${ms} ms for ${n} messages, got ${this.received.length}`)), ms);
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }

  /** Messages to `address`, oldest first. */
  to(address: string): ReceivedMail[] {
    return this.received.filter((m) => m.to.some((t) => t.toLowerCase() === address.toLowerCase()));
  }

  /** The first link to `path` in a message's text part, as a path with its query. */
  static link(mail: ReceivedMail, path: string): string {
    const m = new RegExp(`https?://[^\\s/]+(${path.replace(/[/.]/g, '\\$&')}\\?token=[A-Za-z0-9_%-]+)`).exec(mail.parsed.text ?? '');
    if (!m) throw new Error(`no ${path} link in: ${mail.parsed.text}`);
    return m[1]!;
  }

  static token(mail: ReceivedMail, path: string): string {
    return decodeURIComponent(TestSmtp.link(mail, path).split('token=')[1]!);
  }
}
