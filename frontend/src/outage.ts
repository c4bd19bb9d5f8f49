// The connection to the server as one shared state: when Baton cannot be
// reached, every request that may safely be sent again waits here instead of
// failing, one probe of /readyz runs on a backoff schedule, and one banner
// (components/OutageBanner) shows the countdown. When the server answers, the
// waiting requests are released together.

export interface OutageState {
  /** True while the server is believed unreachable. */
  down: boolean;
  /** When the next probe runs (epoch ms); null while a probe is in flight. */
  retryAt: number | null;
}

/** Delays between probes: quick at first, then at most every 30 s. */
export const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];

/** The statuses a proxy or an overloaded server answers during an outage. */
export const OUTAGE_STATUSES = new Set([502, 503, 504]);

type Listener = (s: OutageState) => void;

let state: OutageState = { down: false, retryAt: null };
let attempt = 0;
let timer: ReturnType<typeof setTimeout> | null = null;
let probing = false;
let waiters: Array<() => void> = [];
const listeners = new Set<Listener>();

async function readyProbe(): Promise<boolean> {
  try {
    const res = await fetch('/readyz', { cache: 'no-store', credentials: 'omit' });
    return !OUTAGE_STATUSES.has(res.status);
  } catch {
    return false;
  }
}
let probe: () => Promise<boolean> = readyProbe;

function set(s: OutageState) {
  state = s;
  for (const fn of listeners) fn(s);
}

export function getOutage(): OutageState {
  return state;
}

export function onOutage(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** True for what fetch throws when nothing answered (not for an abort). */
export function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError;
}

function schedule() {
  const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
  if (timer) clearTimeout(timer);
  timer = setTimeout(tick, delay);
  set({ down: true, retryAt: Date.now() + delay });
}

async function tick() {
  timer = null;
  if (probing || !state.down) return;
  probing = true;
  set({ down: true, retryAt: null });
  const ok = await probe();
  probing = false;
  if (!state.down) return; // a request got through meanwhile
  if (ok) serverAnswered();
  else {
    attempt++;
    schedule();
  }
}

/** A request found the server unreachable: show the banner and start probing. */
export function reportOutage(): void {
  if (state.down) return;
  attempt = 0;
  schedule();
}

/** The server answered something: the outage (if any) is over. */
export function serverAnswered(): void {
  if (!state.down) return;
  if (timer) clearTimeout(timer);
  timer = null;
  attempt = 0;
  const release = waiters;
  waiters = [];
  set({ down: false, retryAt: null });
  for (const fn of release) fn();
}

/** Probes at once instead of waiting for the countdown ("Retry now"). */
export function retryNow(): void {
  if (!state.down || probing) return;
  if (timer) clearTimeout(timer);
  void tick();
}

/** Resolves when the server answers again (at once when it is not down); rejects on abort. */
export function waitForServer(signal?: AbortSignal): Promise<void> {
  if (!state.down) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      signal?.removeEventListener('abort', abort);
      resolve();
    };
    const abort = () => {
      waiters = waiters.filter((w) => w !== done);
      reject(signal?.reason ?? new DOMException('Aborted', 'AbortError'));
    };
    if (signal?.aborted) return abort();
    signal?.addEventListener('abort', abort, { once: true });
    waiters.push(done);
  });
}

/** Test helper: replace the probe and forget all state. */
export function _resetOutage(p: () => Promise<boolean> = readyProbe): void {
  if (timer) clearTimeout(timer);
  timer = null;
  probing = false;
  attempt = 0;
  waiters = [];
  listeners.clear();
  probe = p;
  state = { down: false, retryAt: null };
}
