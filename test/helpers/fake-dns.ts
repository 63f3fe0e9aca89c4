/**
 * A resolver for the outbound-address guard's tests: one name that only it knows (`*.invalid`
 * never resolves in DNS) resolves to 127.0.0.1, and every lookup is counted. A client library
 * that reaches a local server through that name can only have been given the checked address.
 */
import type { Resolver } from '../../src/engine/http-sender.js';

/** Resolves `name` to 127.0.0.1 and counts the lookups; any other name does not exist. */
export function fakeDns(name: string): { resolve: Resolver; lookups: string[] } {
  const lookups: string[] = [];
  const resolve: Resolver = (hostname, _options, callback) => {
    lookups.push(hostname);
    if (hostname === name) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
  };
  return { resolve, lookups };
}

/** `url` with `name` as its host. */
export function withHost(url: string, name: string): string {
  const u = new URL(url);
  u.hostname = name;
  return u.toString();
}
