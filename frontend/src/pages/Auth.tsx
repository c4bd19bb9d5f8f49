import { useState } from 'preact/hooks';
import { ApiError, errorMessage, login, register } from '../api';
import { navigate, useLocation } from '../router';
import { Field, NewPasswordField, PASSWORD_MIN_LENGTH, useRequest, useTitle } from '../components/ui';

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

export function LoginPage() {
  useTitle('Sign in');
  const loc = useLocation();
  const next = safeNext(loc.search.get('next'));
  const notice = loc.search.get('reset') ? 'Your password is changed. Sign in with the new one.' : loc.search.get('deleted') ? 'Your account is deleted.' : '';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, fields, run } = useRequest();

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
      <form onSubmit={submit} noValidate class="stack">
        {error === null && notice && (
          <div class="alert alert-success" role="status">
            {notice}
          </div>
        )}
        {error !== null && (
          <div class="alert alert-error" role="alert">
            {errorMessage(error)}
          </div>
        )}
        <Field label="Email" name="email" type="email" value={email} onInput={setEmail} autoComplete="email" required error={fields.email} />
        <Field label="Password" name="password" type="password" value={password} onInput={setPassword} autoComplete="current-password" required error={fields.password} />
        <p class="forgot-link">
          <a href="/forgot-password">Forgot your password?</a>
        </p>
        <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p class="auth-switch">
        New to Baton? <a href={`/signup${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`}>Create an account</a>
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
      <form onSubmit={submit} noValidate class="stack">
        {hasErrors && (
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
