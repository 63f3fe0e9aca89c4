/**
 * Which methods of the official `svix` SDK a suite calls. `recordSdkCalls` wraps the
 * methods of every resource of the SDK (reached from a client as scripts/sdk-methods.mjs
 * reaches them) so that each call, by any client, is recorded by its `resource.method`
 * name; `stop()` puts the methods back. `streamMethods` names the methods the streaming
 * suite answers for.
 */
import { Svix } from 'svix';

/** The streaming family and the stream methods of `authentication`, among `methods`. */
export const streamMethods = (methods: string[]): string[] => methods.filter((m) => m.startsWith('streaming.') || /^authentication\.\w*stream/i.test(m));

/**
 * Records the SDK methods called until `stop()`. A resource class the SDK reaches by two
 * names (`operationalWebhookEndpoint` and `operationalWebhook.endpoint`) cannot tell which
 * one was used: a call records both, and `ambiguous` lists them.
 */
export function recordSdkCalls(): { called: Set<string>; ambiguous: Set<string>; stop: () => void } {
  const called = new Set<string>();
  const ambiguous = new Set<string>();
  const restore: (() => void)[] = [];
  const prefixes = new Map<object, string[]>();
  const walk = (obj: object, prefix: string) => {
    const proto = Object.getPrototypeOf(obj) as Record<string, unknown>;
    const seen = prefixes.get(proto);
    if (seen) {
      seen.push(prefix);
      return;
    }
    const names = [prefix];
    if (prefix) prefixes.set(proto, names);
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(proto, key)!;
      if (d.get) walk((obj as Record<string, object>)[key]!, prefix ? `${prefix}.${key}` : key);
      else if (typeof d.value === 'function' && prefix) {
        const original = d.value as (...args: unknown[]) => unknown;
        proto[key] = function (this: unknown, ...args: unknown[]) {
          for (const p of names) called.add(`${p}.${key}`);
          return original.apply(this, args);
        };
        restore.push(() => (proto[key] = original));
      }
    }
  };
  walk(new Svix('unused', { serverUrl: 'http://127.0.0.1:1' }), '');
  for (const [proto, names] of prefixes) {
    if (names.length < 2) continue;
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key !== 'constructor' && typeof (proto as Record<string, unknown>)[key] === 'function') for (const p of names) ambiguous.add(`${p}.${key}`);
    }
  }
  return { called, ambiguous, stop: () => restore.forEach((r) => r()) };
}
