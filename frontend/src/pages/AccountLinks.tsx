// The pages an emailed link opens (verify, reset, connect to company
// sign-in) and the one that asks for
// a reset link. A link's token is read once and then taken out of the
// address bar, so it does not stay in the history or on a shared screen
// (the Referrer-Policy already keeps it out of Referer headers).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, confirmPasswordReset, errorMessage, linkSso, previewSsoLink, requestPasswordReset, verifyEmail } from '../api';
import { providerName, SsoButtons, useProviders } from '../components/CompanySignIn';
import { Field, Loading, NewPasswordField, useRequest, useTitle } from '../components/ui';
import { navigate, useLocation } from '../router';
import { useSession } from '../session';
import { markVerified } from '../verification';

/** The token of the link that opened the page, removed from the address bar. */
function useLinkToken(): string {
  const loc = useLocation();
  const [token] = useState(() => loc.search.get('token') ?? '');
  useEffect(() => {
    if (loc.search.has('token')) window.history.replaceState(null, '', loc.path);
  }, []);
  return token;
}

function Card({ title, lead, children }: { title: string; lead?: string; children: preact.ComponentChildren }) {
  return (
    <div class="page narrow account-link-page">
      <section class="card stack">
        <h1 tabIndex={-1}>{title}</h1>
        {lead && <p class="lead">{lead}</p>}
        {children}
      </section>
    </div>
  );
}

export function ForgotPasswordPage() {
  useTitle('Forgot your password');
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const { busy, error, fields, run } = useRequest();

  async function submit(e: Event) {
    e.preventDefault();
    await run(async () => {
      await requestPasswordReset(email.trim());
      setSent(true);
    });
  }

  if (sent)
    return (
      <Card title="Check your email">
        <div class="alert alert-success" role="status">
          <p>
            If an account uses <strong>{email.trim()}</strong>, a link to choose a new password is on its way. It works once, for 30 minutes.
          </p>
        </div>
        <p>
          <a href="/login">Back to sign in</a>
        </p>
      </Card>
    );
  return (
    <Card title="Forgot your password?" lead="Enter the email address of your account and we will send you a link to choose a new password.">
      <form onSubmit={submit} noValidate class="stack">
        {error !== null && (
          <div class="alert alert-error" role="alert">
            {errorMessage(error)}
          </div>
        )}
        <Field label="Email" name="email" type="email" value={email} onInput={setEmail} autoComplete="email" required error={fields.email} />
        <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Sending…' : 'Send reset link'}
        </button>
      </form>
      <p>
        Remembered it? <a href="/login">Sign in</a>
      </p>
    </Card>
  );
}

export function ResetPasswordPage() {
  useTitle('Choose a new password');
  const token = useLinkToken();
  const [password, setPassword] = useState('');
  const { busy, error, fields, run } = useRequest();
  const dead = error instanceof ApiError && error.status === 400;

  async function submit(e: Event) {
    e.preventDefault();
    await run(
      async () => {
        await confirmPasswordReset(token, password);
        navigate('/login?reset=1', { replace: true });
      },
      { leaves: true },
    );
  }

  if (!token || dead)
    return (
      <Card title="This link does not work">
        <div class="alert alert-error" role="alert">
          <p>The link was already used, has expired (links last 30 minutes) or is incomplete.</p>
        </div>
        <p>
          <a href="/forgot-password">Ask for a new link</a>
        </p>
      </Card>
    );
  return (
    <Card title="Choose a new password" lead="Every device signed in to your account will be signed out.">
      <form onSubmit={submit} noValidate class="stack">
        {error !== null && (
          <div class="alert alert-error" role="alert">
            {errorMessage(error)}
          </div>
        )}
        <NewPasswordField name="password" value={password} onInput={setPassword} error={fields.password} />
        <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Saving…' : 'Set new password'}
        </button>
      </form>
    </Card>
  );
}

export function VerifyEmailPage() {
  useTitle('Verify your email');
  const token = useLinkToken();
  const session = useSession();
  const [result, setResult] = useState<'busy' | 'done' | unknown>(token ? 'busy' : new Error('The link is incomplete.'));

  useEffect(() => {
    if (!token) return;
    verifyEmail(token).then(
      () => {
        markVerified();
        setResult('done');
      },
      (err) => setResult(err),
    );
  }, [token]);

  const next = session.status === 'authed' ? <a href="/">Continue to your course</a> : <a href="/login">Sign in</a>;
  if (result === 'busy')
    return (
      <Card title="Verifying your email">
        <Loading label="Checking the link…" />
      </Card>
    );
  if (result === 'done')
    return (
      <Card title="Email verified">
        <div class="alert alert-success" role="status">
          <p>Thank you: your email address is verified.</p>
        </div>
        <p>{next}</p>
      </Card>
    );
  return (
    <Card title="This link does not work">
      <div class="alert alert-error" role="alert">
        <p>{result instanceof ApiError && result.status === 400 ? 'The link was already used, has expired or is incomplete.' : errorMessage(result)}</p>
      </div>
      <p>{session.status === 'authed' ? <a href="/account">Send a new link from your account settings</a> : next}</p>
    </Card>
  );
}

/**
 * The emailed link that connects an existing password account to company
 * sign-in: opening it is the proof that the address is the person's, so no
 * password is asked; it signs in and opens the course.
 */
export function SsoLinkPage() {
  useTitle('Connect your account');
  const token = useLinkToken();
  const providers = useProviders();
  // 'checking' → the account the link names, confirmed by a press (a link
  // someone else sent must not sign this browser into their account
  // unnoticed) → 'busy' while connecting; an error ends it.
  const [step, setStep] = useState<'checking' | 'busy' | { email: string } | unknown>(token ? 'checking' : new Error('The link is incomplete.'));

  useEffect(() => {
    if (!token) return;
    previewSsoLink(token).then(
      (p) => setStep({ email: p.email }),
      (err) => setStep(err),
    );
  }, [token]);

  const connect = () => {
    if (!token) return;
    setStep('busy');
    linkSso(token).then(
      () => navigate('/', { replace: true }),
      (err) => setStep(err),
    );
  };

  const name = providerName(providers.list);
  if (step === 'checking' || step === 'busy')
    return (
      <Card title="Connecting your account">
        <Loading label={step === 'busy' ? `Connecting your account to ${name} sign-in…` : 'Checking the link…'} />
      </Card>
    );
  if (step && typeof step === 'object' && 'email' in step)
    return (
      <Card title="Connect your account">
        <p>
          This connects the Baton account <strong>{(step as { email: string }).email}</strong> to {name} sign-in and signs this browser in to it. From then on, {name} signs you in.
        </p>
        <p>If this is not your account, close this page: nothing changes.</p>
        <button type="button" class="btn btn-primary" onClick={connect}>
          Connect and sign in
        </button>
      </Card>
    );
  return (
    <Card title="This link does not work">
      <div class="alert alert-error" role="alert">
        <p>
          {step instanceof ApiError && step.status === 400
            ? `The link was already used, has expired or is incomplete, so your account is not connected to ${name} sign-in. Sign in with ${name} again to get a new link, or sign in with your password.`
            : errorMessage(step)}
        </p>
      </div>
      <SsoButtons providers={providers.list} />
      <p>
        <a href="/login">Sign in with your password</a>
      </p>
    </Card>
  );
}
