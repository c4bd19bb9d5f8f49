// Account settings: the profile and its verification, the password, the
// devices signed in, a copy of one's data, and deleting the account.
import { useState } from 'preact/hooks';
import { ApiError, changePassword, deleteAccount, downloadFile, errorMessage, forgetSession, logout, resendVerification, revokeSession, startSso } from '../api';
import { providerName, useProviders } from '../components/CompanySignIn';
import { Async, Badge, ErrorBox, Field, NewPasswordField, Time, useApi, useRequest, useTitle } from '../components/ui';
import { navigate } from '../router';
import { noteMe, useVerified } from '../verification';
import { TeamLine } from '../components/TeamLine';
import type { AuthProvider, Me, Session } from '../types';

export function AccountPage() {
  useTitle('Account settings');
  const me = useApi<Me>('/api/me');
  const providers = useProviders();
  return (
    <div class="page narrow account-page">
      <header class="page-header">
        <h1 tabIndex={-1}>Account settings</h1>
        <p class="lead">Your profile, password, the devices signed in to your account, and your data.</p>
      </header>
      <Async res={me} label="Loading your account…">
        {(m) => (
          <div class="stack">
            <Profile me={m} />
            {m.has_password === false ? <CompanyPassword providers={providers.list} /> : <PasswordForm />}
            <Sessions />
            <ExportData />
            <DeleteAccount hasPassword={m.has_password !== false} providers={providers.list} />
          </div>
        )}
      </Async>
    </div>
  );
}

function Profile({ me }: { me: Me }) {
  const verified = useVerified(me.id) ?? me.email_verified;
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function resend() {
    setError(null);
    try {
      await resendVerification();
      setSent(true);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) noteMe({ ...me, email_verified: true });
      else setError(err);
    }
  }
  return (
    <section class="card" aria-labelledby="h-profile">
      <h2 id="h-profile">Profile</h2>
      <dl class="profile-list">
        <dt>Name</dt>
        <dd>{me.name}</dd>
        <dt>Email</dt>
        <dd>
          <span class="profile-email">{me.email}</span> {verified ? <Badge tone="success">Verified</Badge> : <Badge tone="warning">Not verified</Badge>}
        </dd>
        <dt>Role</dt>
        <dd>{me.role}</dd>
        <dt>{me.teams.length === 1 ? 'Team' : 'Teams'}</dt>
        <dd>
          {me.teams.length ? (
            <ul class="plain-list profile-teams">
              {me.teams.map((t) => (
                <li key={t.id}>
                  <TeamLine team={t} />
                </li>
              ))}
            </ul>
          ) : (
            'None yet'
          )}
        </dd>
      </dl>
      {!verified && (
        <div class="stack">
          <p>We sent you a link when you signed up. Open it to verify your address; it lasts 48 hours.</p>
          {sent ? (
            <p role="status" class="verify-sent">
              A new link is on its way to {me.email}.
            </p>
          ) : (
            <button type="button" class="btn btn-secondary" onClick={resend}>
              Send a new verification link
            </button>
          )}
          <ErrorBox error={error} title="Could not send the link" />
        </div>
      )}
    </section>
  );
}

/** An account without a password: the company's provider is how it signs in, so there is no password to change. */
function CompanyPassword({ providers }: { providers: AuthProvider[] }) {
  return (
    <section class="card" aria-labelledby="h-password">
      <h2 id="h-password">Password</h2>
      <p class="company-signin-note">
        Your account has no Baton password: you sign in through {providerName(providers)}. Your company manages that sign-in, including its password.
      </p>
    </section>
  );
}

function PasswordForm() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [done, setDone] = useState(false);
  const { busy, error, fields, run } = useRequest();

  async function submit(e: Event) {
    e.preventDefault();
    setDone(false);
    await run(async () => {
      await changePassword(current, next);
      setCurrent('');
      setNext('');
      setDone(true);
    });
  }
  return (
    <section class="card" aria-labelledby="h-password">
      <h2 id="h-password">Change password</h2>
      <form onSubmit={submit} noValidate class="stack password-form">
        {error !== null && (
          <div class="alert alert-error" role="alert">
            {error instanceof ApiError && error.status === 403 ? 'That is not your current password.' : errorMessage(error)}
          </div>
        )}
        {done && (
          <div class="alert alert-success" role="status">
            Your password is changed. Your other devices were signed out.
          </div>
        )}
        <Field label="Current password" name="current_password" type="password" value={current} onInput={setCurrent} autoComplete="current-password" required error={fields.current_password} />
        <NewPasswordField name="new_password" value={next} onInput={setNext} hint="Every other device signed in to your account will be signed out." error={fields.new_password} />
        <div>
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {busy ? 'Saving…' : 'Change password'}
          </button>
        </div>
      </form>
    </section>
  );
}

