import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { _reset, acceptTokens, put } from '../src/api';
import { OutageBanner } from '../src/components/OutageBanner';
import { SignInDialog } from '../src/components/SignInDialog';
import { _resetOutage, reportOutage, serverAnswered } from '../src/outage';

let root: HTMLElement;
const user = { id: 'u1', email: 'ann@example.test', name: 'Ann', role: 'learner' as const };
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const flush = () =>
  act(async () => {
    await new Promise((r) => setTimeout(r, 0));
  });

beforeEach(() => {
  _reset();
  _resetOutage(async () => false);
  localStorage.clear();
  root = document.createElement('div');
  document.body.appendChild(root);
});

afterEach(() => {
  render(null, root);
  root.remove();
  vi.unstubAllGlobals();
});

describe('SignInDialog', () => {
  it('opens labelled with the email filled in, and Escape cancels the waiting save', async () => {
    acceptTokens({ user, access_token: 't1', token_type: 'Bearer', expires_in: 900 });
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(401, { type: 'x', title: 'Unauthorized', status: 401 })),
    );
    await act(() => render(<SignInDialog />, root));
    const saving = put('/api/lessons/l/reflections/r', { body: 'words' }).catch((e) => e);
    await flush();
    await flush();
    const dialog = root.querySelector('dialog')!;
    expect(dialog.hasAttribute('open')).toBe(true);
    const title = document.getElementById(dialog.getAttribute('aria-labelledby')!);
    expect(title?.textContent).toBe('Sign in to continue');
    expect(root.querySelector<HTMLInputElement>('input[name=email]')?.value).toBe('ann@example.test');
    await act(() => {
      dialog.dispatchEvent(new Event('cancel', { cancelable: true }));
    });
    const err = (await saving) as Error;
    expect(err.message).toContain('kept on this device');
    expect(dialog.hasAttribute('open')).toBe(false);
  });
});

describe('OutageBanner', () => {
  it('shows one notice with a countdown while the server is unreachable, and goes away', async () => {
    await act(() => render(<OutageBanner />, root));
    const banner = root.querySelector('[data-testid=outage-banner]')!;
    expect(banner.classList.contains('outage-hidden')).toBe(true);
    await act(() => reportOutage());
    expect(banner.classList.contains('outage-hidden')).toBe(false);
    expect(banner.querySelector('[role=status]')?.textContent).toContain("Baton can't reach the server; retrying");
    expect(root.querySelector('[data-testid=outage-countdown]')?.textContent).toMatch(/Next try in \d+ s/);
    expect(root.querySelector('button')?.textContent).toBe('Retry now');
    await act(() => serverAnswered());
    expect(banner.classList.contains('outage-hidden')).toBe(true);
    expect(banner.querySelector('[role=status]')?.textContent).toBe('');
  });
});
