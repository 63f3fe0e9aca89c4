/** The signed-in session, shared by every page. */
import { createContext, useContext } from 'react';
import type { Scope } from './session';

export interface SessionValue {
  scope: Scope;
  /** False for read-only portal links and read-scoped keys. */
  canWrite: boolean;
  signOut: () => void;
}

export const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a session');
  return s;
}
