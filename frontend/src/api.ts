// The API client: the access token lives in this module's memory only; the
// refresh cookie (HttpOnly, path /api/auth) restores it. Refreshes are
// single-flight because a refresh token presented twice revokes the session.
//
// Nothing a person typed is lost to the network: a request whose session has
// ended asks for sign-in in place (components/SignInDialog) and is then sent
// again, and a request that may safely be repeated waits out an outage
// (outage.ts) instead of failing.
import { OUTAGE_STATUSES, isNetworkError, reportOutage, serverAnswered, waitForServer } from './outage';
import type { AuthProvider, LtiDeepLinkResponse, LtiPlatform, LtiPlatformInput, LtiRegistrationUrl, SsoDomain, TokenResponse, User } from './types';

export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
  /** where to sign in instead: a password sign-in for an address that must use company sign-in */
  login_url?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  /** Seconds the server asked to wait before trying again (Retry-After), if it said. */
  readonly retryAfter: number | null;

  constructor(problem: Problem, retryAfter: number | null = null) {
    super(problem.detail || problem.title || `Request failed (${problem.status})`);
    this.name = 'ApiError';
    this.status = problem.status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  /** Per-field messages keyed by field name (first message wins). */
  get fields(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.problem.errors ?? []) {
      if (e.field && !(e.field in out)) out[e.field] = e.message;
    }
    return out;
  }
}

/** Turns any thrown value into a user-facing message. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof TypeError) return 'Could not reach the server. Check your connection and try again.';
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}

/** Reads a failed response as an RFC 9457 problem, whatever it contains. */
export async function parseProblem(res: Response): Promise<Problem> {
  const fallback: Problem = {
    type: 'about:blank',
    title: res.statusText || 'Error',
    status: res.status,
    detail: `The server answered ${res.status}${res.statusText ? ' ' + res.statusText : ''}.`,
  };
  const ctype = res.headers.get('Content-Type') || '';
  if (!ctype.includes('json')) return fallback;
  try {
    const body = (await res.json()) as Partial<Problem>;
    return {
      type: typeof body.type === 'string' ? body.type : fallback.type,
      title: typeof body.title === 'string' ? body.title : fallback.title,
      status: typeof body.status === 'number' ? body.status : res.status,
      detail: typeof body.detail === 'string' && body.detail ? body.detail : fallback.detail,
      errors: Array.isArray(body.errors) ? body.errors : undefined,
      login_url: isAppPath(body.login_url) ? body.login_url : undefined,
    };
  } catch {
    return fallback;
  }
}

/** A same-origin path (not "//host", which a browser reads as another site). */
export function isAppPath(p: unknown): p is string {
  return typeof p === 'string' && p.startsWith('/') && !p.startsWith('//') && !p.startsWith('/\\');
}

let accessToken: string | null = null;
let refreshInFlight: Promise<TokenResponse | null> | null = null;
// Who was signed in on this page: the sign-in dialog offers their address,
// and its presence means there is page state worth keeping.
let pageUser: User | null = null;
type SessionListener = (user: User | null) => void;
const listeners = new Set<SessionListener>();

// The server sets a readable `baton_session=1` cookie beside the HttpOnly
// refresh cookie, with its lifetime, and clears it with it (a hint, not a
// secret): without it no refresh cookie can exist, so the first visit skips
// the refresh probe instead of logging a 401.
export function hasSessionHint(): boolean {
  return /(?:^|;\s*)baton_session=1(?:;|$)/.test(document.cookie);
}

export function getToken(): string | null {
  return accessToken;
}

export function setToken(token: string | null): void {
  accessToken = token;
}

