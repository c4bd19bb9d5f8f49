// The admin's "Company sign-in" settings: the email domains whose addresses
// must sign in through the company's identity provider.
import { useState } from 'preact/hooks';
import { ApiError, errorMessage, releaseSsoDomain, requireSsoDomain } from '../api';
import { Async, Empty, ErrorBox, Field, Time, useApi, useRequest } from '../components/ui';
import type { SsoDomain } from '../types';

// Labels of letters, digits and inner hyphens, at least two of them, the last
// alphabetic (or an IDNA "xn--" label): what a company's email domain looks like.
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The domain as the server stores it (lower case, no "@" or trailing dot), or null when it does not look like one. */
export function normalizeDomain(input: string): string | null {
  const d = input.trim().toLowerCase().replace(/^@/, '').replace(/\.$/, '');
  if (!d || d.length > 253) return null;
  const labels = d.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return null;
  const tld = labels[labels.length - 1];
  return /^[a-z]{2,63}$/.test(tld) || /^xn--[a-z0-9-]+$/.test(tld) ? d : null;
}

export function SsoDomainsSection() {
  const list = useApi<SsoDomain[]>('/api/admin/sso-domains');
  const [input, setInput] = useState('');
  const [local, setLocal] = useState('');
  const [status, setStatus] = useState('');
  const add = useRequest();
  const remove = useRequest();

  async function submit(e: Event) {
    e.preventDefault();
    setStatus('');
    const domain = normalizeDomain(input);
    if (!domain) {
      setLocal('Enter a domain like example.com, without the part before the @.');
      return;
    }
    setLocal('');
    await add.run(async () => {
      const saved = await requireSsoDomain(domain);
      const rest = (list.data ?? []).filter((d) => d.domain !== saved.domain);
      list.setData([...rest, saved].sort((a, b) => a.domain.localeCompare(b.domain)));
      setInput('');
      setStatus(`Addresses at ${saved.domain} now sign in through company sign-in.`);
    });
  }

  async function release(domain: string) {
    setStatus('');
    await remove.run(async () => {
      await releaseSsoDomain(domain);
      list.setData((list.data ?? []).filter((d) => d.domain !== domain));
      setStatus(`Addresses at ${domain} may sign in with a password again.`);
    });
  }

  // 409: SSO is not configured on this server; the server's detail says what to set.
  const unconfigured = list.error instanceof ApiError && list.error.status === 409;
  return (
    <section class="card sso-domains" aria-labelledby="h-sso">
      <h2 id="h-sso">Company sign-in</h2>
      <p>Requiring company sign-in for a domain refuses password sign-in and sign-up for its addresses: those people sign in through your identity provider only.</p>
      {unconfigured ? (
        <div class="alert alert-warning" role="status">
          <p>{errorMessage(list.error)}</p>
        </div>
      ) : (
        <Async res={list} label="Loading the domains…">
          {(domains) =>
            domains.length === 0 ? (
              <Empty>No domain requires company sign-in.</Empty>
            ) : (
              <ul class="plain-list sso-domain-list">
                {domains.map((d) => (
                  <li key={d.domain} class="sso-domain" data-domain={d.domain}>
                    <span>
                      <strong>{d.domain}</strong>{' '}
                      <span class="muted small">
                        since <Time iso={d.created_at} />
                      </span>
                    </span>
                    <button type="button" class="btn btn-secondary btn-sm" onClick={() => release(d.domain)} disabled={remove.busy}>
                      Remove<span class="visually-hidden"> {d.domain}</span>
                    </button>
                  </li>
                ))}
              </ul>
            )
          }
        </Async>
      )}
      <ErrorBox error={remove.error} title="Could not remove the domain" />
      {!unconfigured && (
        <form class="stack sso-domain-form" onSubmit={submit} noValidate>
          {add.error !== null && (
            <div class="alert alert-error" role="alert">
              {errorMessage(add.error)}
            </div>
          )}
          <Field label="Email domain" name="sso_domain" value={input} onInput={setInput} placeholder="example.com" hint="Everyone whose address ends in @ and this domain." error={local || add.fields.domain} />
          <div>
            <button type="submit" class="btn btn-primary" disabled={add.busy}>
              {add.busy ? 'Saving…' : 'Require company sign-in'}
            </button>
          </div>
        </form>
      )}
      <p class="small" role="status">
        {status}
      </p>
    </section>
  );
}
