import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flush, json, problem, serve, submit, type } from './serve';
import { _reset, getToken, isAppPath, parseProblem, ssoLoginHref } from '../src/api';
import { ssoErrorMessage } from '../src/components/CompanySignIn';
import { TeamLine } from '../src/components/TeamLine';
import { AccountPage } from '../src/pages/Account';
import { SsoLinkPage } from '../src/pages/AccountLinks';
import { LoginPage, SignupPage } from '../src/pages/Auth';
import { normalizeDomain, SsoDomainsSection } from '../src/pages/SsoDomains';

let root: HTMLElement;
const provider = { id: 'oidc', name: 'Acme Okta', login_url: '/api/auth/oidc/login' };
const tokens = { user: { id: 'u1', email: 'dana@acme.test', name: 'Dana', role: 'learner' }, access_token: 'tok-1', token_type: 'Bearer', expires_in: 900 };

let assigned: string[] = [];
beforeEach(() => {
  _reset();
  assigned = [];
  vi.spyOn(window.location, 'assign').mockImplementation((u: string | URL) => {
    assigned.push(String(u));
  });
  root = document.createElement('div');
  document.body.appendChild(root);
});

afterEach(() => {
  render(null, root);
  root.remove();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  window.history.replaceState(null, '', '/');
});

describe('ssoLoginHref', () => {
  it('appends the app path to come back to, and only an app path', () => {
    expect(ssoLoginHref(provider, '/lessons/one?x=1')).toBe('/api/auth/oidc/login?next=%2Flessons%2Fone%3Fx%3D1');
    expect(ssoLoginHref(provider, '/')).toBe('/api/auth/oidc/login');
    expect(ssoLoginHref(provider, '//evil.test/')).toBe('/api/auth/oidc/login');
    expect(ssoLoginHref({ login_url: 'https://evil.test/login' }, '/x')).toBe('/api/auth/oidc/login?next=%2Fx');
    expect(isAppPath('/\\evil.test')).toBe(false);
  });

  it('keeps the login_url of a 403 problem, only when it is an app path', async () => {
    const p = await parseProblem(problem(403, 'Use company sign-in.', { login_url: '/api/auth/oidc/login' }));
    expect(p.login_url).toBe('/api/auth/oidc/login');
    expect((await parseProblem(problem(403, 'x', { login_url: 'https://evil.test' }))).login_url).toBeUndefined();
  });
});

describe('ssoErrorMessage', () => {
  it('says something specific for every code and never shows the code', () => {
    const codes = ['denied', 'expired', 'state', 'unverified_email', 'no_email', 'deactivated', 'provider', 'invalid_token', 'conflict', 'unavailable'];
    const messages = new Set(codes.map(ssoErrorMessage));
    expect(messages.size).toBe(codes.length);
    for (const c of codes) expect(ssoErrorMessage(c)).not.toMatch(/_|sso_error|\bcode\b/);
    expect(ssoErrorMessage('toString')).toBe(ssoErrorMessage('no_such_code'));
    expect(ssoErrorMessage('no_such_code')).toMatch(/could not be completed/);
  });
});