/** Subscribe to session changes: a user after sign-in/refresh, null when the session is gone. */
export function onSession(fn: SessionListener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(user: User | null) {
  for (const fn of listeners) fn(user);
}

/** The session is over and there is nothing on the page to keep. */
function endSession() {
  accessToken = null;
  pageUser = null;
  emit(null);
}

/** Accepts a token response from register, login or refresh. */
export function acceptTokens(t: TokenResponse): User {
  accessToken = t.access_token;
  pageUser = t.user;
  emit(t.user);
  return t.user;
}

/**
 * Exchanges the refresh cookie for a new access token. Only one refresh runs
 * at a time; concurrent callers share its result. Resolves null when the
 * cookie is missing, expired or revoked; the caller decides what that ends.
 * While the server cannot be reached it waits for it.
 */
export function refresh(): Promise<TokenResponse | null> {
  if (refreshInFlight) return refreshInFlight;
  refreshInFlight = (async () => {
    try {
      for (;;) {
        let res: Response;
        try {
          res = await fetch('/api/auth/refresh', {
            method: 'POST',
            credentials: 'same-origin',
            headers: { Accept: 'application/json' },
          });
        } catch (err) {
          if (!isNetworkError(err)) return null;
          reportOutage();
          await waitForServer();
          continue;
        }
        if (OUTAGE_STATUSES.has(res.status)) {
          reportOutage();
          await waitForServer();
          continue;
        }
        serverAnswered();
        if (!res.ok) {
          accessToken = null;
          return null;
        }
        const t = (await res.json()) as TokenResponse;
        acceptTokens(t);
        return t;
      }
    } finally {
      refreshInFlight = null;
    }
  })();
  return refreshInFlight;
}

/** Restores the session at page load from the refresh cookie, if one can exist. */
export async function restoreSession(): Promise<User | null> {
  if (!hasSessionHint()) {
    endSession();
    return null;
  }
  const t = await refresh();
  if (!t) {
    endSession();
    return null;
  }
  return t.user;
}

/** What the sign-in dialog is asked: sign this person in again, then call done. */
export interface ReauthRequest {
  user: User;
  /** true once signed in again as the same person; false when they cancel. */
  done: (signedIn: boolean) => void;
}
type ReauthHandler = (r: ReauthRequest) => void;
let reauthHandler: ReauthHandler | null = null;
let reauthInFlight: Promise<boolean> | null = null;

/** Mounts the in-place sign-in (one at a time); without it an ended session goes to /login. */
export function onReauth(fn: ReauthHandler): () => void {
  reauthHandler = fn;
  return () => {
    if (reauthHandler === fn) reauthHandler = null;
  };
}

/** Asks once, for all requests that found the session ended, to sign in again. */
function reauthenticate(user: User): Promise<boolean> {
  if (reauthInFlight) return reauthInFlight;
  const handler = reauthHandler;
  if (!handler) return Promise.resolve(false);
  reauthInFlight = new Promise<boolean>((resolve) => {
    handler({
      user,
      done: (ok) => {
        reauthInFlight = null;
        resolve(ok && accessToken !== null);
      },
    });
  });
  return reauthInFlight;
}

/** The error of a request left unsent because its person chose not to sign in again. */
export function signedOutError(method = 'PUT'): ApiError {
  const reading = method.toUpperCase() === 'GET' || method.toUpperCase() === 'HEAD';
  return new ApiError({
    type: 'urn:baton:problem:unauthorized',
    title: 'Signed out',
    status: 401,
    detail: reading
      ? 'You are signed out. Sign in again to see this page.'
      : 'You are signed out, so this was not sent. What you typed is kept on this device; sign in again to send it.',
  });
}

export interface RequestOptions {
  /** Do not try to refresh and retry on 401 (sign-in forms). */
  noRetry?: boolean;
  /** On an ended session, do not ask to sign in again (signing out). */
  noReauth?: boolean;
  /** During an outage fail at once instead of waiting (account changes the person should see fail). */
  noQueue?: boolean;
  /** Return the raw Response (for downloads). */
  raw?: boolean;
  signal?: AbortSignal;
}

// Methods HTTP defines as safe to repeat: only these wait out an outage and
// are sent again, since a POST may have been carried out before the answer was lost.
const REPEATABLE = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

async function send(method: string, path: string, body: unknown, token: string | null, signal?: AbortSignal) {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  return fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    signal,
  });
}

