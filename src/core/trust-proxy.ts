import { isIP } from 'node:net';

/**
 * Which X-Forwarded-For entries to believe, in a form Fastify's `trustProxy` takes: false (none),
 * a number of proxy hops in front of the service, or the addresses/CIDR ranges of those proxies.
 * Never `true`: that believes the left-most entry, which any client writes itself.
 */
export type TrustProxy = false | number | string[];

/** Names proxy-addr (Fastify's trustProxy) knows for address ranges. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const MAX_HOPS = 10;

export class TrustProxyError extends Error {
  override name = 'TrustProxyError';
}

function isAddressOrRange(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const slash = entry.indexOf('/');
  if (slash === -1) return isIP(entry) !== 0;
  const ip = entry.slice(0, slash);
  const bits = entry.slice(slash + 1);
  const family = isIP(ip);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

const HOW = 'write the addresses of your proxies (for example 127.0.0.1, or 10.0.0.0/8,192.168.1.10), or how many proxies stand in front of the service (for example 1)';

/** Parses TWOFOLD_TRUST_PROXY; `name` is the variable named in messages. */
export function parseTrustProxy(value: string | undefined, name = 'TWOFOLD_TRUST_PROXY'): TrustProxy {
  const text = (value ?? '').trim();
  if (text === '' || /^(0|false|no|off)$/i.test(text)) return false;
  if (/^(true|yes|on)$/i.test(text)) {
    throw new TrustProxyError(
      `${name}=${text} would believe an X-Forwarded-For header written by the client itself, so anyone could pick the IP address they are counted and logged under. Instead, ${HOW}: ${name}=127.0.0.1 or ${name}=1.`,
    );
  }
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > MAX_HOPS) throw new TrustProxyError(`${name}=${text}: at most ${MAX_HOPS} proxy hops; ${HOW}.`);
    return hops;
  }
  const entries = text.split(',').map((e) => e.trim());
  const bad = entries.find((e) => !isAddressOrRange(e));
  if (bad !== undefined) throw new TrustProxyError(`${name}: "${bad}" is not an IP address or CIDR range; ${HOW}.`);
  return entries;
}

/**
 * The option for Fastify. A hop count becomes a function trusting that many hops from the socket
 * inwards (Fastify itself now refuses to trust on a bare number, since it cannot tell a proxy from
 * a client that connects directly: use a count only when nothing reaches the service but through
 * its proxies, and prefer their addresses).
 */
export function fastifyTrustProxy(t: TrustProxy): false | string[] | ((address: string, hop: number) => boolean) {
  if (typeof t === 'number') return t === 0 ? false : (_address: string, hop: number) => hop < t;
  return t;
}
