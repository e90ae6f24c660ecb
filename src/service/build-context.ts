import type { Config } from '../config.js';
import { systemClock, type Clock } from '../core/clock.js';
import { makeDecoyVerifier, setHashConcurrency } from '../core/password.js';
import { cryptoRandom, type RandomSource } from '../core/random.js';
import { createSecretBox } from '../core/secret-box.js';
import { sessionPolicy } from '../core/session.js';
import type { Store } from '../store/db.js';
import { loadAccessRulesFile } from './authz.js';
import type { Context } from './context.js';
import { NO_RULES } from '../core/access-rules.js';

export async function buildContext(config: Config, store: Store, opts: { clock?: Clock; random?: RandomSource } = {}): Promise<Context> {
  setHashConcurrency(config.hashConcurrency);
  return {
    config,
    store,
    db: store.db,
    clock: opts.clock ?? systemClock,
    random: opts.random ?? cryptoRandom,
    box: createSecretBox(config.secret, config.previousSecrets),
    policy: sessionPolicy(config.sessionIdleMs, config.sessionMaxMs),
    decoyVerify: makeDecoyVerifier(),
    // A bad file stops the start here, with its line and reason.
    accessRules: { current: config.accessRulesPath ? loadAccessRulesFile(config.accessRulesPath) : NO_RULES },
  };
}
