import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { HashSlot } from '../core/password.js';
import type { AccessRules } from '../core/access-rules.js';
import type { Clock } from '../core/clock.js';
import type { RandomSource } from '../core/random.js';
import type { SecretBox } from '../core/secret-box.js';
import type { SessionPolicy } from '../core/session.js';
import type { Database } from '../store/schema.js';
import type { Store } from '../store/db.js';

/** Everything a flow needs, built once at start and passed explicitly. */
export interface Context {
  config: Config;
  store: Store;
  db: Kysely<Database>;
  clock: Clock;
  random: RandomSource;
  box: SecretBox;
  policy: SessionPolicy;
  /** Burns the time of a password check for an email that has no account. */
  decoyVerify: (password: string, slot?: HashSlot) => Promise<false>;
  /** Forward-auth rules, compiled at start; `current` is swapped whole by a reload (SIGHUP). */
  accessRules: { current: AccessRules };
}

/** Who is asking, for the security log. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  /** The device-recognition cookie, if the browser sent one (never logged). */
  knownDevice?: string | undefined;
}
