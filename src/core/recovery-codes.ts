import { encodeBase32, exactBytes } from './base32.js';
import type { RandomSource } from './random.js';

export const RECOVERY_CODE_COUNT = 10;
/** At or below this many unused codes the person is told to generate new ones. */
export const LOW_RECOVERY_CODES = 3;

/**
 * Crockford base32, lowercase: no i, l, o or u, so a code copied by hand cannot be misread. 32
 * letters give exactly 5 bits each, so 16 characters carry 80 bits (SPEC §3 asks for at least 64).
 */
export const RECOVERY_CODE_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const RECOVERY_CODE_LENGTH = 16;

/**
 * Letters that never appear in a code are read as the one they are mistaken for: o as 0, i and l
 * as 1 (Crockford's rule), and u as v, because handwritten u and v are easily confused. This costs
 * no security: the mapped letters add no new codes, and guessing is limited by the lockout.
 */
const LOOK_ALIKES: Readonly<Record<string, string>> = { o: '0', i: '1', l: '1', u: 'v' };

const CODE_BYTES = (RECOVERY_CODE_LENGTH * 5) / 8;

function generateRecoveryCode(random: RandomSource): string {
  return encodeBase32(exactBytes(random.bytes(CODE_BYTES), CODE_BYTES), RECOVERY_CODE_ALPHABET);
}

/** Returns the codes formatted for display; store them normalized (normalizeRecoveryCode). */
export function generateRecoveryCodes(random: RandomSource): string[] {
  const codes = new Set<string>();
  // A duplicate is a 2^-80 event with a real random source; the bound only stops a broken one
  // from looping forever.
  for (let attempt = 0; codes.size < RECOVERY_CODE_COUNT; attempt++) {
    if (attempt >= RECOVERY_CODE_COUNT * 10) throw new Error('random source keeps repeating itself');
    codes.add(generateRecoveryCode(random));
  }
  return [...codes].map(formatRecoveryCode);
}

/** Accepts what people actually type or paste: any case, spaces, dashes, line breaks. */
export function normalizeRecoveryCode(input: string): string | null {
  if (input.length > 100) return null;
  const compact = input.replace(/[\s\-\u2010-\u2015\u2212]+/g, '');
  // ASCII is checked before lowercasing, since some non-ASCII letters lowercase to ASCII ones
  // (the Kelvin sign becomes k).
  if (!/^[0-9A-Za-z]{16}$/.test(compact)) return null;
  let out = '';
  for (const ch of compact.toLowerCase()) {
    const mapped = LOOK_ALIKES[ch] ?? ch;
    if (!RECOVERY_CODE_ALPHABET.includes(mapped)) return null;
    out += mapped;
  }
  return out;
}

export function formatRecoveryCode(normalized: string): string {
  if (normalized.length !== RECOVERY_CODE_LENGTH || ![...normalized].every((c) => RECOVERY_CODE_ALPHABET.includes(c))) {
    throw new Error('not a normalized recovery code');
  }
  return normalized.match(/.{4}/g)!.join('-');
}

/** Issuer and account land in a text file header; a line break in them must not forge lines. */
function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

/** Contents of twofold-recovery-codes.txt. The date is the UTC calendar date of creation. */
export function recoveryCodesText({
  issuer,
  account,
  createdAt,
  codes,
}: {
  issuer: string;
  account: string;
  createdAt: number;
  codes: { code: string; used: boolean }[];
}): string {
  const lines = [
    `${oneLine(issuer)} recovery codes`,
    `Account: ${oneLine(account)}`,
    `Created: ${new Date(createdAt).toISOString().slice(0, 10)}`,
    '',
    'Use one of these codes to sign in if you cannot use your authenticator app or security key.',
    'Each code works only once. Keep this file somewhere safe and private.',
    '',
    ...codes.map(({ code, used }) => {
      const normalized = normalizeRecoveryCode(code);
      const shown = normalized === null ? oneLine(code) : formatRecoveryCode(normalized);
      return used ? `${shown} (used)` : shown;
    }),
  ];
  return lines.map((line) => `${line}\n`).join('');
}
