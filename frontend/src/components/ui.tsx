import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorMessage, get } from '../api';
import { fieldSentence } from '../copy';

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (d: T) => void;
}

/** Loads a GET endpoint; reloads when path changes. A null path loads nothing. */
export function useApi<T>(path: string | null): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(path !== null);
  const [nonce, setNonce] = useState(0);
  const live = useRef(0);

  useEffect(() => {
    if (path === null) return;
    const id = ++live.current;
    setLoading(true);
    setError(null);
    get<T>(path).then(
      (d) => {
        if (id !== live.current) return;
        setData(d);
        setLoading(false);
      },
      (e) => {
        if (id !== live.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, [path, nonce]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { data, error, loading, reload, setData };
}

export function useTitle(title: string | undefined) {
  useEffect(() => {
    document.title = title ? `${title} · Baton` : 'Baton';
  }, [title]);
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function ErrorBox({ error, onRetry, title = 'Something went wrong' }: { error: unknown; onRetry?: () => void; title?: string }) {
  if (!error) return null;
  return (
    <div class="alert alert-error" role="alert">
      <p class="alert-title">{title}</p>
      <p>{errorMessage(error)}</p>
      {onRetry && (
        <button type="button" class="btn btn-secondary btn-sm" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Loading / error / content switch for a resource. */
export function Async<T>({ res, label, children }: { res: Resource<T>; label?: string; children: (d: T) => ComponentChildren }) {
  if (res.error && res.data === undefined) return <ErrorBox error={res.error} onRetry={res.reload} />;
  if (res.data === undefined) return <Loading label={label} />;
  return <>{children(res.data)}</>;
}

export function ProgressBar({ value, label, size = 'md', showValue = true }: { value: number; label: string; size?: 'sm' | 'md' | 'lg'; showValue?: boolean }) {
  const v = Math.max(0, Math.min(100, Math.round(value)));
  return (
    <div class={`progress progress-${size}`}>
      <div class="progress-track" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={v} aria-valuetext={`${v}%`}>
        <div class={`progress-fill${v >= 100 ? ' done' : ''}`} style={{ width: `${v}%` }} />
      </div>
      {showValue && (
        <span class="progress-value" aria-hidden="true">
          {v}%
        </span>
      )}
    </div>
  );
}

export function Badge({ tone = 'neutral', children }: { tone?: 'neutral' | 'success' | 'danger' | 'warning' | 'info'; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

const dateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d.getTime()) ? '' : dateFmt.format(d);
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d.getTime()) ? '' : dateTimeFmt.format(d);
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d.getTime()) ? '' : timeFmt.format(d);
}

export function Time({ iso, withTime = false }: { iso: string | null | undefined; withTime?: boolean }) {
  if (!iso) return null;
  return <time dateTime={iso}>{withTime ? formatDateTime(iso) : formatDate(iso)}</time>;
}

let fieldSeq = 0;
export function useId(prefix = 'f'): string {
  const ref = useRef<string>('');
  if (!ref.current) ref.current = `${prefix}-${++fieldSeq}`;
  return ref.current;
}

export interface FieldProps {
  label: string;
  name: string;
  type?: 'text' | 'email' | 'password' | 'search';
  value: string;
  onInput: (v: string) => void;
  error?: string;
  hint?: string;
  autoComplete?: string;
  required?: boolean;
  minLength?: number;
  maxLength?: number;
  placeholder?: string;
  /** shown and submitted but not editable (an address the server already knows) */
  readOnly?: boolean;
}

export function Field(p: FieldProps) {
  const id = useId(p.name);
  const describedBy = [p.hint ? `${id}-hint` : '', p.error ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${p.error ? ' has-error' : ''}`}>
      <label for={id}>{p.label}</label>
      {p.hint && (
        <p class="field-hint" id={`${id}-hint`}>
          {p.hint}
        </p>
      )}
      <input
        id={id}
        name={p.name}
        type={(p.type ?? 'text') as 'text'}
        value={p.value}
        onInput={(e) => p.onInput((e.currentTarget as HTMLInputElement).value)}
        autoComplete={p.autoComplete}
        required={p.required}
        minLength={p.minLength}
        maxLength={p.maxLength}
        placeholder={p.placeholder}
        readOnly={p.readOnly}
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={describedBy}
      />
      {p.error && (
        <p class="field-error" id={`${id}-err`}>
          {fieldSentence(p.label, p.error)}
        </p>
      )}
    </div>
  );
}

/** The shortest password the server accepts. */
export const PASSWORD_MIN_LENGTH = 12;

/** A field for choosing a password: required, at least PASSWORD_MIN_LENGTH characters, offered to password managers as a new one; hint follows the stated length rule. */
export function NewPasswordField({ label = 'New password', hint = 'A short phrase of unrelated words works well.', ...p }: Pick<FieldProps, 'name' | 'value' | 'onInput' | 'error'> & { label?: string; hint?: string }) {
  return <Field {...p} label={label} type="password" autoComplete="new-password" required minLength={PASSWORD_MIN_LENGTH} hint={`At least ${PASSWORD_MIN_LENGTH} characters. ${hint}`} />;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** Human label for an assignment status. */
export function statusLabel(s: string): string {
  switch (s) {
    case 'completed':
      return 'Completed';
    case 'in_progress':
      return 'In progress';
    case 'not_started':
      return 'Not started';
    default:
      return s;
  }
}

/**
 * One request a form or button sends: busy while it runs, and afterwards its
 * error, with the per-field messages a form shows beside its inputs. With
 * leaves, a success keeps busy set: the work navigated away, and the button
 * must not be pressed again on the way out.
 */
export function useRequest() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fields = error instanceof ApiError ? error.fields : {};
  async function run(work: () => Promise<unknown>, opts: { leaves?: boolean } = {}) {
    setBusy(true);
    setError(null);
    try {
      await work();
      if (!opts.leaves) setBusy(false);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return { busy, error, fields, run };
}
