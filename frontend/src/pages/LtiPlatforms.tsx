// The admin's "LMS (LTI 1.3)" settings: the learning platforms (Moodle,
// Canvas…) that may launch Baton, a one-time URL for a platform's dynamic
// registration, the tool's signing key, and the values an LMS admin pastes.
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { errorMessage, newLtiRegistration, registerLtiPlatform, removeLtiPlatform, rotateLtiKey } from '../api';
import { Async, Empty, ErrorBox, Field, Time, useApi, useId, useRequest } from '../components/ui';
import type { LtiPlatform, LtiPlatformInput, LtiRegistrationUrl } from '../types';

/** The addresses an LMS admin enters for Baton (docs/lti.md "Baton's values"), at this page's origin. */
export function ltiToolValues(origin: string): { label: string; value: string }[] {
  return [
    { label: 'Tool URL (target link URI)', value: `${origin}/` },
    { label: 'Initiate login URL', value: `${origin}/api/lti/login` },
    { label: 'Redirection URI (launch)', value: `${origin}/api/lti/launch` },
    { label: 'Public keyset URL (JWKS)', value: `${origin}/api/lti/jwks` },
    { label: 'Deep linking URL', value: `${origin}/` },
  ];
}

function loopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The server's rule for a platform URL: https, or http on a loopback host only; an issuer has no query or fragment. '' when it passes. */
export function endpointProblem(raw: string, issuer = false): string {
  const v = raw.trim();
  if (!v) return 'is required';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'must be an absolute https URL';
  }
  if (!u.host || u.username || u.password || v.length > 500) return 'must be an absolute https URL';
  if (!(u.protocol === 'https:' || (u.protocol === 'http:' && loopback(u.hostname)))) return 'must be an https URL';
  if (issuer && (u.search || u.hash || v.includes('?') || v.includes('#'))) return 'must have no query or fragment';
  return '';
}

/** Deployment ids as typed (one a line, or separated by commas), trimmed, without repeats. */
export function parseDeploymentIds(raw: string): string[] {
  const out: string[] = [];
  for (const d of raw.split(/[\n,]/)) {
    const t = d.trim();
    if (t && !out.includes(t)) out.push(t);
  }
  return out;
}

export type PlatformForm = Record<'issuer' | 'client_id' | 'deployment_ids' | 'name' | 'auth_url' | 'token_url' | 'jwks_url', string>;

/** The problems the server would name (422), by field; empty when the form may be sent. */
export function platformProblems(f: PlatformForm): Partial<PlatformForm> {
  const out: Partial<PlatformForm> = {};
  const put = (k: keyof PlatformForm, msg: string) => {
    if (msg) out[k] = msg;
  };
  put('issuer', endpointProblem(f.issuer, true));
  put('client_id', !f.client_id.trim() ? 'is required' : f.client_id.trim().length > 255 ? 'is too long' : '');
  const ids = parseDeploymentIds(f.deployment_ids);
  put('deployment_ids', ids.length === 0 ? 'needs at least one deployment id' : ids.some((d) => d.length > 255) ? 'each deployment id has at most 255 characters' : '');
  put('name', f.name.trim().length > 100 ? 'is too long' : '');
  put('auth_url', endpointProblem(f.auth_url));
  put('token_url', endpointProblem(f.token_url));
  put('jwks_url', endpointProblem(f.jwks_url));
  return out;
}

function toInput(f: PlatformForm): LtiPlatformInput {
  return {
    issuer: f.issuer.trim(),
    client_id: f.client_id.trim(),
    deployment_ids: parseDeploymentIds(f.deployment_ids),
    name: f.name.trim(),
    auth_url: f.auth_url.trim(),
    token_url: f.token_url.trim(),
    jwks_url: f.jwks_url.trim(),
  };
}

const emptyForm: PlatformForm = { issuer: '', client_id: '', deployment_ids: '', name: '', auth_url: '', token_url: '', jwks_url: '' };

/** Copies text, or selects the element's text when the browser blocks the clipboard. */
async function copyText(text: string, elementId: string): Promise<string> {
  try {
    await navigator.clipboard.writeText(text);
    return 'Copied to the clipboard.';
  } catch {
    const el = document.getElementById(elementId);
    if (el) {
      const range = document.createRange();
      range.selectNodeContents(el);
      const sel = window.getSelection();
      sel?.removeAllRanges();
      sel?.addRange(range);
    }
    return 'Copy is blocked in this browser: the URL is selected, press Ctrl+C to copy it.';
  }
}