describe('LoginPage with company sign-in', () => {
  it('offers "Sign in with <provider>" and goes to the provider with the wanted page', async () => {
    serve({ 'GET /api/auth/providers': () => json(200, [provider]) });
    window.history.replaceState(null, '', '/login?next=%2Fprogress');
    await act(() => render(<LoginPage />, root));
    await flush();
    const button = root.querySelector<HTMLButtonElement>('.sso-button');
    expect(button?.textContent).toBe('Sign in with Acme Okta');
    await act(() => button!.click());
    expect(assigned).toEqual(['/api/auth/oidc/login?next=%2Fprogress']);
  });

  it('shows no button when SSO is off', async () => {
    serve({ 'GET /api/auth/providers': () => json(200, []) });
    await act(() => render(<LoginPage />, root));
    await flush();
    expect(root.querySelector('.sso-button')).toBeNull();
    expect(root.querySelector('.auth-or')).toBeNull();
  });

  it('explains an sso_error in words, focuses it, offers the button again and takes the code out of the address', async () => {
    serve({ 'GET /api/auth/providers': () => json(200, [provider]) });
    window.history.replaceState(null, '', '/login?sso_error=state');
    await act(() => render(<LoginPage />, root));
    await flush();
    const alert = root.querySelector<HTMLElement>('.sso-error [role=alert]');
    expect(alert?.textContent).toContain('started in another browser or tab');
    expect(alert?.textContent).not.toContain('sso_error');
    expect(document.activeElement).toBe(alert);
    expect(root.querySelector('.sso-button')?.textContent).toBe('Sign in with Acme Okta');
    expect(window.location.search).toBe('');
  });

  it('answers a password sign-in that must use SSO with its detail and a prominent SSO button', async () => {
    serve({
      'GET /api/auth/providers': () => json(200, [provider]),
      'POST /api/auth/login': () => problem(403, 'Addresses at acme.test sign in with Acme Okta.', { login_url: '/api/auth/oidc/login' }),
    });
    await act(() => render(<LoginPage />, root));
    await flush();
    await type(root.querySelector('input[name=email]'), 'dana@acme.test');
    await type(root.querySelector('input[name=password]'), 'a long password here');
    await submit(root, 'form');
    await flush();
    const required = root.querySelector('.sso-required')!;
    expect(required.querySelector('[role=alert]')?.textContent).toBe('Addresses at acme.test sign in with Acme Okta.');
    const button = required.querySelector<HTMLButtonElement>('.sso-button');
    expect(button?.classList.contains('btn-primary')).toBe(true);
    expect(root.querySelectorAll('[role=alert]')).toHaveLength(1);
  });
});

describe('connecting an existing account', () => {
  const linkUrl = '/login?sso_link=link-tok&email=dana%40acme.test';

  it('asks the password once, for the prefilled address, and signs in', async () => {
    const calls = serve({
      'GET /api/auth/providers': () => json(200, [provider]),
      'POST /api/auth/oidc/link': () => json(200, tokens),
    });
    window.history.replaceState(null, '', linkUrl);
    await act(() => render(<LoginPage />, root));
    await flush();
    expect(window.location.search).toBe('');
    expect(root.textContent).toContain('An account with this address already exists');
    expect(root.textContent).toContain('Acme Okta sign-in');
    expect(root.textContent).toContain('Or use the link we emailed to dana@acme.test');
    const email = root.querySelector<HTMLInputElement>('input[name=email]')!;
    expect(email.value).toBe('dana@acme.test');
    expect(email.readOnly).toBe(true);
    await type(root.querySelector('input[name=password]'), 'the old password');
    await submit(root, 'form');
    await flush();
    expect(calls.find((c) => c.url === '/api/auth/oidc/link')?.body).toEqual({ token: 'link-tok', password: 'the old password' });
    expect(getToken()).toBe('tok-1');
    expect(window.location.pathname).toBe('/');
  });

  it('says a wrong password is wrong, and a spent token needs a new start', async () => {
    let answer = problem(401, 'Wrong password.');
    serve({ 'GET /api/auth/providers': () => json(200, [provider]), 'POST /api/auth/oidc/link': () => answer });
    window.history.replaceState(null, '', linkUrl);
    await act(() => render(<LoginPage />, root));
    await flush();
    await type(root.querySelector('input[name=password]'), 'not it');
    await submit(root, 'form');
    await flush();
    expect(root.querySelector('[role=alert]')?.textContent).toContain('That is not the password of this account');
    expect(getToken()).toBeNull();

    answer = problem(400, 'The token is used or expired.');
    await submit(root, 'form');
    await flush();
    expect(root.querySelector('h1')?.textContent).toBe('Start the sign-in again');
    expect(root.querySelector('.sso-button')?.textContent).toBe('Sign in with Acme Okta');
    const back = [...root.querySelectorAll('button')].find((b) => b.textContent === 'Sign in with your password')!;
    await act(() => back.click());
    expect(root.querySelector('h1')?.textContent).toBe('Sign in to Baton');
  });
});

