import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Transporter } from 'nodemailer';
import type { Config } from '../../config.js';

export interface OutgoingMail {
  /** The outbox id: the Message-ID, so a receiving server can see a resend is the same message. */
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface MailTransport {
  /** Where messages go, for logs and `mail status` (never the SMTP password). */
  readonly description: string;
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

function describeSmtp(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}${u.port ? ':' + u.port : ''}`;
  } catch {
    return 'smtp';
  }
}

/**
 * nodemailer is loaded with the first message, not at start: its few megabytes of code are idle
 * memory on a service that may send a message a day.
 */
function lazyTransporter(create: (nm: typeof import('nodemailer').default) => Transporter): { get(): Promise<Transporter>; close(): void } {
  let made: Promise<Transporter> | undefined;
  let closed = false;
  return {
    get: () => (made ??= import('nodemailer').then((m) => create(m.default))),
    close() {
      if (closed) return;
      closed = true;
      void made?.then((t) => t.close()).catch(() => {});
    },
  };
}

/**
 * SMTP through nodemailer when TWOFOLD_SMTP_URL is set (STARTTLS when the server offers it;
 * smtps:// for TLS from the start); otherwise each message becomes an .eml file in
 * TWOFOLD_MAIL_DIR, readable only by the service's user (the links in it are secrets).
 */
export function createMailTransport(config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'mailDir' | 'publicUrl'>): MailTransport {
  const host = config.publicUrl.hostname;
  const envelope = (m: OutgoingMail) => ({
    from: config.mailFrom,
    to: m.to,
    subject: m.subject,
    text: m.text,
    html: m.html,
    messageId: `<${m.id}@${host}>`,
    headers: { 'Auto-Submitted': 'auto-generated' },
  });

  if (config.smtpUrl) {
    const smtpUrl = config.smtpUrl;
    const transporter = lazyTransporter((nodemailer) =>
      nodemailer.createTransport(smtpUrl, {
        // Bounded waits: a hung server must not hold a lease for long (LEASE_MS is far above these).
        connectionTimeout: 15_000,
        greetingTimeout: 15_000,
        socketTimeout: 30_000,
      } as Record<string, unknown>),
    );
    return {
      description: describeSmtp(config.smtpUrl),
      async send(m) {
        await (await transporter.get()).sendMail(envelope(m));
      },
      close: () => transporter.close(),
    };
  }

  const dir = resolve(config.mailDir);
  const transporter = lazyTransporter((nodemailer) => nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' }));
  return {
    description: `files in ${dir}`,
    async send(m) {
      const info = (await (await transporter.get()).sendMail(envelope(m))) as { message: Buffer };
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${m.id}.eml`;
      const tmp = join(dir, `.${name}.tmp`);
      // Written whole, then renamed: a reader never sees half a message.
      writeFileSync(tmp, info.message, { mode: 0o600 });
      renameSync(tmp, join(dir, name));
    },
    close: () => transporter.close(),
  };
}
