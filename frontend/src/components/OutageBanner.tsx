import { useEffect, useState } from 'preact/hooks';
import { getOutage, onOutage, retryNow, type OutageState } from '../outage';
import './connection.css';

/** The one notice that Baton cannot reach the server, with the retry countdown. */
export function OutageBanner() {
  const [state, setState] = useState<OutageState>(getOutage);
  const [now, setNow] = useState(Date.now);

  useEffect(() => {
    setState(getOutage());
    return onOutage(setState);
  }, []);

  useEffect(() => {
    if (!state.down) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [state.down, state.retryAt]);

  // The live region is always in the page so its first message is announced.
  const secs = state.retryAt === null ? 0 : Math.max(0, Math.ceil((state.retryAt - now) / 1000));
  return (
    <div class={state.down ? 'outage-banner' : 'outage-banner outage-hidden'} role={state.down ? 'region' : undefined} aria-label={state.down ? 'Connection' : undefined} data-testid="outage-banner">
      <p role="status">{state.down ? "Baton can't reach the server; retrying… What you typed stays on this device." : ''}</p>
      {state.down && (
        <>
          {/* Not live: a screen reader would otherwise read every second. */}
          <p class="outage-countdown" data-testid="outage-countdown">
            {state.retryAt === null ? 'Trying now…' : `Next try in ${secs} s.`}
          </p>
          <button type="button" class="btn btn-secondary btn-sm" onClick={retryNow} disabled={state.retryAt === null}>
            Retry now
          </button>
        </>
      )}
    </div>
  );
}
