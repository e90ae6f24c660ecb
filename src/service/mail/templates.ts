import { describeUserAgent } from '../../core/user-agent.js';

/*
 * Every message Twofold sends, in one place (SPEC §7). Each has a text and an HTML part that say
 * the same. Rules that hold for all of them, and that the unit tests check:
 * - no code, password, secret or recovery code ever appears: only links carrying single-use tokens;
 * - security notices say what happened, when (UTC), from which IP and browser, what to do if it
 *   was not the person, and carry a "This wasn't me" link;
 * - text that came from people (key names, addresses, user agents) is escaped in the HTML part and
 *   kept to one line in both.
 */

export interface Site {
  issuer: string;
  /** PUBLIC_URL's origin: links point there. */
  origin: string;
}

export interface Rendered {
  subject: string;
  text: string;
  html: string;
}

/** Where and from what a security event came. */
export interface EventFacts {
  at: number;
  ip: string | null;
  userAgent: string | null;
}

/** The security notices: one per event kind SPEC §7 lists. */
export type NoticeKind =
  | 'two_factor_enabled'
  | 'two_factor_disabled'
  | 'authenticator_app_added'
  | 'authenticator_app_removed'
  | 'security_key_added'
  | 'security_key_removed'
  | 'passkey_added'
  | 'passkey_removed'
  | 'recovery_codes_viewed'
  | 'recovery_codes_regenerated'
  | 'recovery_code_used'
  | 'device_trusted'
  | 'password_changed'
  | 'password_reset'
  | 'email_changed'
  | 'lockout'
  | 'new_device_sign_in'
  | 'account_secured'
  | 'admin_action';

export const NOTICE_KINDS: readonly NoticeKind[] = [
  'two_factor_enabled',
  'two_factor_disabled',
  'authenticator_app_added',
  'authenticator_app_removed',
  'security_key_added',
  'security_key_removed',
  'passkey_added',
  'passkey_removed',
  'recovery_codes_viewed',
  'recovery_codes_regenerated',
  'recovery_code_used',
  'device_trusted',
  'password_changed',
  'password_reset',
  'email_changed',
  'lockout',
  'new_device_sign_in',
  'account_secured',
  'admin_action',
];

/** Facts a notice may mention; all optional, all non-secret. */
export interface NoticeDetail {
  /** A security key's or passkey's name (chosen by the person: escaped). */
  keyName?: string;
  /** Recovery codes left after one was used. */
  remaining?: number;
  /** For email_changed (sent to the old address). */
  newEmail?: string;
  /** For lockout: how long, in seconds. */
  retryAfterSeconds?: number;
  /** For two_factor_disabled: "operator" when an operator or administrator did it. */
  by?: string;
  /** For admin_action: what was done, in words chosen by the calling feature (escaped). */
  action?: string;
  /** For device_trusted and new_device_sign_in: the device's label. */
  device?: string;
}

export interface NoticeInput {
  kind: NoticeKind;
  email: string;
  event: EventFacts;
  detail: NoticeDetail;
  /** The "This wasn't me" link (absent only for account_secured, which is the answer to one). */
  secureUrl?: string | undefined;
}

// ---- escaping ----

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** People's text on one line, bounded: no header or paragraph can be forged with a newline. */
export function oneLine(s: string, max = 120): string {
  // eslint-disable-next-line no-control-regex
  const flat = s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

/** "2026-01-01 12:00 UTC": people read the zone, machines get the same instant everywhere. */
export function utc(at: number): string {
  const d = new Date(at);
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
}

// ---- the building blocks of a message ----

/** A message as parts: paragraphs of text, a button link, a table of facts; rendered twice. */
type Block =
  | { p: string }
  | { link: { label: string; url: string } }
  | { facts: [string, string][] }
  | { small: string };

function toText(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    if ('p' in b) out.push(b.p);
    else if ('small' in b) out.push(b.small);
    else if ('link' in b) out.push(`${b.link.label}:\n${b.link.url}`);
    else out.push(b.facts.map(([k, v]) => `${k}: ${v}`).join('\n'));
  }
  return out.join('\n\n') + '\n';
}

