import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, _reset, acceptTokens, changePassword, get, getToken, hasSessionHint, login, logout, onReauth, onSession, put, post, restoreSession, type ReauthRequest } from '../src/api';
import { BACKOFF_MS, _resetOutage, getOutage, onOutage, retryNow } from '../src/outage';

function json(status: number, body: unknown, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}
const unauthorized = () => json(401, { type: 'urn:baton:problem:unauthorized', title: 'Unauthorized', status: 401 }, 'application/problem+json');
const user = { id: 'u1', email: 'ann@example.test', name: 'Ann', role: 'learner' as const };
const tokens = (n: number, u = user) => ({ user: u, access_token: `token-${n}`, token_type: 'Bearer' as const, expires_in: 900 });

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>;
function mockFetch(handler: Handler) {
  const calls: { url: string; method: string; auth: string | null }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const headers = (init.headers ?? {}) as Record<string, string>;
      calls.push({ url, method: init.method ?? 'GET', auth: headers.Authorization ?? null });
      return handler(url, init);
    }),
  );
  return calls;
}
const auth = (init: RequestInit) => ((init.headers ?? {}) as Record<string, string>).Authorization;

beforeEach(() => {
  _reset();
  _resetOutage();
  localStorage.clear();
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('the first-visit refresh probe', () => {
  it('is skipped when this browser never signed in, so no 401 is logged', async () => {
    const calls = mockFetch(() => unauthorized());
    const seen: unknown[] = [];
    onSession((u) => seen.push(u));
    expect(await restoreSession()).toBeNull();
    expect(calls).toHaveLength(0);
    expect(seen).toEqual([null]);
  });

  it('runs when the server says a session can exist', async () => {
    const calls = mockFetch(() => json(200, tokens(2)));
    document.cookie = 'baton_session=1; path=/';
    try {
      expect(hasSessionHint()).toBe(true);
      expect((await restoreSession())?.id).toBe('u1');
      expect(calls).toHaveLength(1);
    } finally {
      document.cookie = 'baton_session=; path=/; max-age=0';
    }
  });
});

describe('an ended session during a save', () => {
  function serverWhereOnlyToken(n: number, onSave: (body: string) => void) {
    return mockFetch((url, init) => {
      if (url === '/api/auth/refresh') return unauthorized();
      if (url === '/api/auth/login') return json(200, tokens(n));
      if (auth(init) !== `Bearer token-${n}`) return unauthorized();
      onSave(String(init.body));
      return json(200, { saved: true });
    });
  }

  it('asks to sign in again in place, then sends the save and completes it', async () => {
    acceptTokens(tokens(1));
    const saved: string[] = [];
    const calls = serverWhereOnlyToken(2, (b) => saved.push(b));
    const asked: ReauthRequest[] = [];
    onReauth((r) => asked.push(r));
    const seen: unknown[] = [];
    onSession((u) => seen.push(u));

    const pending = put<{ saved: boolean }>('/api/lessons/l/reflections/r', { body: 'my words' });
    await vi.waitFor(() => expect(asked).toHaveLength(1));
    expect(asked[0].user.email).toBe('ann@example.test');
    expect(seen).not.toContain(null); // the page is not sent to /login
    await login('ann@example.test', 'the right password');
    asked[0].done(true);
    expect(await pending).toEqual({ saved: true });
    expect(saved).toEqual([JSON.stringify({ body: 'my words' })]);
    expect(calls.filter((c) => c.url === '/api/lessons/l/reflections/r').map((c) => c.auth)).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  it('asks once for many requests and sends them all afterwards', async () => {
    acceptTokens(tokens(1));
    let saves = 0;
    serverWhereOnlyToken(2, () => saves++);
    const asked: ReauthRequest[] = [];
    onReauth((r) => asked.push(r));
    const all = Promise.all([put('/api/a', {}), put('/api/b', {}), get('/api/c')]);
    await vi.waitFor(() => expect(asked).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 10));
    expect(asked).toHaveLength(1);
    await login('ann@example.test', 'pw');
    asked[0].done(true);
    await all;
    expect(saves).toBe(3);
  });

  it('on cancel leaves the page and says the text was not sent but is kept', async () => {
    acceptTokens(tokens(1));
    serverWhereOnlyToken(2, () => {});
    const seen: unknown[] = [];
    onSession((u) => seen.push(u));
    onReauth((r) => r.done(false));
    const err = (await put('/api/a', { body: 'x' }).catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(401);
    expect(err.message).toContain('kept on this device');
    expect(seen).not.toContain(null);
    expect(getToken()).toBeNull();
  });

  it('ends the session (to /login) when nothing on the page can ask', async () => {
    acceptTokens(tokens(1));
    serverWhereOnlyToken(2, () => {});
    const seen: unknown[] = [];
    onSession((u) => seen.push(u));
    const err = (await get('/api/a').catch((e) => e)) as ApiError;
    expect(err.status).toBe(401);
    expect(seen).toContain(null);
  });

  it('does not ask when signing out', async () => {
    acceptTokens(tokens(1));
    serverWhereOnlyToken(2, () => {});
    const asked: ReauthRequest[] = [];
    onReauth((r) => asked.push(r));
    await logout();
    expect(asked).toHaveLength(0);
  });
});

describe('an outage', () => {
  it('holds a save until the server answers again, retrying on a backoff', async () => {
    vi.useFakeTimers();
    let up = false;
    const probes: number[] = [];
    _resetOutage(async () => {
      probes.push(Date.now());
      return up;
    });
    let saves = 0;
    mockFetch(() => {
      if (!up) throw new TypeError('Failed to fetch');
      saves++;
      return json(200, { ok: true });
    });
    const states: boolean[] = [];
    onOutage((s) => states.push(s.down));
    acceptTokens(tokens(1));
    const start = Date.now();
    const pending = put('/api/a', { body: 'words' });
    await vi.advanceTimersByTimeAsync(0);
    expect(getOutage().down).toBe(true);
    expect(getOutage().retryAt).toBe(start + BACKOFF_MS[0]);
    await vi.advanceTimersByTimeAsync(BACKOFF_MS[0] + BACKOFF_MS[1] + 10);
    expect(probes.map((p) => p - start)).toEqual([BACKOFF_MS[0], BACKOFF_MS[0] + BACKOFF_MS[1]]);
    expect(saves).toBe(0);
    up = true;
    await vi.advanceTimersByTimeAsync(BACKOFF_MS[2]);
    expect(await pending).toEqual({ ok: true });
    expect(saves).toBe(1);
    expect(getOutage().down).toBe(false);
    expect(states.at(-1)).toBe(false);
  });

  it('treats 502, 503 and 504 as an outage, and Retry now probes at once', async () => {
    vi.useFakeTimers();
    let up = false;
    let probes = 0;
    _resetOutage(async () => {
      probes++;
      return up;
    });
    mockFetch(() => (up ? json(200, { ok: 1 }) : new Response('bad gateway', { status: 502 })));
    const pending = get('/api/a');
    await vi.advanceTimersByTimeAsync(0);
    expect(getOutage().down).toBe(true);
    up = true;
    retryNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(probes).toBe(1);
    expect(await pending).toEqual({ ok: 1 });
  });

  it('does not send a POST twice: it fails at once, and the banner still shows', async () => {
    _resetOutage(async () => false);
    let posts = 0;
    mockFetch(() => {
      posts++;
      throw new TypeError('Failed to fetch');
    });
    const err = await post('/api/attempts', {}).catch((e) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(posts).toBe(1);
    expect(getOutage().down).toBe(true);
  });

  it('lets a waiting request be aborted', async () => {
    _resetOutage(async () => false);
    mockFetch(() => {
      throw new TypeError('Failed to fetch');
    });
    const ac = new AbortController();
    const pending = get('/api/a', { signal: ac.signal }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 0));
    ac.abort();
    expect(((await pending) as Error).name).toBe('AbortError');
  });
});

describe('account changes during an outage', () => {
  it('fail at once instead of waiting, so the person knows they did not happen', async () => {
    _resetOutage(async () => false);
    let sent = 0;
    mockFetch(() => {
      sent++;
      throw new TypeError('Failed to fetch');
    });
    const err = await changePassword('old password here', 'new password here').catch((e) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(sent).toBe(1);
  });
});
