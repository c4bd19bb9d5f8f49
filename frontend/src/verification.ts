// Whether the signed-in person's email is verified, shared by the banner,
// the account page and the verify page, so verifying in one updates all.
import { useEffect, useState } from 'preact/hooks';
import { get } from './api';
import type { Me } from './types';

type State = { userId: string; verified: boolean } | null;
let state: State = null;
const subs = new Set<(s: State) => void>();

function set(s: State) {
  state = s;
  for (const fn of subs) fn(s);
}

/** Records a verification that just succeeded (the banner goes away). */
export function markVerified(): void {
  if (state) set({ ...state, verified: true });
}

/** Records what /api/me said. */
export function noteMe(me: Me): void {
  set({ userId: me.id, verified: me.email_verified });
}

/** The verification state of userId's account, loaded once per account; null while unknown. */
export function useVerified(userId: string | null): boolean | null {
  const [s, setS] = useState(state);
  useEffect(() => {
    subs.add(setS);
    return () => {
      subs.delete(setS);
    };
  }, []);
  useEffect(() => {
    if (!userId || state?.userId === userId) return;
    get<Me>('/api/me').then(noteMe, () => undefined);
  }, [userId]);
  return s && s.userId === userId ? s.verified : null;
}