describe('SsoLinkPage', () => {
  it('names the account, connects only once confirmed, and signs in', async () => {
    const calls = serve({
      'GET /api/auth/providers': () => json(200, [provider]),
      'POST /api/auth/oidc/link': (body: unknown) =>
        (body as { preview?: boolean }).preview ? json(200, { email: 'dana@acme.test', provider: 'Acme Okta' }) : json(200, tokens),
    });
    window.history.replaceState(null, '', '/sso/link?token=mail-tok');
    await act(() => render(<SsoLinkPage />, root));
    await flush();
    const links = () => calls.filter((c) => c.url === '/api/auth/oidc/link');
    expect(links().map((c) => c.body)).toEqual([{ token: 'mail-tok', preview: true }]);
    expect(root.textContent).toContain('dana@acme.test');
    expect(getToken()).not.toBe('tok-1');
    const confirm = [...root.querySelectorAll('button')].find((b) => b.textContent === 'Connect and sign in')!;
    await act(() => confirm.click());
    await flush();
    expect(links().map((c) => c.body)).toEqual([{ token: 'mail-tok', preview: true }, { token: 'mail-tok' }]);
    expect(getToken()).toBe('tok-1');
    expect(window.location.pathname).toBe('/');
  });

  it('explains a used link and offers sign-in', async () => {
    serve({ 'GET /api/auth/providers': () => json(200, [provider]), 'POST /api/auth/oidc/link': () => problem(400, 'bad token') });
    window.history.replaceState(null, '', '/sso/link?token=old');
    await act(() => render(<SsoLinkPage />, root));
    await flush();
    expect(root.querySelector('[role=alert]')?.textContent).toContain('already used, has expired');
    expect(root.querySelector('.sso-button')).not.toBeNull();
    expect(root.querySelector('a[href="/login"]')).not.toBeNull();
    expect(window.location.search).toBe('');
  });
});

describe('SignupPage', () => {
  it('points an address that must use SSO to the provider', async () => {
    serve({
      'GET /api/auth/providers': () => json(200, [provider]),
      'POST /api/auth/register': () => problem(403, 'Addresses at acme.test sign up with Acme Okta.', { login_url: '/api/auth/oidc/login' }),
    });
    await act(() => render(<SignupPage />, root));
    await flush();
    await type(root.querySelector('input[name=name]'), 'Dana');
    await type(root.querySelector('input[name=email]'), 'dana@acme.test');
    await type(root.querySelector('input[name=password]'), 'a long password here');
    await submit(root, 'form');
    await flush();
    expect(root.querySelector('.sso-required [role=alert]')?.textContent).toBe('Addresses at acme.test sign up with Acme Okta.');
    expect(root.querySelector('.sso-required .sso-button')?.textContent).toBe('Continue with Acme Okta');
  });
});

describe('normalizeDomain', () => {
  it('accepts what looks like an email domain, as the server stores it', () => {
    expect(normalizeDomain(' Acme.COM ')).toBe('acme.com');
    expect(normalizeDomain('@eu.acme.co.uk')).toBe('eu.acme.co.uk');
    expect(normalizeDomain('acme.com.')).toBe('acme.com');
    expect(normalizeDomain('xn--bcher-kva.example')).toBe('xn--bcher-kva.example');
  });
  it('refuses what does not', () => {
    for (const bad of ['', 'acme', 'dana@acme.com', 'acme..com', '-acme.com', 'acme-.com', 'acme.c', 'acme.123', 'ac me.com', 'https://acme.com', 'acme.com/x', `${'a'.repeat(64)}.com`]) {
      expect(normalizeDomain(bad), bad).toBeNull();
    }
  });
});

