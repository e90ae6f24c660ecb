/**
 * @simplewebauthn/server costs over 100 ms of import time and megabytes of memory that most
 * requests (and every start) never need: it is loaded on the first ceremony, then kept.
 */
let loading: Promise<typeof import('@simplewebauthn/server')> | undefined;

export function webauthn(): Promise<typeof import('@simplewebauthn/server')> {
  loading ??= import('@simplewebauthn/server');
  return loading;
}
