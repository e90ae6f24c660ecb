import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, isPostgresUrl, loadConfig, loadDotEnv, type Config } from '../config.js';
import { buildContext } from '../service/build-context.js';
import { createUser, listUsers } from '../service/accounts.js';
import { changeGroupsByEmail } from '../service/groups.js';
import { AppError } from '../service/errors.js';
import { adminResetTwoFactor } from '../service/two-factor.js';
import { openStore, type Store } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { isTwoFactorEnabled, methodsOf, twoFactorStatus } from '../store/two-factor-status.js';
import { readPassword } from './read-password.js';
import { parseEmail } from '../core/email.js';
import { CLI_ACTOR, deleteAccount, lockAccount, unlockAccount } from '../service/admin/actions.js';
import { createAdminToken, listTokens, revokeToken } from '../service/admin/tokens.js';
import { findUserByEmail } from '../store/users.js';
import { ClientInputError } from '../core/oidc-client.js';
import { addClient, getClients, removeClient } from '../service/oidc/clients.js';
import { ensureSigningKeys, ID_TOKEN_TTL_S, rotateSigningKeys } from '../service/oidc/keys.js';

const HELP = `twofold — a login service with two-factor authentication

Usage: twofold <command> [options]

Commands:
  serve                       run the service (migrates the database first)
  migrate                     apply database migrations and exit
  users create --email E      create an account; the password is asked for,
                              or read from the first line of stdin
  users list                  list accounts: id, email, created, 2FA methods
  users reset-2fa <email>     turn off two-factor authentication for a person
                              who lost both device and recovery codes
  users lock <email>          lock an account: it cannot sign in, its sessions end
  users unlock <email>        unlock an account
  users delete <email>        delete an account and everything of it
  tokens create --name N      create an admin API token; it is printed once,
                              alone on the last line, and stored only hashed
  tokens list                 list admin tokens: id, name, created, last used, state
  tokens revoke <id>          revoke an admin token
  users groups <email> [--add G] [--remove G]
                              add or remove groups (each option may repeat)
                              and print the account's groups, one per line
  backup <file>               copy a live SQLite database to <file>
  clients add --name N --redirect-uri U [--redirect-uri U2] [--public]
        [--first-party] [--require-2fa] [--post-logout-redirect-uri U]
                              register an OpenID Connect client; prints its id
                              and (confidential clients) its secret, once
  clients list                list OpenID Connect clients, id first
  clients remove <id>         remove a client with its grants and tokens
  oidc rotate-keys            new RS256 and ES256 signing keys; the old ones
                              stay published until their tokens expire
  mail test --to E            send a test message through the outbox now
  mail status                 count queued, sent and failed messages

Configuration comes from the environment (and .env); see README.md.
`;

const COMMANDS = new Set(['serve', 'migrate', 'users', 'tokens', 'backup', 'mail', 'clients', 'oidc']);

function fail(message: string, code = 1): never {
  process.stderr.write(`twofold: ${message}\n`);
  process.exit(code);
}