describe('SsoDomainsSection', () => {
  it('lists, adds and removes domains', async () => {
    const calls = serve({
      'GET /api/admin/sso-domains': () => json(200, [{ domain: 'acme.test', created_at: '2026-11-01T10:00:00Z' }]),
      'PUT /api/admin/sso-domains/beta.test': () => json(200, { domain: 'beta.test', created_at: '2026-12-01T10:00:00Z' }),
      'DELETE /api/admin/sso-domains/acme.test': () => json(204, null),
    });
    await act(() => render(<SsoDomainsSection />, root));
    await flush();
    expect(root.textContent).toContain('refuses password sign-in and sign-up');
    const domains = () => [...root.querySelectorAll('.sso-domain')].map((e) => e.getAttribute('data-domain'));
    expect(domains()).toEqual(['acme.test']);

    await type(root.querySelector('input[name=sso_domain]'), 'not a domain');
    await submit(root, 'form');
    expect(root.querySelector('.field-error')?.textContent).toContain('Enter a domain like example.com');
    expect(calls.some((c) => c.method === 'PUT')).toBe(false);

    await type(root.querySelector('input[name=sso_domain]'), 'Beta.test');
    await submit(root, 'form');
    await flush();
    expect(calls.find((c) => c.method === 'PUT')?.body).toBeUndefined();
    expect(domains()).toEqual(['acme.test', 'beta.test']);

    await act(() => root.querySelector<HTMLButtonElement>('[data-domain="acme.test"] button')!.click());
    await flush();
    expect(domains()).toEqual(['beta.test']);
    expect(root.textContent).toContain('Addresses at acme.test may sign in with a password again.');
  });

  it('shows the server detail when SSO is not configured', async () => {
    serve({ 'GET /api/admin/sso-domains': () => problem(409, 'Single sign-on is not configured: set BATON_OIDC_ISSUER.') });
    await act(() => render(<SsoDomainsSection />, root));
    await flush();
    expect(root.textContent).toContain('Single sign-on is not configured: set BATON_OIDC_ISSUER.');
    expect(root.querySelector('form')).toBeNull();
  });

  it('shows a 409 on adding', async () => {
    serve({
      'GET /api/admin/sso-domains': () => json(200, []),
      'PUT /api/admin/sso-domains/acme.test': () => problem(409, 'Single sign-on is not configured.'),
    });
    await act(() => render(<SsoDomainsSection />, root));
    await flush();
    await type(root.querySelector('input[name=sso_domain]'), 'acme.test');
    await submit(root, 'form');
    await flush();
    expect(root.querySelector('.sso-domain-form [role=alert]')?.textContent).toBe('Single sign-on is not configured.');
  });
});

describe('teams and passwordless accounts', () => {
  it('says who manages a team and that the company added the person', async () => {
    await act(() => render(<TeamLine team={{ id: 't', name: "Dana Reyes's team", manager_name: 'Dana Reyes', provisioned: true }} />, root));
    expect(root.textContent).toBe("Dana Reyes's team, managed by Dana Reyes · added by your company");
    await act(() => render(<TeamLine team={{ id: 't', name: 'Growth pod', manager_name: 'Sam', provisioned: false }} />, root));
    expect(root.textContent).toBe('Growth pod, managed by Sam');
  });

  const me = (has_password: boolean) => ({
    id: 'u1',
    email: 'dana@acme.test',
    name: 'Dana',
    role: 'learner',
    email_verified: true,
    has_password,
    teams: [{ id: 't1', name: "Dana Reyes's team", manager_name: 'Dana Reyes', provisioned: true }],
  });

  it('an account without a password: no password form, deletion asks none, a 403 says to sign in again', async () => {
    const calls = serve({
      'GET /api/me': () => json(200, me(false)),
      'GET /api/auth/providers': () => json(200, [provider]),
      'GET /api/me/sessions': () => json(200, []),
      'DELETE /api/me': () => problem(403, 'Sign in again, then delete the account within 5 minutes.'),
    });
    await act(() => render(<AccountPage />, root));
    await flush();
    expect(root.querySelector('.password-form')).toBeNull();
    expect(root.querySelector('.company-signin-note')?.textContent).toContain('you sign in through Acme Okta');
    expect(root.querySelector('.profile-teams')?.textContent).toContain('managed by Dana Reyes · added by your company');
    expect(root.querySelector('input[name=delete_password]')).toBeNull();
    const del = root.querySelector<HTMLButtonElement>('.delete-form button[type=submit]')!;
    expect(del.disabled).toBe(false);
    await submit(root, '.delete-form');
    await flush();
    expect(calls.find((c) => c.method === 'DELETE')?.body).toEqual({});
    expect(root.querySelector('.delete-form [role=alert]')?.textContent).toContain('Sign in again, then delete the account within 5 minutes.');
    await act(() => [...root.querySelectorAll<HTMLButtonElement>('.delete-form [role=alert] button')].find((b) => b.textContent === 'Sign in again with Acme Okta')!.click());
    expect(assigned).toEqual(['/api/auth/oidc/login?next=%2Faccount']);
  });

  it('an account with a password keeps the password forms', async () => {
    serve({ 'GET /api/me': () => json(200, me(true)), 'GET /api/auth/providers': () => json(200, []), 'GET /api/me/sessions': () => json(200, []) });
    await act(() => render(<AccountPage />, root));
    await flush();
    expect(root.querySelector('.password-form')).not.toBeNull();
    expect(root.querySelector('input[name=delete_password]')).not.toBeNull();
  });
});
