import assert from 'node:assert/strict';

/** A tiny HTTP client with a cookie jar, so each test speaks to the server like one browser. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // Tests inspect arbitrary JSON shapes.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export class Client {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly base: string,
    readonly defaultHeaders: Record<string, string> = {},
  ) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const h: Record<string, string> = { ...this.defaultHeaders, ...headers };
    if (this.cookies.size) h.cookie = this.cookieHeader();
    let payload: string | undefined;
    if (body !== undefined) {
      if (typeof body === 'string') payload = body;
      else {
        payload = JSON.stringify(body);
        h['content-type'] ??= 'application/json';
      }
    }
    const res = await fetch(this.base + path, { method, headers: h, body: payload, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    let json: unknown = undefined;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) json = JSON.parse(text);
    return { status: res.status, headers: res.headers, text, json };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, undefined, headers);
  }
  post(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request('POST', path, body, headers);
  }
  delete(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request('DELETE', path, body, headers);
  }
}

/** A refusal in the API's JSON shape: a 4xx (`status` when given) with only {error: {code, message}}. */
export function assertJsonError(r: Answer, what: string, status?: number): void {
  assert.ok(r.status >= 400 && r.status < 500, `${what}: expected a 4xx, got ${r.status} ${r.text.slice(0, 300)}`);
  if (status !== undefined) assert.equal(r.status, status, `${what}: ${r.text.slice(0, 300)}`);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/, what);
  assert.deepEqual(Object.keys(r.json), ['error'], what);
  assert.deepEqual(Object.keys(r.json.error).sort(), ['code', 'message'], what);
  assert.match(r.json.error.code, /^[a-z][a-z0-9_]*$/, what);
  assert.ok(r.json.error.message.length > 0, what);
}
