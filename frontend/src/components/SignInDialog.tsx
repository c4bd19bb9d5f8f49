import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorMessage, login, onReauth, type ReauthRequest } from '../api';
import { navigate } from '../router';
import { Field } from './ui';
import './connection.css';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), textarea:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Focuses el once it can take focus again (a button re-enabled when its request settles). */
function giveFocusBack(el: HTMLElement | null, tries = 20) {
  if (!el || !el.isConnected) return;
  el.focus();
  if (document.activeElement !== el && tries > 0) setTimeout(() => giveFocusBack(el, tries - 1), 25);
}

/**
 * Asks, in place, for sign-in again when a request finds the session ended,
 * so the page and what was typed on it stay; the request that asked is then
 * sent again. A modal dialog: focus stays inside, Escape cancels, and focus
 * goes back where it was.
 */
export function SignInDialog() {
  const [req, setReq] = useState<ReauthRequest | null>(null);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const ref = useRef<HTMLDialogElement>(null);
  const returnTo = useRef<HTMLElement | null>(null);
  const lastFocus = useRef<HTMLElement | null>(null);

  // Remember what had focus last outside the dialog: a Save button that
  // disabled itself while saving has already dropped focus by the time the
  // dialog opens.
  useEffect(() => {
    const seen = (e: FocusEvent) => {
      if (e.target instanceof HTMLElement && !ref.current?.contains(e.target)) lastFocus.current = e.target;
    };
    document.addEventListener('focusin', seen);
    return () => document.removeEventListener('focusin', seen);
  }, []);

  useEffect(
    () =>
      onReauth((r) => {
        const active = document.activeElement;
        returnTo.current = active instanceof HTMLElement && active !== document.body ? active : lastFocus.current;
        setEmail(r.user.email);
        setPassword('');
        setError(null);
        setBusy(false);
        setReq(r);
      }),
    [],
  );

  useEffect(() => {
    const d = ref.current;
    if (!req || !d) return;
    if (!d.open) {
      if (typeof d.showModal === 'function') d.showModal();
      else d.setAttribute('open', '');
    }
    // The address is known: start at the password.
    d.querySelector<HTMLInputElement>('input[name=password]')?.focus();
  }, [req]);

  function close(signedIn: boolean) {
    const r = req;
    const d = ref.current;
    if (d?.open) {
      if (typeof d.close === 'function') d.close();
      else d.removeAttribute('open');
    }
    setReq(null);
    r?.done(signedIn);
    giveFocusBack(returnTo.current);
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (!req) return;
    setBusy(true);
    setError(null);
    try {
      const user = await login(email.trim(), password);
      if (user.id !== req.user.id) {
        // Someone else signed in: the page and its drafts were not theirs.
        close(false);
        navigate('/', { replace: true });
        return;
      }
      close(true);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  // Keep Tab inside the dialog even where the browser lets it reach its own chrome.
  function trap(e: KeyboardEvent) {
    if (e.key !== 'Tab' || !ref.current) return;
    const items = Array.from(ref.current.querySelectorAll<HTMLElement>(FOCUSABLE));
    if (items.length === 0) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }

  const fields = error instanceof ApiError ? error.fields : {};
  return (
    <dialog
      ref={ref}
      class="signin-dialog"
      aria-labelledby="signin-dialog-title"
      aria-describedby="signin-dialog-desc"
      data-testid="signin-dialog"
      onCancel={(e) => {
        // Escape: cancel through the same path as the button.
        e.preventDefault();
        if (!busy) close(false);
      }}
      onKeyDown={trap}
    >
      {req && (
        <form onSubmit={submit} noValidate class="stack">
          <h2 id="signin-dialog-title">Sign in to continue</h2>
          <p id="signin-dialog-desc">Your session has ended. Sign in again and Baton will finish what you were doing; what you typed stays on this page.</p>
          {error !== null && (
            <div class="alert alert-error" role="alert">
              {errorMessage(error)}
            </div>
          )}
          <Field label="Email" name="email" type="email" value={email} onInput={setEmail} autoComplete="email" required error={fields.email} />
          <Field label="Password" name="password" type="password" value={password} onInput={setPassword} autoComplete="current-password" required error={fields.password} />
          <div class="actions">
            <button type="submit" class="btn btn-primary" disabled={busy}>
              {busy ? 'Signing in…' : 'Sign in and continue'}
            </button>
            <button type="button" class="btn btn-ghost" onClick={() => close(false)} disabled={busy}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
