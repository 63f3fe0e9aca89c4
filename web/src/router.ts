/** A tiny History API router: paths are relative to the mode's base (/ui or /portal). */
import { createElement, useSyncExternalStore } from 'react';
import type { AnchorHTMLAttributes, MouseEvent, ReactNode } from 'react';
import { base } from './session';

const CHANGE = 'switchboard:navigate';

function subscribe(cb: () => void): () => void {
  window.addEventListener('popstate', cb);
  window.addEventListener(CHANGE, cb);
  return () => {
    window.removeEventListener('popstate', cb);
    window.removeEventListener(CHANGE, cb);
  };
}

function current(): string {
  const p = window.location.pathname;
  const rel = p.startsWith(base) ? p.slice(base.length) : p;
  return (rel || '/') + window.location.search;
}

/** The current path below the base, with its query string. */
export function useLocation(): string {
  return useSyncExternalStore(subscribe, current);
}

export function navigate(to: string, replace = false): void {
  const url = base + to;
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  window.dispatchEvent(new Event(CHANGE));
  window.scrollTo(0, 0);
}

/** Matches `pattern` (`/app/:appId/endpoints`) against a path; returns the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('?')[0]!.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const want = p[i]!;
    const got = s[i]!;
    if (want.startsWith(':')) out[want.slice(1)] = decodeURIComponent(got);
    else if (want !== got) return null;
  }
  return out;
}

/** The current query parameters. */
export function useQuery(): URLSearchParams {
  const loc = useLocation();
  const i = loc.indexOf('?');
  return new URLSearchParams(i >= 0 ? loc.slice(i + 1) : '');
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string; children?: ReactNode };

/** An anchor that navigates in place (and still opens in a new tab with a modifier key). */
export function Link({ to, onClick, ...rest }: LinkProps) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return createElement('a', { ...rest, href: base + to, onClick: handle });
}