/** A short description of a device from its User-Agent. */
export function deviceName(ua: string): string {
  if (!ua) return 'Unknown device';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : '';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows' : /Mac OS X|Macintosh/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  return [browser, os].filter(Boolean).join(' on ') || ua.slice(0, 60);
}

function Sessions() {
  const list = useApi<Session[]>('/api/me/sessions');
  const [error, setError] = useState<unknown>(null);
  async function revoke(s: Session) {
    setError(null);
    try {
      if (s.current) {
        await logout();
        navigate('/login', { replace: true });
        return;
      }
      await revokeSession(s.id);
      list.setData((list.data ?? []).filter((x) => x.id !== s.id));
    } catch (err) {
      setError(err);
    }
  }
  return (
    <section class="card" aria-labelledby="h-sessions">
      <h2 id="h-sessions">Where you are signed in</h2>
      <ErrorBox error={error} title="Could not sign that device out" />
      <Async res={list} label="Loading your sessions…">
        {(sessions) => (
          <ul class="session-list">
            {sessions.map((s) => (
              <li key={s.id} class="session-item" data-session={s.id}>
                <div class="session-info">
                  <p class="session-device">
                    <span title={s.user_agent}>{deviceName(s.user_agent)}</span> {s.current && <Badge tone="info">This device</Badge>}
                  </p>
                  <p class="muted session-times">
                    Signed in <Time iso={s.created_at} withTime /> · last active <Time iso={s.last_used_at} withTime />
                  </p>
                </div>
                <button type="button" class="btn btn-secondary btn-sm" onClick={() => revoke(s)}>
                  {s.current ? 'Sign out this device' : 'Sign out'}
                  {!s.current && <span class="visually-hidden"> {deviceName(s.user_agent)}</span>}
                </button>
              </li>
            ))}
          </ul>
        )}
      </Async>
    </section>
  );
}

function ExportData() {
  const { busy, error, run } = useRequest();
  function download() {
    void run(() => downloadFile('/api/me/export', `baton-export-${new Date().toISOString().slice(0, 10)}.json`));
  }
  return (
    <section class="card" aria-labelledby="h-export">
      <h2 id="h-export">Your data</h2>
      <p>Download everything Baton holds about you as one JSON file: profile, progress, reflections, answers, teams, assignments, notifications and sessions.</p>
      <button type="button" class="btn btn-secondary export-data" onClick={download} disabled={busy}>
        {busy ? 'Preparing…' : 'Download my data'}
      </button>
      <ErrorBox error={error} title="Download failed" />
    </section>
  );
}

function DeleteAccount({ hasPassword, providers }: { hasPassword: boolean; providers: AuthProvider[] }) {
  const [password, setPassword] = useState('');
  const { busy, error, fields, run } = useRequest();
  // Without a password the server asks for a recent sign-in instead, and answers 403 when it is too old.
  const stale = !hasPassword && error instanceof ApiError && error.status === 403;
  async function submit(e: Event) {
    e.preventDefault();
    await run(
      async () => {
        await deleteAccount(hasPassword ? password : undefined);
        forgetSession();
        navigate('/login?deleted=1', { replace: true });
      },
      { leaves: true },
    );
  }
  return (
    <section class="card danger-zone" aria-labelledby="h-delete">
      <h2 id="h-delete">Delete account</h2>
      <div class="alert alert-warning">
        <p>
          <strong>This cannot be undone.</strong> Your progress, answers, reflections and team memberships are deleted at once, and your managers no longer see you. If you manage teams, those
          teams are deleted too. Download your data first if you want to keep it.
        </p>
      </div>
      <form onSubmit={submit} noValidate class="stack delete-form">
        {error !== null && (
          <div class="alert alert-error" role="alert">
            <p>{hasPassword && error instanceof ApiError && error.status === 403 ? 'That is not your password.' : errorMessage(error)}</p>
            {stale && providers.length > 0 && (
              <button type="button" class="btn btn-secondary btn-sm" onClick={() => startSso(providers[0], '/account')}>
                Sign in again with {providers[0].name}
              </button>
            )}
          </div>
        )}
        {hasPassword ? (
          <Field label="Your password, to confirm" name="delete_password" type="password" value={password} onInput={setPassword} autoComplete="current-password" required error={fields.password} />
        ) : (
          <p class="small">Your account has no password, so Baton asks for no confirmation beyond this button. If you signed in a while ago, you will be asked to sign in again first.</p>
        )}
        <div>
          <button type="submit" class="btn btn-danger" disabled={busy || (hasPassword && !password)}>
            {busy ? 'Deleting…' : 'Delete my account permanently'}
          </button>
        </div>
      </form>
    </section>
  );
}
