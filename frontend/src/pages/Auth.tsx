import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorMessage, linkSso, login, register } from '../api';
import { navigate, useLocation } from '../router';
import { providerName, SsoButtons, ssoErrorMessage, useProviders } from '../components/CompanySignIn';
import { Field, NewPasswordField, PASSWORD_MIN_LENGTH, useRequest, useTitle } from '../components/ui';
import type { AuthProvider } from '../types';

function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') && !next.startsWith('/signup') && !next.startsWith('/forgot-password') ? next : '/';
}

function AuthShell({ title, lead, children }: { title: string; lead: string; children: preact.ComponentChildren }) {
  return (
    <div class="auth">
      <section class="auth-brand">
        <p class="auth-quote">“Lead through influence, not authority.”</p>
        <ul class="auth-points">
          <li>Short lessons grounded in real product work</li>
          <li>Branching scenarios that score vision, alignment and inspiration</li>
          <li>Retake until the skill sticks</li>
        </ul>
      </section>
      <section class="auth-card card">
        <h1 tabIndex={-1}>{title}</h1>
        <p class="lead">{lead}</p>
        {children}
      </section>
    </div>
  );
}

/**
 * Reads the sign-in page's one-time parameters (a company sign-in's error, or
 * the token to connect an existing account) once, then takes them out of the
 * address bar: a reload must not show a stale error, and the token must not
 * stay in the history.
 */
function useSsoParams(): { error: string; linkToken: string; linkEmail: string } {
  const loc = useLocation();
  const [params] = useState(() => ({
    error: loc.search.get('sso_error') ?? '',
    linkToken: loc.search.get('sso_link') ?? '',
    linkEmail: loc.search.get('email') ?? '',
  }));
  useEffect(() => {
    if (!loc.search.has('sso_error') && !loc.search.has('sso_link')) return;
    const keep = new URLSearchParams(loc.search);
    for (const k of ['sso_error', 'sso_link', 'email']) keep.delete(k);
    const rest = keep.toString();
    window.history.replaceState(null, '', rest ? `${loc.path}?${rest}` : loc.path);
  }, []);
  return params;
}

/** An alert that takes focus when it appears, so a screen reader reads it first and the keyboard starts there. */
function FocusedAlert({ children }: { children: preact.ComponentChildren }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <div class="alert alert-error" role="alert" tabIndex={-1} ref={ref}>
      {children}
    </div>
  );
}

export function LoginPage() {
  useTitle('Sign in');
  const loc = useLocation();
  const next = safeNext(loc.search.get('next'));
  const sso = useSsoParams();
  const providers = useProviders();
  const [linking, setLinking] = useState(!!sso.linkToken);
  if (linking) return <LinkAccount token={sso.linkToken} email={sso.linkEmail} providers={providers.list} next={next} onCancel={() => setLinking(false)} />;
  return <PasswordSignIn next={next} ssoError={sso.error} providers={providers.list} />;
}

function PasswordSignIn({ next, ssoError, providers }: { next: string; ssoError: string; providers: AuthProvider[] }) {
  const loc = useLocation();
  const notice = loc.search.get('reset') ? 'Your password is changed. Sign in with the new one.' : loc.search.get('deleted') ? 'Your account is deleted.' : '';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, fields, run } = useRequest();
  // A password sign-in for an address whose company requires SSO names where to go instead.
  const ssoRequired = error instanceof ApiError && error.status === 403 && error.problem.login_url ? error.problem.login_url : '';
  const requiredProviders = ssoRequired ? providersFor(ssoRequired, providers) : [];

  async function submit(e: Event) {
    e.preventDefault();
    await run(
      async () => {
        await login(email.trim(), password);
        navigate(next, { replace: true });
      },
      { leaves: true },
    );
  }

  return (
    <AuthShell title="Sign in to Baton" lead="Welcome back. Pick up where you left off.">
      {ssoError && error === null && (
        <div class="stack sso-error">
          <FocusedAlert>
            <p class="alert-title">Company sign-in did not work</p>
            <p>{ssoErrorMessage(ssoError)}</p>
          </FocusedAlert>
        </div>
      )}
      {ssoRequired ? (
        <div class="stack sso-required">
          <FocusedAlert>
            <p>{errorMessage(error)}</p>
          </FocusedAlert>
          <SsoButtons providers={requiredProviders} next={next} prominent />
        </div>
      ) : (
        providers.length > 0 && (
          <div class="stack sso-offer">
            <SsoButtons providers={providers} next={next} prominent={!!ssoError} />
            <p class="auth-or">or sign in with your password</p>
          </div>
        )
      )}
      <form onSubmit={submit} noValidate class="stack">
        {error === null && notice && (
          <div class="alert alert-success" role="status">
            {notice}
          </div>
        )}
        {error !== null && !ssoRequired && (
          <div class="alert alert-error" role="alert">
            {errorMessage(error)}
          </div>
        )}
        <Field label="Email" name="email" type="email" value={email} onInput={setEmail} autoComplete="email" required error={fields.email} />
        <Field label="Password" name="password" type="password" value={password} onInput={setPassword} autoComplete="current-password" required error={fields.password} />
        <p class="forgot-link">
          <a href="/forgot-password">Forgot your password?</a>
        </p>
        <button type="submit" class={`btn ${ssoRequired ? 'btn-secondary' : 'btn-primary'} btn-block`} disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p class="auth-switch">
        New to Baton? <a href={`/signup${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`}>Create an account</a>
      </p>
    </AuthShell>
  );
}

