/**
 * Every method of the pinned `svix` SDK, found by reflection over a client: its resources
 * are getters, nested resources (`message.poller`, `ingest.source`...) are getters of those,
 * and methods are the functions of their prototypes. Run it to print the list, one
 * `resource.method` a line; docs/compatibility.md and test/compatibility/sdk-walk.test.ts use it.
 */
import { fileURLToPath } from 'node:url';
import { Svix } from 'svix';

/** `resource.method` names of the SDK, in the SDK's own order. */
export function sdkMethods() {
  const client = new Svix('unused', { serverUrl: 'http://127.0.0.1:1' });
  const names = [];
  const walk = (obj, prefix) => {
    const proto = Object.getPrototypeOf(obj);
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(proto, key);
      const path = prefix ? `${prefix}.${key}` : key;
      if (d?.get) walk(obj[key], path);
      else if (typeof d?.value === 'function' && prefix) names.push(path);
    }
  };
  walk(client, '');
  return names;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const name of sdkMethods()) console.log(name);
}