export function LtiPlatformsSection() {
  const list = useApi<LtiPlatform[]>('/api/admin/lti/platforms');
  const [status, setStatus] = useState('');
  const [confirming, setConfirming] = useState<string | null>(null);
  const remove = useRequest();

  async function drop(p: LtiPlatform) {
    setStatus('');
    await remove.run(async () => {
      await removeLtiPlatform(p.id);
      list.setData((list.data ?? []).filter((x) => x.id !== p.id));
      setConfirming(null);
      setStatus(`${p.name} is removed: its launches are refused from now on.`);
    });
  }

  return (
    <section class="card lti-section" aria-labelledby="h-lti">
      <h2 id="h-lti">LMS (LTI 1.3)</h2>
      <p>Learning platforms such as Moodle and Canvas open Baton's modules and scenarios from their course pages and receive the scores. Register a platform here, by dynamic registration or by hand.</p>

      <h3>Registered platforms</h3>
      <Async res={list} label="Loading the platforms…">
        {(platforms) =>
          platforms.length === 0 ? (
            <Empty>No platform is registered.</Empty>
          ) : (
            <ul class="plain-list lti-platforms">
              {platforms.map((p) => (
                <li key={p.id} class="lti-platform" data-issuer={p.issuer}>
                  <div class="lti-platform-head">
                    <strong>{p.name}</strong>
                    <span class="muted small">
                      since <Time iso={p.created_at} />
                    </span>
                  </div>
                  <dl class="lti-facts">
                    <dt>Issuer</dt>
                    <dd>
                      <code>{p.issuer}</code>
                    </dd>
                    <dt>Client id</dt>
                    <dd>
                      <code>{p.client_id}</code>
                    </dd>
                    <dt>{p.deployment_ids.length === 1 ? 'Deployment' : 'Deployments'}</dt>
                    <dd>
                      {p.deployment_ids.map((d, i) => (
                        <span key={d}>
                          {i > 0 && ', '}
                          <code>{d}</code>
                        </span>
                      ))}
                    </dd>
                  </dl>
                  {confirming === p.id ? (
                    <div class="actions" role="group" aria-label={`Remove ${p.name}?`}>
                      <span class="small warning-text">Launches from {p.name} will be refused.</span>
                      <button type="button" class="btn btn-danger btn-sm" onClick={() => drop(p)} disabled={remove.busy}>
                        {remove.busy ? 'Removing…' : 'Yes, remove'}
                        <span class="visually-hidden"> {p.name}</span>
                      </button>
                      <button type="button" class="btn btn-ghost btn-sm" onClick={() => setConfirming(null)}>
                        Cancel
                      </button>
                    </div>
                  ) : (
                    <div class="actions">
                      <button type="button" class="btn btn-secondary btn-sm" onClick={() => setConfirming(p.id)}>
                        Remove<span class="visually-hidden"> {p.name}</span>
                      </button>
                    </div>
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </Async>
      <ErrorBox error={remove.error} title="Could not remove the platform" />
      <p class="small" role="status">
        {status}
      </p>

      <DynamicRegistration />
      <ManualRegistration onRegistered={(p) => list.setData([...(list.data ?? []), p])} />
      <ToolValues />
      <ToolKey />
    </section>
  );
}

function DynamicRegistration() {
  const [reg, setReg] = useState<LtiRegistrationUrl | null>(null);
  const [status, setStatus] = useState('');
  const req = useRequest();
  const urlId = useId('lti-reg-url');

  async function create() {
    setStatus('');
    await req.run(async () => setReg(await newLtiRegistration()));
  }

  return (
    <div class="lti-block">
      <h3>Dynamic registration</h3>
      <p class="small">Moodle 4.x (External tool → Manage tools → Tool URL → "Add LTI Advantage") and Canvas (Developer Keys → LTI Registration) register Baton themselves from a one-time URL.</p>
      {reg && (
        <div class="lti-reg" data-testid="lti-registration">
          <p class="lti-url" id={urlId}>
            {reg.url}
          </p>
          <p class="small muted">
            Works once, until <Time iso={reg.expires_at} withTime />.
          </p>
        </div>
      )}
      <div class="actions">
        <button type="button" class="btn btn-primary btn-sm" onClick={create} disabled={req.busy}>
          {req.busy ? 'Creating…' : reg ? 'Create another URL' : 'Create a registration URL'}
        </button>
        {reg && (
          <button type="button" class="btn btn-secondary btn-sm" onClick={async () => setStatus(await copyText(reg.url, urlId))}>
            Copy URL
          </button>
        )}
      </div>
      <ErrorBox error={req.error} title="Could not create the URL" />
      <p class="small success-text" aria-live="polite">
        {status}
      </p>
    </div>
  );
}

function ManualRegistration({ onRegistered }: { onRegistered: (p: LtiPlatform) => void }) {
  const [form, setForm] = useState<PlatformForm>(emptyForm);
  const [local, setLocal] = useState<Partial<PlatformForm>>({});
  const [status, setStatus] = useState('');
  const add = useRequest();
  const depsId = useId('lti-deployments');
  const set = (k: keyof PlatformForm) => (v: string) => setForm({ ...form, [k]: v });
  const err = (k: keyof PlatformForm) => local[k] || add.fields[k] || '';

  async function submit(e: Event) {
    e.preventDefault();
    setStatus('');
    const problems = platformProblems(form);
    setLocal(problems);
    if (Object.keys(problems).length > 0) {
      const first = Object.keys(problems)[0];
      document.querySelector<HTMLElement>(`.lti-form [name=lti_${first}]`)?.focus();
      return;
    }
    await add.run(async () => {
      const saved = await registerLtiPlatform(toInput(form));
      onRegistered(saved);
      setForm(emptyForm);
      setStatus(`${saved.name} is registered: its launches sign people in from now on.`);
    });
  }

  const depErr = err('deployment_ids');
  return (
    <div class="lti-block">
      <h3>Register a platform by hand</h3>
      <p class="small">Take these from the platform's tool configuration (Moodle: "View configuration details"; Canvas: the developer key and the app's deployment).</p>
      <form class="stack lti-form" onSubmit={submit} noValidate>
        {add.error !== null && Object.keys(add.fields).length === 0 && (
          <div class="alert alert-error" role="alert">
            {errorMessage(add.error)}
          </div>
        )}
        <Field label="Platform ID (issuer)" name="lti_issuer" value={form.issuer} onInput={set('issuer')} placeholder="https://moodle.example.com" error={err('issuer')} />
        <Field label="Client ID" name="lti_client_id" value={form.client_id} onInput={set('client_id')} error={err('client_id')} />
        <div class={`field${depErr ? ' has-error' : ''}`}>
          <label for={depsId}>Deployment IDs</label>
          <p class="field-hint" id={`${depsId}-hint`}>
            One a line (or separated by commas).
          </p>
          <textarea
            id={depsId}
            name="lti_deployment_ids"
            rows={2}
            value={form.deployment_ids}
            onInput={(e) => set('deployment_ids')((e.currentTarget as HTMLTextAreaElement).value)}
            aria-invalid={depErr ? 'true' : undefined}
            aria-describedby={`${depsId}-hint${depErr ? ` ${depsId}-err` : ''}`}
          />
          {depErr && (
            <p class="field-error" id={`${depsId}-err`}>
              Deployment IDs {depErr}.
            </p>
          )}
        </div>
        <Field label="Name" name="lti_name" value={form.name} onInput={set('name')} hint="Optional: shown to instructors; the issuer's host name when empty." error={err('name')} />
        <Field label="Authentication request URL" name="lti_auth_url" value={form.auth_url} onInput={set('auth_url')} placeholder="https://moodle.example.com/mod/lti/auth.php" error={err('auth_url')} />
        <Field label="Access token URL" name="lti_token_url" value={form.token_url} onInput={set('token_url')} placeholder="https://moodle.example.com/mod/lti/token.php" error={err('token_url')} />
        <Field label="Public keyset URL" name="lti_jwks_url" value={form.jwks_url} onInput={set('jwks_url')} placeholder="https://moodle.example.com/mod/lti/certs.php" error={err('jwks_url')} />
        <div>
          <button type="submit" class="btn btn-primary" disabled={add.busy}>
            {add.busy ? 'Registering…' : 'Register the platform'}
          </button>
        </div>
      </form>
      <p class="small success-text" role="status">
        {status}
      </p>
    </div>
  );
}

function ToolValues() {
  const values = ltiToolValues(window.location.origin);
  return (
    <div class="lti-block">
      <h3>Baton's values for the platform</h3>
      <p class="small">What the platform's administrator enters for Baton when configuring it by hand. Open Baton in a new window (Moodle "Default launch container: New window"; Canvas "windowTarget: _blank").</p>
      <dl class="lti-facts lti-values">
        {values.map((v) => (
          <Fragment key={v.label}>
            <dt>{v.label}</dt>
            <dd>
              <code>{v.value}</code>
            </dd>
          </Fragment>
        ))}
      </dl>
    </div>
  );
}

function ToolKey() {
  const [confirming, setConfirming] = useState(false);
  const [status, setStatus] = useState('');
  const req = useRequest();

  async function rotate() {
    setStatus('');
    await req.run(async () => {
      const { kid } = await rotateLtiKey();
      setConfirming(false);
      setStatus(`A new key (${kid}) signs from now on; the old one stays in the key set for 7 days.`);
    });
  }

  return (
    <div class="lti-block">
      <h3>Tool key</h3>
      <p class="small">Baton signs grades, rosters and deep-linking answers with its tool key. Platforms fetch the new key from the key set by themselves.</p>
      <div class="actions">
        {!confirming ? (
          <button type="button" class="btn btn-secondary btn-sm" onClick={() => setConfirming(true)}>
            Rotate the tool key
          </button>
        ) : (
          <>
            <button type="button" class="btn btn-danger btn-sm" onClick={rotate} disabled={req.busy}>
              {req.busy ? 'Rotating…' : 'Yes, make a new key'}
            </button>
            <button type="button" class="btn btn-ghost btn-sm" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </>
        )}
      </div>
      <ErrorBox error={req.error} title="Could not rotate the key" />
      <p class="small success-text" role="status">
        {status}
      </p>
    </div>
  );
}