function toHtml(title: string, blocks: Block[], site: Site): string {
  const body = blocks
    .map((b) => {
      if ('p' in b) return `<p style="margin:0 0 16px">${escapeHtml(b.p)}</p>`;
      if ('small' in b) return `<p style="margin:0 0 16px;color:#555;font-size:13px">${escapeHtml(b.small)}</p>`;
      if ('link' in b) {
        const url = escapeHtml(b.link.url);
        return (
          `<p style="margin:0 0 16px"><a href="${url}" style="display:inline-block;padding:10px 18px;background:#1d4ed8;color:#fff;text-decoration:none;border-radius:6px">${escapeHtml(b.link.label)}</a></p>` +
          `<p style="margin:0 0 16px;color:#555;font-size:13px">Or open this address: <a href="${url}" style="color:#1d4ed8">${url}</a></p>`
        );
      }
      const rows = b.facts.map(([k, v]) => `<tr><th align="left" style="padding:2px 12px 2px 0;font-weight:600">${escapeHtml(k)}</th><td style="padding:2px 0">${escapeHtml(v)}</td></tr>`).join('');
      return `<table role="presentation" style="margin:0 0 16px;border-collapse:collapse">${rows}</table>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head>
<body style="margin:0;padding:24px;background:#f5f5f4;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;font-size:15px;line-height:1.5;color:#1c1917">
<div style="max-width:560px;margin:0 auto;background:#fff;border-radius:8px;padding:24px">
<h1 style="margin:0 0 16px;font-size:20px">${escapeHtml(title)}</h1>
${body}
<p style="margin:24px 0 0;color:#555;font-size:13px">${escapeHtml(site.issuer)} · ${escapeHtml(site.origin)}</p>
</div></body></html>
`;
}

function message(site: Site, subject: string, blocks: Block[]): Rendered {
  const footer: Block = { small: `This message was sent by ${site.issuer} (${site.origin}). It never contains a code or a password; never send yours to anyone.` };
  const all = [...blocks, footer];
  return { subject: oneLine(subject, 200), text: toText(all), html: toHtml(subject, all, site) };
}

// ---- link messages ----

export function verifyEmailMessage(site: Site, input: { email: string; url: string }): Rendered {
  return message(site, 'Confirm your email address', [
    { p: `Confirm that ${oneLine(input.email)} is your address for your ${site.issuer} account. Then it can be used to reset your password and to tell you about your account's security.` },
    { link: { label: 'Confirm email address', url: input.url } },
    { small: 'The link works once, for 24 hours. If you did not create an account or add this address, ignore this message: nothing changes without the link.' },
  ]);
}

export function changeEmailMessage(site: Site, input: { newEmail: string; url: string }): Rendered {
  return message(site, 'Confirm your new email address', [
    { p: `Someone asked to change the email address of a ${site.issuer} account to ${oneLine(input.newEmail)}. The address changes only when you open this link.` },
    { link: { label: 'Confirm new email address', url: input.url } },
    { small: 'The link works once, for 24 hours. If you did not ask for this, ignore this message: nothing changes without the link.' },
  ]);
}

export function passwordResetMessage(site: Site, input: { url: string; event: EventFacts; required?: boolean }): Rendered {
  const lead = input.required
    ? `Your ${site.issuer} account was secured after you said a change was not yours. Before you can sign in again, choose a new password with this link.`
    : `Someone asked to reset the password of your ${site.issuer} account. If it was you, choose a new password with this link.`;
  return message(site, input.required ? 'Choose a new password to sign in again' : 'Reset your password', [
    { p: lead },
    { link: { label: 'Set a new password', url: input.url } },
    { facts: facts(input.event) },
    {
      small:
        'The link works once, for 30 minutes. If two-factor authentication is on, you will also need your authenticator app, a recovery code or your security key. If you did not ask for this, ignore this message: your password stays as it is.',
    },
  ]);
}

export function testMessage(site: Site, input: { at: number }): Rendered {
  return message(site, `Test message from ${site.issuer}`, [
    { p: `This is a test message from ${site.issuer}, sent by its operator with "twofold mail test" at ${utc(input.at)}. Mail delivery works.` },
  ]);
}

// ---- security notices ----

function facts(e: EventFacts): [string, string][] {
  return [
    ['When', utc(e.at)],
    ['IP address', e.ip ? oneLine(e.ip, 64) : 'unknown'],
    ['Browser', describeUserAgent(e.userAgent)],
  ];
}

const keyName = (d: NoticeDetail) => (d.keyName ? `"${oneLine(d.keyName, 64)}"` : 'a key');

/** What happened, in a subject and a sentence, per kind. */
function describe(kind: NoticeKind, d: NoticeDetail, site: Site): { subject: string; what: string; warning?: string } {
  switch (kind) {
    case 'two_factor_enabled':
      return { subject: 'Two-factor authentication was turned on', what: `Two-factor authentication was turned on for your ${site.issuer} account.` };
    case 'two_factor_disabled':
      return {
        subject: 'Two-factor authentication was turned off',
        what:
          d.by === 'operator'
            ? `An operator of ${site.issuer} turned off two-factor authentication for your account. Your authenticator app, security keys, recovery codes and trusted devices were removed.`
            : `Two-factor authentication was turned off for your ${site.issuer} account. Its authenticator app, security keys, recovery codes and trusted devices were removed.`,
      };
    case 'authenticator_app_added':
      return { subject: 'An authenticator app was added', what: 'An authenticator app was added to your account for two-factor authentication.' };
    case 'authenticator_app_removed':
      return { subject: 'An authenticator app was removed', what: 'The authenticator app was removed from your account.' };
    case 'security_key_added':
      return { subject: 'A security key was added', what: `The security key ${keyName(d)} was added to your account.` };
    case 'security_key_removed':
      return { subject: 'A security key was removed', what: `The security key ${keyName(d)} was removed from your account.` };
    case 'passkey_added':
      return { subject: 'A passkey was added', what: `The passkey ${keyName(d)} was added to your account.` };
    case 'passkey_removed':
      return { subject: 'A passkey was removed', what: `The passkey ${keyName(d)} was removed from your account.` };
    case 'recovery_codes_viewed':
      return { subject: 'Your recovery codes were viewed', what: 'Your recovery codes were shown in your account settings.' };
    case 'recovery_codes_regenerated':
      return { subject: 'New recovery codes were made', what: 'A new set of recovery codes was made for your account. The old codes no longer work.' };
    case 'recovery_code_used': {
      const n = d.remaining ?? 0;
      return {
        subject: 'A recovery code was used',
        what: `A recovery code was used to sign in to your account. ${n} recovery code${n === 1 ? '' : 's'} remain${n === 1 ? 's' : ''}.`,
        ...(n <= 2
          ? { warning: `Only ${n} recovery code${n === 1 ? ' is' : 's are'} left. Sign in and make a new set in Account settings → Regenerate recovery codes, so you are not locked out.` }
          : {}),
      };
    }
    case 'device_trusted':
      return { subject: 'A device was trusted', what: `A device${d.device ? ` (${oneLine(d.device, 80)})` : ''} was trusted for 30 days: it can sign in to your account without the second factor.` };
    case 'password_changed':
      return { subject: 'Your password was changed', what: 'The password of your account was changed. Your other sessions and trusted devices were signed out.' };
    case 'password_reset':
      return { subject: 'Your password was reset', what: 'The password of your account was reset with a link sent to this address. Every session and trusted device was signed out.' };
    case 'email_changed':
      return {
        subject: 'Your email address was changed',
        what: `The email address of your ${site.issuer} account was changed${d.newEmail ? ` to ${oneLine(d.newEmail)}` : ''}. Messages about the account now go to the new address.`,
      };
    case 'lockout': {
      const m = Math.max(1, Math.ceil((d.retryAfterSeconds ?? 60) / 60));
      return {
        subject: 'Sign-in codes were locked after wrong attempts',
        what: `Too many wrong codes were entered for your account, so codes are refused for ${m} minute${m === 1 ? '' : 's'}. Someone may know your password.`,
      };
    }
    case 'new_device_sign_in':
      return { subject: 'New sign-in to your account', what: `Your account was signed in to from a browser that had not signed in to it before.` };
    case 'account_secured':
      return {
        subject: 'Your account was secured',
        what: 'You said a change to your account was not yours. Every session and trusted device was signed out, and you must choose a new password before you sign in again.',
      };
    case 'admin_action':
      return { subject: 'An administrator changed your account', what: `An administrator of ${site.issuer} changed your account: ${oneLine(d.action ?? 'a change', 160)}.` };
  }
}

export function noticeMessage(site: Site, n: NoticeInput): Rendered {
  const { subject, what, warning } = describe(n.kind, n.detail, site);
  const blocks: Block[] = [{ p: what }];
  if (warning) blocks.push({ p: warning });
  blocks.push({ facts: facts(n.event) });
  if (n.secureUrl) {
    blocks.push({ p: 'If this was you, there is nothing to do.' });
    blocks.push({
      p: 'If it was not you, someone may have your password. Open the link below: it signs out every session, removes what was just added, and asks for a new password before anyone can sign in again.',
    });
    blocks.push({ link: { label: "This wasn't me", url: n.secureUrl } });
    blocks.push({ small: 'The link works once, for 7 days.' });
  } else {
    blocks.push({ p: 'If you did not ask for this, contact the operator of this service.' });
  }
  return message(site, subject, blocks);
}
