export const EMAIL_MAX = 254;

// Deliberately loose: one @, something on each side, a dot in the domain, no spaces.
const EMAIL_SHAPE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

export interface Email {
  /** As typed, trimmed; what the person sees. */
  display: string;
  /** Lower-cased; what uniqueness and lookup use. */
  normalized: string;
}

/** Null when the text is not a plausible email address. */
export function parseEmail(input: string): Email | null {
  const display = input.trim();
  if (display.length === 0 || display.length > EMAIL_MAX || !EMAIL_SHAPE.test(display)) return null;
  return { display, normalized: display.toLowerCase() };
}
