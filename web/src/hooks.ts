/** Data loading with live refresh: polls while the tab is visible, keeps the last good data. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

/** Refresh interval of live views. */
export const LIVE_MS = 2000;

/**
 * Loads `path` (GET) and reloads it every `intervalMs` (0: never) while the page is visible.
 * A null path loads nothing. `load` replaces the GET with a custom loader.
 */
export function useApi<T>(path: string | null, intervalMs = 0, load?: (signal: AbortSignal) => Promise<T>): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const keyRef = useRef<string | null>(null);

  useEffect(() => {
    if (path === null) {
      setLoading(false);
      return;
    }
    // A new key clears the old data; a refresh of the same key keeps it on screen.
    if (keyRef.current !== path) {
      keyRef.current = path;
      setData(undefined);
      setError(undefined);
      setLoading(true);
    }
    const ctl = new AbortController();
    const run = loadRef.current ? loadRef.current(ctl.signal) : api<T>('GET', path, undefined, undefined, ctl.signal);
    run.then(
      (d) => {
        if (ctl.signal.aborted) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (ctl.signal.aborted) return;
        setError(e instanceof ApiError ? e : new ApiError(0, 'error', String(e)));
        setLoading(false);
      },
    );
    return () => ctl.abort();
  }, [path, tick]);

  useEffect(() => {
    if (path === null || intervalMs <= 0) return;
    const t = window.setInterval(() => {
      if (document.visibilityState === 'visible') setTick((n) => n + 1);
    }, intervalMs);
    return () => window.clearInterval(t);
  }, [path, intervalMs]);

  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload };
}

/** Runs an action with a busy flag and an error; returns its result or undefined on failure. */
export function useAction(): {
  busy: boolean;
  error: ApiError | undefined;
  run: <R>(fn: () => Promise<R>) => Promise<R | undefined>;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const run = useCallback(async <R,>(fn: () => Promise<R>): Promise<R | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await fn();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, 'error', String(e)));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: useCallback(() => setError(undefined), []) };
}
