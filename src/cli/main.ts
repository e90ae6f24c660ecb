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
  users groups <email> [--add G] [--remove G]
                              add or remove groups (each option may repeat)
                              and print the account's groups, one per line
  backup <file>               copy a live SQLite database to <file>
  mail test --to E            send a test message through the outbox now
  mail status                 count queued, sent and failed messages

Configuration comes from the environment (and .env); see README.md.
`;

const COMMANDS = new Set(['serve', 'migrate', 'users', 'backup', 'mail']);

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
    default:
      return fail(`unknown command "${command}"; see twofold --help`, 2);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof AppError) fail(err.message);
  fail(err instanceof Error ? err.message : String(err));
});
