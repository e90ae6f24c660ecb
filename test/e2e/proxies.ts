/**
 * Real reverse proxies for the forward-auth end-to-end tests: Debian's nginx and caddy started as
 * ordinary processes on loopback ports, each with its own temporary configuration, pid, log and data
 * directories (nothing under /etc, /var or /run, no default site), in front of a tiny upstream app
 * that echoes the identity headers it received.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Upstream {
  port: number;
  close(): Promise<void>;
}

/** Answers every request with the Remote-* headers (and host, url) it got, as JSON. */
export async function startUpstream(): Promise<Upstream> {
  const server: Server = createServer((req, res) => {
    const seen = {
      host: req.headers.host ?? null,
      url: req.url ?? null,
      remoteUser: req.headers['remote-user'] ?? null,
      remoteEmail: req.headers['remote-email'] ?? null,
      remoteGroups: req.headers['remote-groups'] ?? null,
      // Any header that looks like an identity header, whatever its spelling.
      identityHeaders: Object.keys(req.headers).filter((h) => /remote[-_]?(user|email|groups)/i.test(h)),
    };
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(seen));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  return {
    port: addr.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface Proxy {
  name: string;
  port: number;
  config: string;
  stop(): Promise<void>;
  log(): string;
}

/** The README's nginx configuration, with this test's ports and directories. */
export function nginxConfig(dir: string, port: number, twofold: string, upstream: string): string {
  return `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  server {
    listen 127.0.0.1:${port};
    server_name ~^.+\\.twofold\\.test$;

    # Twofold decides about every request; this location is for nginx only.
    location = /_twofold_authz {
      internal;
      proxy_pass ${twofold}/authz/auth-request;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }

    location / {
      auth_request /_twofold_authz;
      # 401 carries Location: <PUBLIC_URL>/login?rd=…; send the browser there.
      auth_request_set $twofold_redirect $upstream_http_location;
      error_page 401 =302 $twofold_redirect;
      # Identity from Twofold's answer only: these replace whatever the client sent.
      auth_request_set $twofold_user $upstream_http_remote_user;
      auth_request_set $twofold_email $upstream_http_remote_email;
      auth_request_set $twofold_groups $upstream_http_remote_groups;
      proxy_set_header Remote-User $twofold_user;
      proxy_set_header Remote-Email $twofold_email;
      proxy_set_header Remote-Groups $twofold_groups;
      proxy_set_header Host $host;
      proxy_pass ${upstream};
    }
  }
}
`;
}

/** The README's Caddyfile, with this test's ports. */
export function caddyConfig(port: number, twofold: string, upstream: string): string {
  return `{
	admin off
	auto_https off
}

http://*.twofold.test:${port} {
	bind 127.0.0.1
	route {
		# Never let the client supply identity headers.
		request_header -Remote-User
		request_header -Remote-Email
		request_header -Remote-Groups
		forward_auth ${twofold.replace(/^http:\/\//, '')} {
			uri /authz/forward-auth
			copy_headers Remote-User Remote-Email Remote-Groups
		}
		reverse_proxy ${upstream.replace(/^http:\/\//, '')}
	}
}
`;
}

async function waitForPort(port: number, child: ChildProcess, log: () => string, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${log()}`);
    try {
      await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual', headers: { host: 'probe.twofold.test' } });
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`did not listen on ${port} within ${timeoutMs} ms: ${log()}`);
}

function startProcess(name: string, cmd: string, args: string[], env: Record<string, string>, port: number, config: string, logFile?: string): Promise<Proxy> {
  let output = '';
  const child = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const log = () => {
    let file = '';
    try {
      if (logFile) file = readFileSync(logFile, 'utf8');
    } catch {
      // not written yet
    }
    return (output + file).slice(-4000);
  };
  const proxy: Proxy = {
    name,
    port,
    config,
    log,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  return waitForPort(port, child, log).then(
    () => proxy,
    async (err: Error) => {
      await proxy.stop();
      throw new Error(`${name}: ${err.message}`);
    },
  );
}

export async function startNginx(binary: string, dir: string, port: number, twofold: string, upstream: string): Promise<Proxy> {
  mkdirSync(dir, { recursive: true });
  const config = nginxConfig(dir, port, twofold, upstream);
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, config);
  // -e: the error log before the configuration is read; -p: the prefix for relative paths.
  return startProcess('nginx', binary, ['-e', join(dir, 'startup-error.log'), '-p', dir, '-c', file], {}, port, config, join(dir, 'error.log'));
}

export async function startCaddy(dir: string, port: number, twofold: string, upstream: string): Promise<Proxy> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'config'), { recursive: true });
  const config = caddyConfig(port, twofold, upstream);
  const file = join(dir, 'Caddyfile');
  writeFileSync(file, config);
  // Caddy keeps its state under XDG_DATA_HOME/XDG_CONFIG_HOME: point them at the test's directory.
  const env = { HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') };
  return startProcess('caddy', 'caddy', ['run', '--config', file, '--adapter', 'caddyfile'], env, port, config);
}
