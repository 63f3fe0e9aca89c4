/**
 * undici's HTTP client without the rest of undici. Its entry point loads all of it (fetch,
 * WebSocket, caches, mocks, proxies: 110 modules, about 140 ms of CPU and 20 MB of memory on
 * each thread that loads it); Switchboard uses its connection pool (`Agent`) and `request`:
 * 25 modules, about 55 ms and 11 MB. That counts on every send worker thread and at every
 * start. They are loaded from undici's own files (its package has no export map, so they
 * are reachable), on first use; `request` is undici's, with the URL handling of its
 * top-level `request` (the part of it that lives in the entry point).
 */
import { createRequire } from 'node:module';
import type { Agent, Dispatcher } from 'undici';

const require = createRequire(import.meta.url);

type ApiRequest = (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

let loaded: { Agent: typeof Agent; request: ApiRequest } | null = null;

function undici(): { Agent: typeof Agent; request: ApiRequest } {
  return (loaded ??= {
    Agent: require('undici/lib/dispatcher/agent.js') as typeof Agent,
    request: require('undici/lib/api/api-request.js') as ApiRequest,
  });
}

/** undici's `Agent` (a pool of connections per origin), loaded on first use. */
export function agentClass(): typeof Agent {
  return undici().Agent;
}

/** A request's options: undici's, with the dispatcher (an `Agent`) to send it through. */
export type HttpRequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  method?: Dispatcher.HttpMethod;
  dispatcher: Dispatcher;
};

/** undici's `request(url, options)`: the response once its headers are in, its body a stream. */
export function request(url: string | URL, options: HttpRequestOptions): Promise<Dispatcher.ResponseData> {
  const u = typeof url === 'string' ? new URL(url) : url;
  const { dispatcher, ...rest } = options;
  return undici().request.call(dispatcher, {
    ...rest,
    origin: u.origin,
    path: u.search ? `${u.pathname}${u.search}` : u.pathname,
    method: options.method ?? (options.body ? 'PUT' : 'GET'),
  });
}