async function withStore<T>(config: Config, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(config.databaseUrl);
  try {
    await migrateToLatest(store);
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function clientsCommand(config: Config, rest: string[]): Promise<void> {
  const [sub, ...args] = rest;
  if (sub === 'add') {
    let values;
    try {
      ({ values } = parseArgs({
        args,
        strict: true,
        options: {
          name: { type: 'string' },
          'redirect-uri': { type: 'string', multiple: true },
          'post-logout-redirect-uri': { type: 'string', multiple: true },
          public: { type: 'boolean' },
          'first-party': { type: 'boolean' },
          'require-2fa': { type: 'boolean' },
        },
      }));
    } catch (err) {
      return fail(`clients add: ${(err as Error).message}`, 2);
    }
    const input = {
      name: values.name ?? '',
      redirectUris: values['redirect-uri'] ?? [],
      postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [],
      public: values.public ?? false,
      firstParty: values['first-party'] ?? false,
      require2fa: values['require-2fa'] ?? false,
    };
    await withStore(config, async (store) => {
      const ctx = await buildContext(config, store);
      try {
        const { client, secret } = await addClient(ctx, input);
        process.stdout.write(`client id: ${client.id}\n`);
        if (secret) process.stdout.write(`client secret (shown only now): ${secret}\n`);
        else process.stdout.write('public client: no secret; it must use PKCE (S256)\n');
      } catch (err) {
        if (err instanceof ClientInputError) fail(`clients add: ${err.message}`, 2);
        throw err;
      }
    });
    return;
  }
  if (sub === 'list') {
    await withStore(config, async (store) => {
      const ctx = await buildContext(config, store);
      const clients = await getClients(ctx);
      if (clients.length === 0) process.stdout.write('no clients\n');
      for (const c of clients) {
        const flags = [c.public ? 'public' : 'confidential', ...(c.firstParty ? ['first-party'] : []), ...(c.require2fa ? ['require-2fa'] : [])];
        process.stdout.write(`${c.id}\t${c.name}\t${flags.join(',')}\t${c.redirectUris.join(' ')}\n`);
      }
    });
    return;
  }
  if (sub === 'remove') {
    const id = args[0];
    if (!id || args.length !== 1) fail('clients remove needs exactly one client id');
    await withStore(config, async (store) => {
      const ctx = await buildContext(config, store);
      if (!(await removeClient(ctx, id))) fail(`no client with id ${id}`);
      process.stdout.write(`removed client ${id} with its grants and tokens\n`);
    });
    return;
  }
  return fail(`unknown clients command "${sub ?? ''}"; see twofold --help`, 2);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (!COMMANDS.has(command)) fail(`unknown command "${command}"; see twofold --help`, 2);
  // Loaded only for a real command: loading may create data/secret.key on a first SQLite run.
  loadDotEnv();
  const config = loadConfig();

  switch (command) {
    case 'serve': {
      // Loaded only here: the HTTP stack takes seconds to load, which other commands need not pay.
      const { serve } = await import('./serve.js');
      return serve(config);
    }
    case 'migrate': {
      // Not withStore: it migrates first, which would leave nothing to report here.
      const store = openStore(config.databaseUrl);
      let names: string[];
      try {
        names = await migrateToLatest(store);
      } finally {
        await store.close();
      }
      process.stdout.write(names.length ? `applied: ${names.join(', ')}\n` : 'database is up to date\n');
      return;
    }
    case 'users': {
      const [sub, ...args] = rest;
      if (sub === 'create') {
        const { values } = parseArgs({ args, options: { email: { type: 'string' } }, strict: true });
        if (!values.email) fail('users create needs --email E');
        const password = await readPassword(`Password for ${values.email}: `);
        await withStore(config, async (store) => {
          const ctx = await buildContext(config, store);
          const user = await createUser(ctx, { email: values.email!, password });
          process.stdout.write(`created ${user.email} (${user.id})\n`);
        });
        return;
      }
      if (sub === 'list') {
        await withStore(config, async (store) => {
          const ctx = await buildContext(config, store);
          const users = await listUsers(ctx.db);
          if (users.length === 0) process.stdout.write('no accounts\n');
          for (const u of users) {
            const status = await twoFactorStatus(ctx.db, u.id);
            const twoFactor = isTwoFactorEnabled(status) ? `2fa:${methodsOf(status).join('+')}` : '2fa:off';
            process.stdout.write(`${u.id}\t${u.email}\t${new Date(u.createdAt).toISOString()}\t${twoFactor}\n`);
          }
        });
        return;
      }
      if (sub === 'reset-2fa') {
        const email = args[0];
        if (!email || args.length !== 1) fail('users reset-2fa needs exactly one email');
        await withStore(config, async (store) => {
          const ctx = await buildContext(config, store);
          const { wasEnabled } = await adminResetTwoFactor(ctx, email);
          process.stdout.write(
            wasEnabled
              ? `two-factor authentication is now off for ${email}; app, security keys, recovery codes and trusted devices were removed\n`
              : `${email} had no two-factor authentication; nothing else changed\n`,
          );
        });
        return;
      }
      if (sub === 'lock' || sub === 'unlock' || sub === 'delete') {
        const email = args[0];
        if (!email || args.length !== 1) fail(`users ${sub} needs exactly one email`);
        await withStore(config, async (store) => {
          const ctx = await buildContext(config, store);
          const user = await findUserByEmail(ctx.db, parseEmail(email)?.normalized ?? email.trim().toLowerCase());
          if (!user) fail(`no account for ${email.trim()}`);
          if (sub === 'lock') await lockAccount(ctx, CLI_ACTOR, user.id);
          else if (sub === 'unlock') await unlockAccount(ctx, CLI_ACTOR, user.id);
          else await deleteAccount(ctx, CLI_ACTOR, user.id);
          const done = { lock: 'locked; its sessions and trusted devices ended', unlock: 'unlocked', delete: 'deleted with everything of it' }[sub];
          process.stdout.write(`${user.email} ${done}\n`);
        });
        return;
      }
      if (sub === 'groups') {
        const { values, positionals } = parseArgs({
          args,
          options: { add: { type: 'string', multiple: true }, remove: { type: 'string', multiple: true } },
          allowPositionals: true,
          strict: true,
        });
        if (positionals.length !== 1) fail('users groups needs exactly one email');
        await withStore(config, async (store) => {
          const ctx = await buildContext(config, store);
          const { email, groups } = await changeGroupsByEmail(ctx, positionals[0]!, { add: values.add ?? [], remove: values.remove ?? [] });
          process.stdout.write(groups.length ? groups.map((g) => `${g}\n`).join('') : `${email} is in no group\n`);
        });
        return;
      }
      return fail(`unknown users command "${sub ?? ''}"; see twofold --help`, 2);
    }
    case 'tokens': {
      const [sub, ...args] = rest;
      await withStore(config, async (store) => {
        const ctx = await buildContext(config, store);
        if (sub === 'create') {
          const { values } = parseArgs({ args, options: { name: { type: 'string' } }, strict: true });
          if (!values.name) fail('tokens create needs --name N');
          const t = await createAdminToken(ctx, values.name);
          process.stdout.write(`created admin token ${t.id} "${t.name}"; it is shown only this once, store it now:\n${t.token}\n`);
        } else if (sub === 'list') {
          if (args.length) fail('tokens list takes no arguments');
          const tokens = await listTokens(ctx);
          if (tokens.length === 0) process.stdout.write('no tokens\n');
          const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
          for (const t of tokens) {
            process.stdout.write(`${t.id}\t${t.name}\tcreated ${iso(t.createdAt)}\tlast used ${iso(t.lastUsedAt)}\t${t.revokedAt === null ? 'active' : `revoked ${iso(t.revokedAt)}`}\n`);
          }
        } else if (sub === 'revoke') {
          const id = args[0];
          if (!id || args.length !== 1) fail('tokens revoke needs exactly one token id');
          await revokeToken(ctx, id);
          process.stdout.write(`revoked token ${id}\n`);
        } else fail(`unknown tokens command "${sub ?? ''}"; see twofold --help`, 2);
      });
      return;
    }
    case 'mail': {
      const [sub, ...args] = rest;
      const { mailStatus, sendTestMail } = await import('../service/mail/delivery.js');
      if (sub === 'test') {
        const { values } = parseArgs({ args, options: { to: { type: 'string' } }, strict: true });
        if (!values.to || !/^[^\s@]+@[^\s@]+$/.test(values.to)) fail('mail test needs --to E (an email address)');
        await withStore(config, async (store) => {
          const ctx = await buildContext(config, store);
          const r = await sendTestMail(ctx, values.to!);
          if (r.state === 'sent') process.stdout.write(`sent a test message to ${values.to} via ${r.via}\n`);
          else fail(`not sent via ${r.via}: ${r.error ?? 'unknown error'}; it stays queued and the service will retry it`);
        });
        return;
      }
      if (sub === 'status') {
        if (args.length) fail('mail status takes no arguments');
        await withStore(config, async (store) => {
          const ctx = await buildContext(config, store);
          const s = await mailStatus(ctx);
          process.stdout.write(`queued\t${s.queued}\nsent\t${s.sent}\nfailed\t${s.failed}\nvia\t${s.via}\n`);
        });
        return;
      }
      return fail(`unknown mail command "${sub ?? ''}"; see twofold --help`, 2);
    }
    case 'backup': {
      const file = rest[0];
      if (!file || rest.length !== 1) fail('backup needs exactly one file name');
      if (existsSync(file)) fail(`${file} exists; choose a new file name`);
      if (isPostgresUrl(config.databaseUrl)) fail('backup is for SQLite; back up PostgreSQL with pg_dump');
      // A copy of the database as it is: no migration first.
      const store = openStore(config.databaseUrl);
      try {
        await store.backup(file);
      } finally {
        await store.close();
      }
      process.stdout.write(`backed up to ${file}\n`);
      return;
    }
    case 'clients':
      return clientsCommand(config, rest);
    case 'oidc': {
      if (rest.length !== 1 || rest[0] !== 'rotate-keys') fail('usage: twofold oidc rotate-keys', 2);
      await withStore(config, async (store) => {
        const ctx = await buildContext(config, store);
        await ensureSigningKeys(ctx);
        const { kids } = await rotateSigningKeys(ctx);
        process.stdout.write(`new signing keys: ${kids.join(', ')}; the previous keys stay published for ${ID_TOKEN_TTL_S / 60} minutes\n`);
      });
      return;
    }
    default:
      return fail(`unknown command "${command}"; see twofold --help`, 2);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof AppError) fail(err.message);
  fail(err instanceof Error ? err.message : String(err));
});
