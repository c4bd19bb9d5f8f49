import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, _reset, get, getToken, login, onSession, parseProblem, post, refresh, setToken } from '../src/api';

function json(status: number, body: unknown, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

const tokens = (n: number) => ({
  user: { id: 'u1', email: 'a@b.c', name: 'A', role: 'learner' },
  access_token: `token-${n}`,
  token_type: 'Bearer',
  expires_in: 900,
});

type Call = { url: string; auth: string | null; method: string };

function mockFetch(handler: (url: string, init: RequestInit, calls: Call[]) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fn = vi.fn(async (url: string, init: RequestInit = {}) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    calls.push({ url, auth: headers.Authorization ?? null, method: init.method ?? 'GET' });
    return handler(url, init, calls);
  });
  vi.stubGlobal('fetch', fn);
  return { fn, calls };
}

beforeEach(() => {
  _reset();
  localStorage.clear();
  sessionStorage.clear();
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('token handling', () => {
  it('keeps the access token in memory only and sends it as a bearer token', async () => {
    const { calls } = mockFetch((url) => (url === '/api/auth/login' ? json(200, tokens(1)) : json(200, { ok: true })));
    const user = await login('a@b.c', 'correct horse battery');
    expect(user.name).toBe('A');
    expect(getToken()).toBe('token-1');
    await get('/api/me');
    expect(calls[1].auth).toBe('Bearer token-1');
    // Nothing in storage, least of all a token.
    expect(Object.keys(localStorage)).toEqual([]);
    expect(Object.values(localStorage).join()).not.toContain('token-1');
    expect(sessionStorage.length).toBe(0);
    expect(document.cookie).not.toContain('token-1');
  });

  it('sends the refresh cookie with same-origin credentials', async () => {
    const { fn } = mockFetch(() => json(200, tokens(2)));
    await refresh();
    expect(fn.mock.calls[0][0]).toBe('/api/auth/refresh');
    expect((fn.mock.calls[0][1] as RequestInit).credentials).toBe('same-origin');
    expect((fn.mock.calls[0][1] as RequestInit).method).toBe('POST');
  });
});

describe('refresh and retry', () => {
  it('refreshes once and retries a request that got 401', async () => {
    setToken('old');
    const { calls } = mockFetch((url, init) => {
      const auth = (init.headers as Record<string, string>).Authorization;
      if (url === '/api/auth/refresh') return json(200, tokens(2));
      return auth === 'Bearer token-2' ? json(200, { modules: 7 }) : json(401, { type: 'urn:baton:problem:unauthorized', title: 'Unauthorized', status: 401 }, 'application/problem+json');
    });
    const data = await get<{ modules: number }>('/api/modules');
    expect(data.modules).toBe(7);
    expect(calls.map((c) => c.url)).toEqual(['/api/modules', '/api/auth/refresh', '/api/modules']);
    expect(getToken()).toBe('token-2');
  });

  it('runs a single refresh for many concurrent 401s (a reused refresh token revokes the session)', async () => {
    setToken('old');
    let refreshes = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    mockFetch(async (url, init) => {
      const auth = (init.headers as Record<string, string>).Authorization;
      if (url === '/api/auth/refresh') {
        refreshes++;
        await gate;
        return json(200, tokens(refreshes + 1));
      }
      return auth === 'Bearer token-2' ? json(200, { url }) : json(401, { type: 'x', title: 'Unauthorized', status: 401 });
    });
    const all = Promise.all([get('/api/a'), get('/api/b'), get('/api/c'), post('/api/d', { x: 1 })]);
    await new Promise((r) => setTimeout(r, 10));
    release();
    const results = await all;
    expect(refreshes).toBe(1);
    expect(results).toHaveLength(4);
  });

  it('does not refresh again when another request already refreshed', async () => {
    setToken('old');
    let refreshes = 0;
    mockFetch(async (url, init) => {
      const auth = (init.headers as Record<string, string>).Authorization;
      if (url === '/api/auth/refresh') {
        refreshes++;
        return json(200, tokens(2));
      }
      if (url === '/api/slow' && auth === 'Bearer old') {
        await new Promise((r) => setTimeout(r, 30));
        return json(401, { type: 'x', title: 'Unauthorized', status: 401 });
      }
      return auth === 'Bearer token-2' ? json(200, {}) : json(401, { type: 'x', title: 'Unauthorized', status: 401 });
    });
    await Promise.all([get('/api/slow'), get('/api/fast')]);
    expect(refreshes).toBe(1);
  });

  it('ends the session when the refresh fails', async () => {
    setToken('old');
    const seen: (unknown | null)[] = [];
    onSession((u) => seen.push(u));
    mockFetch(() => json(401, { type: 'urn:baton:problem:unauthorized', title: 'Unauthorized', status: 401, detail: 'Sign in again.' }, 'application/problem+json'));
    const err = (await get('/api/me').catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(401);
    expect(getToken()).toBeNull();
    expect(seen).toContain(null);
  });

  it('does not retry sign-in requests', async () => {
    const { calls } = mockFetch(() => json(401, { type: 'x', title: 'Unauthorized', status: 401, detail: 'Wrong email or password.' }, 'application/problem+json'));
    const err = (await login('a@b.c', 'wrong password!').catch((e) => e)) as ApiError;
    expect(err.message).toBe('Wrong email or password.');
    expect(calls).toHaveLength(1);
  });
});

describe('problem details', () => {
  it('exposes detail and per-field errors of a 422', async () => {
    mockFetch(() =>
      json(
        422,
        {
          type: 'urn:baton:problem:validation',
          title: 'Unprocessable Entity',
          status: 422,
          detail: 'Check the highlighted fields.',
          errors: [
            { field: 'password', message: 'must be at least 12 characters' },
            { field: 'name', message: 'is required' },
          ],
        },
        'application/problem+json',
      ),
    );
    const err = (await post('/api/auth/register', {}, { noRetry: true }).catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toBe('Check the highlighted fields.');
    expect(err.fields).toEqual({ password: 'must be at least 12 characters', name: 'is required' });
    expect(err.problem.type).toBe('urn:baton:problem:validation');
  });

  it('falls back to the status for a response that is not JSON', async () => {
    const p = await parseProblem(new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway', headers: { 'Content-Type': 'text/html' } }));
    expect(p.status).toBe(502);
    expect(p.detail).toContain('502');
  });

  it('survives malformed JSON', async () => {
    const p = await parseProblem(new Response('{not json', { status: 500, headers: { 'Content-Type': 'application/problem+json' } }));
    expect(p.status).toBe(500);
    expect(p.detail).toBeTruthy();
  });
});

describe('a deferred sign-in', () => {
  it('is sent again after the wait the server names, without an outage', async () => {
    vi.useFakeTimers();
    try {
      let n = 0;
      const { calls } = mockFetch((url) => {
        if (url !== '/api/auth/login') return json(200, { ok: true });
        n++;
        if (n < 3) {
          return new Response(JSON.stringify({ title: 'Service Unavailable', status: 503, detail: 'Many people are signing in at this moment.' }), {
            status: 503,
            headers: { 'Content-Type': 'application/problem+json', 'Retry-After': '2' },
          });
        }
        return json(200, tokens(3));
      });
      const signedIn = login('a@b.c', 'correct horse battery');
      await vi.advanceTimersByTimeAsync(1999);
      expect(calls.filter((c) => c.url === '/api/auth/login')).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(2001);
      const user = await signedIn;
      expect(user.name).toBe('A');
      expect(calls.map((c) => c.url)).toEqual(['/api/auth/login', '/api/auth/login', '/api/auth/login']); // no /readyz probe
    } finally {
      vi.useRealTimers();
    }
  });

  it('fails as before on a 503 that names no wait', async () => {
    mockFetch(() => json(503, { title: 'Service Unavailable', status: 503, detail: 'down' }, 'application/problem+json'));
    await expect(login('a@b.c', 'correct horse battery')).rejects.toBeInstanceOf(ApiError);
  });
});
