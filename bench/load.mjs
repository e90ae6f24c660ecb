// The external load generator, in its own process: wrk when installed (BENCH_LOADGEN=autocannon
// forces autocannon), else autocannon. Reads one JSON argument:
//   { url, method, body?, contentType?, headers? (fixed extra headers), cookies: file of one Cookie header per line,
//     pick: 'random' | 'sequential' (each cookie used once, e.g. pending logins), seconds, connections }
// Prints one JSON line: { rps, p50, p99, requests, non2xx, errors, tool }.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const o = JSON.parse(process.argv[2]);
const useWrk = process.env.BENCH_LOADGEN !== 'autocannon' && hasWrk();

function hasWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its version; only a missing binary throws ENOENT.
    return err.code !== 'ENOENT';
  }
}

const lua = (s) => JSON.stringify(s);

async function runWrk() {
  const dir = mkdtempSync(join(tmpdir(), 'twofold-wrk-'));
  const script = join(dir, 'load.lua');
  const threads = 2;
  writeFileSync(
    script,
    `
local cookies = {}
for line in io.lines(${lua(o.cookies)}) do cookies[#cookies + 1] = line end
local nthreads = ${threads}
local created = 0
function setup(thread) thread:set("tid", created); created = created + 1 end
local i = -1
local headers = {}
${Object.entries(o.headers ?? {}).map(([k, v]) => `headers[${lua(k)}] = ${lua(v)}`).join('\n')}
${o.body ? `headers["Content-Type"] = ${lua(o.contentType ?? 'application/json')}` : ''}
local body = ${o.body ? lua(o.body) : 'nil'}
function init(args) i = tid - nthreads; math.randomseed(os.time() + tid) end
function request()
  local c
  ${o.pick === 'sequential' ? 'i = i + nthreads; c = cookies[(i % #cookies) + 1]' : 'c = cookies[math.random(#cookies)]'}
  headers["Cookie"] = c
  return wrk.format(${lua(o.method)}, nil, headers, body)
end
function done(summary, latency, requests)
  io.write(string.format("BENCHJSON {\\"requests\\":%d,\\"us\\":%d,\\"p50\\":%f,\\"p99\\":%f,\\"non2xx\\":%d,\\"errors\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
`,
  );
  const r = spawnSync('wrk', ['-t', String(threads), '-c', String(o.connections), '-d', `${o.seconds}s`, '--timeout', '10s', '-s', script, o.url], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('BENCHJSON '));
  if (!line) throw new Error(`wrk failed: ${r.stderr || r.stdout}`);
  const j = JSON.parse(line.slice('BENCHJSON '.length));
  return { rps: j.requests / (j.us / 1e6), p50: j.p50, p99: j.p99, requests: j.requests, non2xx: j.non2xx, errors: j.errors, tool: 'wrk' };
}

async function runAutocannon() {
  const { default: autocannon } = await import('autocannon');
  const cookies = readFileSync(o.cookies, 'utf8').split('\n').filter(Boolean);
  let i = -1;
  const pick = () => (o.pick === 'sequential' ? cookies[++i % cookies.length] : cookies[Math.floor(Math.random() * cookies.length)]);
  const result = await autocannon({
    url: o.url,
    method: o.method,
    connections: o.connections,
    duration: o.seconds,
    ...(o.body ? { body: o.body, headers: { 'content-type': o.contentType ?? 'application/json' } } : {}),
    requests: [
      {
        setupRequest(req) {
          return { ...req, headers: { ...req.headers, ...(o.headers ?? {}), cookie: pick() } };
        },
      },
    ],
  });
  return {
    rps: result.requests.total / (result.duration || o.seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    tool: 'autocannon',
  };
}

const out = useWrk ? await runWrk() : await runAutocannon();
process.stdout.write(JSON.stringify(out) + '\n');
