/**
 * API paths with a trailing slash (`/api/v1/app/`, `.../msg/`) are the routes without it, as
 * some clients send them. Only `/api/` paths are rewritten: the dashboard's `/ui/` is a page
 * of its own, which `/ui` redirects to.
 */

/** The request URL with the trailing slashes of an `/api/` path removed (query string kept). */
export function withoutApiTrailingSlash(url: string): string {
  if (!url.startsWith('/api/')) return url;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (!path.endsWith('/')) return url;
  const trimmed = path.replace(/\/+$/, '');
  return trimmed + (q === -1 ? '' : url.slice(q));
}