/** Sends once, or, for a repeatable request, as often as it takes the server to come back. */
async function sendThroughOutage(method: string, path: string, body: unknown, token: string | null, opts: RequestOptions): Promise<Response> {
  const repeatable = REPEATABLE.has(method.toUpperCase()) && !opts.noRetry && !opts.noQueue;
  for (;;) {
    let res: Response;
    try {
      res = await send(method, path, body, token, opts.signal);
    } catch (err) {
      if (!isNetworkError(err)) throw err;
      reportOutage();
      if (!repeatable) throw err;
      await waitForServer(opts.signal);
      continue;
    }
    if (OUTAGE_STATUSES.has(res.status) && !deferred(res)) {
      reportOutage();
      if (!repeatable) return res;
      await waitForServer(opts.signal);
      continue;
    }
    serverAnswered();
    return res;
  }
}

/**
 * Low-level request returning the Response. On 401 it refreshes once and
 * retries; if the session is gone and the person was signed in on this page,
 * it asks them to sign in again in place and then sends the request again.
 */
export async function request(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<Response> {
  const used = accessToken;
  let res = await sendThroughOutage(method, path, body, used, opts);
  if (res.status === 401 && !opts.noRetry) {
    // Another request may already have refreshed while this one was in flight.
    let token = accessToken;
    if (!token || token === used) {
      const t = await refresh();
      token = t ? t.access_token : null;
    }
    if (token) res = await sendThroughOutage(method, path, body, token, opts);
    if (res.status === 401) {
      accessToken = null;
      const who = pageUser;
      if (who && !opts.noReauth && reauthHandler) {
        if (!(await reauthenticate(who))) throw signedOutError(method);
        res = await sendThroughOutage(method, path, body, accessToken, opts);
        if (res.status === 401) endSession();
      } else {
        endSession();
      }
    }
  }
  if (!res.ok) throw new ApiError(await parseProblem(res), retryAfterOf(res));
  return res;
}

/** A response's Retry-After in seconds, when it gives a number. */
function retryAfterOf(res: Response): number | null {
  const n = Number(res.headers.get('Retry-After'));
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** A 503 with Retry-After is the server deferring this request (say, many
 * sign-ins at once), not an outage: it answered, and said when to come back. */
function deferred(res: Response): boolean {
  return res.status === 503 && retryAfterOf(res) !== null;
}

/** Fetches path and hands the body to the browser as a download named filename. */
export async function downloadFile(path: string, filename: string): Promise<void> {
  const res = await request('GET', path, undefined);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** JSON request: resolves the parsed body (undefined for 204). */
export async function api<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  const res = await request(method, path, body, opts);
  if (res.status === 204) return undefined as T;
  const ctype = res.headers.get('Content-Type') || '';
  if (!ctype.includes('json')) return (await res.text()) as unknown as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string, opts?: RequestOptions) => api<T>('GET', path, undefined, opts);
export const post = <T>(path: string, body?: unknown, opts?: RequestOptions) => api<T>('POST', path, body, opts);
export const put = <T>(path: string, body?: unknown) => api<T>('PUT', path, body);
export const patch = <T>(path: string, body?: unknown) => api<T>('PATCH', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);

/** How long a sign-in keeps trying while the server defers it (many people
 * signing in at once, as when an assignment email goes out at nine). */
const SIGN_IN_PATIENCE_MS = 90_000;

export async function login(email: string, password: string): Promise<User> {
  const giveUpAt = Date.now() + SIGN_IN_PATIENCE_MS;
  for (;;) {
    try {
      return acceptTokens(await post<TokenResponse>('/api/auth/login', { email, password }, { noRetry: true }));
    } catch (err) {
      // The server checked nothing yet: it deferred the sign-in and said when to come back.
      if (!(err instanceof ApiError && err.status === 503 && err.retryAfter !== null)) throw err;
      const wait = err.retryAfter * 1000;
      if (Date.now() + wait > giveUpAt) throw err;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

export async function register(name: string, email: string, password: string): Promise<User> {
  return acceptTokens(await post<TokenResponse>('/api/auth/register', { name, email, password }, { noRetry: true }));
}

export async function logout(): Promise<void> {
  try {
    // An expired access token is refreshed first, so the session is really revoked.
    if (accessToken) await post('/api/auth/logout', undefined, { noReauth: true });
  } catch (err) {
    // A session that had already ended is what signing out wants.
    if (!(err instanceof ApiError && err.status === 401)) throw err;
  } finally {
    endSession();
  }
}

/** Forgets the session locally, after the server already ended it (a deleted account). */
export function forgetSession(): void {
  endSession();
}

// The account lifecycle. The public calls never refresh: they carry their own proof (a token from an email).
export const verifyEmail = (token: string) => post<void>('/api/auth/verify-email', { token }, { noRetry: true });
export const requestPasswordReset = (email: string) => post<void>('/api/auth/password-reset', { email }, { noRetry: true });
export const confirmPasswordReset = (token: string, password: string) =>
  post<void>('/api/auth/password-reset/confirm', { token, password }, { noRetry: true });
export const resendVerification = () => post<void>('/api/me/verification');
export const changePassword = (current_password: string, new_password: string) => api<void>('PUT', '/api/me/password', { current_password, new_password }, { noQueue: true });
export const revokeSession = (id: string) => del<void>(`/api/me/sessions/${encodeURIComponent(id)}`);
/** Deletes the caller's account; an account without a password sends {} (the server then wants a recent sign-in). */
export const deleteAccount = (password?: string) => api<void>('DELETE', '/api/me', password === undefined ? {} : { password }, { noQueue: true });

// Company sign-in (OpenID Connect). The sign-in itself is a full-page
// navigation: the provider's pages cannot run inside fetch, and the server
// answers with redirects that set the refresh cookie.

/** The address that starts a sign-in with provider and comes back to next (an app path). */
export function ssoLoginHref(provider: Pick<AuthProvider, 'login_url'>, next = '/'): string {
  const base = isAppPath(provider.login_url) ? provider.login_url : '/api/auth/oidc/login';
  if (!isAppPath(next) || next === '/') return base;
  return `${base}${base.includes('?') ? '&' : '?'}next=${encodeURIComponent(next)}`;
}

/** Leaves the app for the provider's sign-in; the server brings the person back to next. */
export function startSso(provider: Pick<AuthProvider, 'login_url'>, next = '/'): void {
  window.location.assign(ssoLoginHref(provider, next));
}

/** Connects a password account to company sign-in: with its password on the sign-in page, or with only the emailed link's token. Signs in. */
export async function linkSso(token: string, password?: string): Promise<User> {
  const body = password === undefined ? { token } : { token, password };
  return acceptTokens(await post<TokenResponse>('/api/auth/oidc/link', body, { noRetry: true }));
}

/** Which account an emailed link would connect, without using it up. */
export const previewSsoLink = (token: string) =>
  post<{ email: string; provider: string }>('/api/auth/oidc/link', { token, preview: true }, { noRetry: true });

export const listSsoDomains = () => get<SsoDomain[]>('/api/admin/sso-domains');
export const requireSsoDomain = (domain: string) => put<SsoDomain>(`/api/admin/sso-domains/${encodeURIComponent(domain)}`);
export const releaseSsoDomain = (domain: string) => del<void>(`/api/admin/sso-domains/${encodeURIComponent(domain)}`);

// LTI 1.3: the admin's platforms and tool keys, and the deep-linking picker.
export const listLtiPlatforms = () => get<LtiPlatform[]>('/api/admin/lti/platforms');
export const registerLtiPlatform = (p: LtiPlatformInput) => post<LtiPlatform>('/api/admin/lti/platforms', p);
export const removeLtiPlatform = (id: string) => del<void>(`/api/admin/lti/platforms/${encodeURIComponent(id)}`);
export const newLtiRegistration = () => post<LtiRegistrationUrl>('/api/admin/lti/registrations');
export const rotateLtiKey = () => post<{ kid: string }>('/api/admin/lti/keys');
export const answerLtiDeepLink = (id: string, items: { kind: string; slug: string }[]) =>
  post<LtiDeepLinkResponse>(`/api/lti/deep-links/${encodeURIComponent(id)}`, { items });

/** Test helper: forget all state. */
export function _reset(): void {
  accessToken = null;
  refreshInFlight = null;
  pageUser = null;
  reauthHandler = null;
  reauthInFlight = null;
  listeners.clear();
}
