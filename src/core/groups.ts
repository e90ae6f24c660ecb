/**
 * Group names: what access rules name as `group:<name>`, what `Remote-Groups` carries
 * (comma-separated) and what admins assign. Lower-cased so `Admins` and `admins` are one group, and
 * limited to characters that cannot break the comma-separated header or a rule's `group:` prefix.
 */
export const GROUP_NAME_MAX = 64;
export const GROUPS_PER_ACCOUNT_MAX = 100;

const GROUP_SHAPE = /^[a-z0-9][a-z0-9._-]*$/;

/** The normalised name, or null when the text cannot be a group name. */
export function parseGroupName(input: string): string | null {
  const name = input.trim().toLowerCase();
  if (name.length === 0 || name.length > GROUP_NAME_MAX || !GROUP_SHAPE.test(name)) return null;
  return name;
}

export const GROUP_NAME_RULE = `1–${GROUP_NAME_MAX} characters: letters, digits, ".", "_" or "-", starting with a letter or digit`;

/** A stable order for display and for headers. */
export function sortGroups(names: Iterable<string>): string[] {
  return [...new Set(names)].sort();
}
