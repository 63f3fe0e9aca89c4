/**
 * Who is signed in and how: the operator dashboard keeps a pasted token; the consumer
 * portal takes its token from the link's fragment (never sent to the server in a URL).
 */
export type Mode = 'operator' | 'portal';

/** The portal lives under /portal, the dashboard under /ui. */
export const mode: Mode = window.location.pathname.startsWith('/portal') ? 'portal' : 'operator';
export const base = mode === 'portal' ? '/portal' : '/ui';

const KEY = `switchboard.${mode}.token`;

export function readToken(): string | null {
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  window.sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  window.sessionStorage.removeItem(KEY);
}

/**
 * Moves a portal token from the URL fragment (`#token=...` or `#key=...`) into session
 * storage and removes it from the address bar, so it is not left in history or screenshots.
 */
export function adoptFragmentToken(): void {
  const hash = window.location.hash.replace(/^#/, '');
  if (!hash) return;
  const params = new URLSearchParams(hash);
  const token = params.get('token') ?? params.get('key');
  if (!token) return;
  saveToken(token);
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
}

/** What the signed-in token may do, as the server reports it. */
export type Scope =
  | { kind: 'admin' }
  | { kind: 'app'; appId: string; canWrite: boolean; canPublish: boolean };