/**
 * The providers to offer when the server named one login_url: the listed one
 * with that address, or, if the list has not loaded, a button to that
 * address under the one name the page has.
 */
function providersFor(loginUrl: string, providers: AuthProvider[]): AuthProvider[] {
  const path = loginUrl.split('?')[0];
  const known = providers.filter((p) => p.login_url.split('?')[0] === path);
  return known.length ? known : [{ id: 'company', name: providerName(providers), login_url: path }];
}

/**
 * The provider vouched for an address that already has a password account:
 * the person proves the account is theirs, once, with its password (or with
 * the link the server emailed), and from then on signs in with the provider.
 */
function LinkAccount({ token, email, providers, next, onCancel }: { token: string; email: string; providers: AuthProvider[]; next: string; onCancel: () => void }) {
  const [password, setPassword] = useState('');
  const { busy, error, fields, run } = useRequest();
  const name = providerName(providers);
  const status = error instanceof ApiError ? error.status : 0;

  async function submit(e: Event) {
    e.preventDefault();
    await run(
      async () => {
        await linkSso(token, password);
        navigate(next, { replace: true });
      },
      { leaves: true },
    );
  }

  if (!token || status === 400)
    return (
      <AuthShell title="Start the sign-in again" lead={`The request to connect your account to ${name} sign-in has expired or was already used.`}>
        <div class="stack">
          <FocusedAlert>
            <p>Nothing was connected. Sign in with {name} again to get a new request, or sign in with your password.</p>
          </FocusedAlert>
          <SsoButtons providers={providers} next={next} prominent />
          <button type="button" class="btn btn-secondary btn-block" onClick={onCancel}>
            Sign in with your password
          </button>
        </div>
      </AuthShell>
    );
  return (
    <AuthShell title="Connect your account" lead={`An account with this address already exists. Enter its password once to connect it to ${name} sign-in; after that, ${name} signs you in.`}>
      <form onSubmit={submit} noValidate class="stack link-form">
        {error !== null && (
          <FocusedAlert key={String(error)}>
            <p>{status === 401 ? 'That is not the password of this account. Try again, or use the emailed link below.' : errorMessage(error)}</p>
          </FocusedAlert>
        )}
        <Field label="Email" name="email" type="email" value={email} onInput={() => undefined} autoComplete="email" readOnly />
        <Field label="Password" name="password" type="password" value={password} onInput={setPassword} autoComplete="current-password" required error={fields.password} />
        <button type="submit" class="btn btn-primary btn-block" disabled={busy || !password}>
          {busy ? 'Connecting…' : `Connect to ${name} and sign in`}
        </button>
      </form>
      <p class="link-email-note">
        Or use the link we emailed to <strong>{email || 'your address'}</strong>: it connects the account without your password.
      </p>
      <p class="auth-switch">
        Not your account, or not now?{' '}
        <button type="button" class="btn btn-link" onClick={onCancel}>
          Sign in another way
        </button>
      </p>
    </AuthShell>
  );
}

export function SignupPage() {
  useTitle('Create your account');
  const loc = useLocation();
  const next = safeNext(loc.search.get('next'));
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [local, setLocal] = useState<Record<string, string>>({});
  const fields = { ...(error instanceof ApiError ? error.fields : {}), ...local };
  const providers = useProviders();
  // Sign-up is refused for an address whose company requires SSO; its first SSO sign-in creates the account.
  const ssoRequired = error instanceof ApiError && error.status === 403 && error.problem.login_url ? error.problem.login_url : '';

  async function submit(e: Event) {
    e.preventDefault();
    const l: Record<string, string> = {};
    if (!name.trim()) l.name = 'Enter your name.';
    if (!email.trim()) l.email = 'Enter your email address.';
    if (password.length < PASSWORD_MIN_LENGTH) l.password = `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
    setLocal(l);
    setError(null);
    if (Object.keys(l).length) return;
    setBusy(true);
    try {
      await register(name.trim(), email.trim(), password);
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  const hasErrors = error !== null || Object.keys(local).length > 0;
  return (
    <AuthShell title="Create your account" lead="Start the course: seven modules, about three hours in all.">
      {ssoRequired ? (
        <div class="stack sso-required">
          <FocusedAlert>
            <p>{errorMessage(error)}</p>
          </FocusedAlert>
          <SsoButtons providers={providersFor(ssoRequired, providers.list)} next={next} prominent label="Continue with" />
        </div>
      ) : (
        providers.list.length > 0 && (
          <div class="stack sso-offer">
            <SsoButtons providers={providers.list} next={next} label="Continue with" />
            <p class="auth-or">or create an account with a password</p>
          </div>
        )
      )}
      <form onSubmit={submit} noValidate class="stack">
        {hasErrors && !ssoRequired && (
          <div class="alert alert-error" role="alert">
            {error !== null ? errorMessage(error) : 'Please fix the highlighted fields.'}
          </div>
        )}
        <Field label="Name" name="name" value={name} onInput={setName} autoComplete="name" required maxLength={100} error={fields.name} />
        <Field label="Work email" name="email" type="email" value={email} onInput={setEmail} autoComplete="email" required error={fields.email} />
        <NewPasswordField label="Password" name="password" value={password} onInput={setPassword} error={fields.password} />
        <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Creating account…' : 'Create account'}
        </button>
      </form>
      <p class="auth-switch">
        Already have an account? <a href={`/login${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`}>Sign in</a>
      </p>
    </AuthShell>
  );
}
