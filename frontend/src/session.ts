import { useEffect, useState } from 'preact/hooks';
import { onSession } from './api';
import type { User } from './types';

export type SessionState = { status: 'loading'; user: null } | { status: 'anon'; user: null } | { status: 'authed'; user: User };

let state: SessionState = { status: 'loading', user: null };
const subs = new Set<(s: SessionState) => void>();

function set(s: SessionState) {
  state = s;
  for (const fn of subs) fn(s);
}

onSession((user) => set(user ? { status: 'authed', user } : { status: 'anon', user: null }));

export function getSession(): SessionState {
  return state;
}

export function setSessionUser(user: User | null) {
  set(user ? { status: 'authed', user } : { status: 'anon', user: null });
}

export function useSession(): SessionState {
  const [s, setS] = useState(state);
  useEffect(() => {
    subs.add(setS);
    setS(state);
    return () => {
      subs.delete(setS);
    };
  }, []);
  return s;
}

export const isManager = (u: User | null) => !!u && (u.role === 'manager' || u.role === 'admin');
