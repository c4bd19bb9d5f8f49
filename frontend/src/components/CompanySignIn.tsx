// Company sign-in (OpenID Connect): the "Sign in with <provider>" buttons,
// and the words for what can go wrong on the way through the provider. The
// server sends a failed sign-in back to /login?sso_error=<code>; a code is
// never shown as such, because it means nothing to the person.
import { startSso } from '../api';
import type { AuthProvider } from '../types';
import { useApi, type Resource } from './ui';

/** The providers the sign-in page offers; [] while SSO is off (or the list could not be read). */
export function useProviders(): { list: AuthProvider[]; res: Resource<AuthProvider[]> } {
  const res = useApi<AuthProvider[]>('/api/auth/providers');
  return { list: Array.isArray(res.data) ? res.data : [], res };
}

/** How the page names the provider when it has not loaded (or SSO was turned off since). */
export function providerName(providers: AuthProvider[]): string {
  return providers[0]?.name || 'your company';
}

const SSO_ERRORS: Record<string, string> = {
  denied: 'The sign-in was cancelled: you or your company’s sign-in service declined it. Sign in again if you meant to.',
  expired: 'The sign-in took too long, or its link was already used. Please start again.',
  state: 'The sign-in was started in another browser or tab, or was changed on the way. Please start again here.',
  unverified_email: 'Your company’s sign-in service has not verified your email address yet, so Baton cannot use it. Ask your IT team to verify it, then try again.',
  no_email: 'Your company’s sign-in service did not share an email address, so Baton cannot tell who you are. Ask your IT team to allow the email scope for Baton.',
  deactivated: 'Your company has turned off your Baton account. If you think this is a mistake, ask your manager or IT team.',
  provider: 'Your company’s sign-in service could not be reached or refused the request. Please try again in a few minutes.',
  // Beyond the contract's list, codes the server also sends.
  invalid_token: 'Baton could not confirm the answer from your company’s sign-in service, so it did not sign you in. Please start again.',
  conflict: 'This Baton account is already connected to a different account at your company’s sign-in service. Ask your Baton admin for help.',
  unavailable: 'Baton could not finish the sign-in just now. Please try again in a minute.',
  not_provisioned: 'Your company has not given you a Baton account yet. Ask your manager or IT team to add you to Baton, then sign in again.',
  busy: 'Too many sign-ins were started from your network just now. Wait a minute, then try again.',
};

/** The readable sentence for an sso_error code; an unknown code gets a general one. */
export function ssoErrorMessage(code: string): string {
  return Object.prototype.hasOwnProperty.call(SSO_ERRORS, code) ? SSO_ERRORS[code] : 'The sign-in with your company could not be completed. Please try again.';
}

/** One button per provider; a full-page navigation that comes back to next. */
export function SsoButtons({ providers, next = '/', prominent = false, label = 'Sign in with' }: { providers: AuthProvider[]; next?: string; prominent?: boolean; label?: string }) {
  if (providers.length === 0) return null;
  return (
    <div class="sso-buttons stack">
      {providers.map((p) => (
        <button key={p.id} type="button" class={`btn ${prominent ? 'btn-primary' : 'btn-secondary'} btn-block sso-button`} data-provider={p.id} onClick={() => startSso(p, next)}>
          {label} {p.name}
        </button>
      ))}
    </div>
  );
}
