import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flush, json, problem, serve, submit, type } from './serve';
import { _reset } from '../src/api';
import { courseOrder, DeepLinkPickerPage } from '../src/pages/DeepLinkPicker';
import { endpointProblem, ltiToolValues, LtiPlatformsSection, parseDeploymentIds, platformProblems, type PlatformForm } from '../src/pages/LtiPlatforms';
import type { LtiContentItem, LtiDeepLink } from '../src/types';

let root: HTMLElement;

beforeEach(() => {
  _reset();
  root = document.createElement('div');
  document.body.appendChild(root);
});

afterEach(() => {
  render(null, root);
  root.remove();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const good: PlatformForm = {
  issuer: 'https://moodle.example.com',
  client_id: 'abc123',
  deployment_ids: '1\n 2 ,1',
  name: '',
  auth_url: 'https://moodle.example.com/mod/lti/auth.php',
  token_url: 'https://moodle.example.com/mod/lti/token.php',
  jwks_url: 'https://moodle.example.com/mod/lti/certs.php',
};

describe('platform validation mirrors the API', () => {
  it('takes https anywhere and http on loopback only', () => {
    expect(endpointProblem('https://lms.example.com/x')).toBe('');
    expect(endpointProblem('http://localhost:8081/auth')).toBe('');
    expect(endpointProblem('http://127.0.0.1/auth')).toBe('');
    expect(endpointProblem('http://lms.example.com/auth')).toBe('must be an https URL');
    expect(endpointProblem('ftp://lms.example.com')).toBe('must be an https URL');
    expect(endpointProblem('lms.example.com')).toBe('must be an absolute https URL');
    expect(endpointProblem('https://user:pw@lms.example.com')).toBe('must be an absolute https URL');
    expect(endpointProblem('  ')).toBe('is required');
    expect(endpointProblem('https://lms.example.com/?a=1', true)).toBe('must have no query or fragment');
    expect(endpointProblem('https://lms.example.com/#x', true)).toBe('must have no query or fragment');
    expect(endpointProblem('https://lms.example.com/?a=1')).toBe('');
  });

  it('reads deployment ids one a line or comma-separated, without repeats', () => {
    expect(parseDeploymentIds('1\n 2 ,1\n\n')).toEqual(['1', '2']);
    expect(parseDeploymentIds('')).toEqual([]);
  });

  it('names each field the server would refuse', () => {
    expect(platformProblems(good)).toEqual({});
    const bad = platformProblems({ ...good, issuer: 'http://moodle.example.com', client_id: '', deployment_ids: ' , ', name: 'x'.repeat(101), jwks_url: 'nope' });
    expect(bad).toEqual({
      issuer: 'must be an https URL',
      client_id: 'is required',
      deployment_ids: 'needs at least one deployment id',
      name: 'is too long',
      jwks_url: 'must be an absolute https URL',
    });
    expect(platformProblems({ ...good, deployment_ids: 'd'.repeat(256) }).deployment_ids).toBe('each deployment id has at most 255 characters');
  });

  it('lists Baton\'s values at the page\'s origin', () => {
    const v = Object.fromEntries(ltiToolValues('https://baton.example.com').map((x) => [x.label, x.value]));
    expect(v['Initiate login URL']).toBe('https://baton.example.com/api/lti/login');
    expect(v['Redirection URI (launch)']).toBe('https://baton.example.com/api/lti/launch');
    expect(v['Public keyset URL (JWKS)']).toBe('https://baton.example.com/api/lti/jwks');
    expect(v['Tool URL (target link URI)']).toBe('https://baton.example.com/');
  });
});

describe('LtiPlatformsSection', () => {
  const platform = { id: 'p1', issuer: 'https://moodle.example.com', client_id: 'abc123', deployment_ids: ['1', '2'], name: 'Moodle', auth_url: '', token_url: '', jwks_url: '', created_at: '2026-01-05T10:00:00Z' };

  it('lists the platforms and removes one only after the confirmation', async () => {
    const calls = serve({ 'GET /api/admin/lti/platforms': () => json(200, [platform]), 'DELETE /api/admin/lti/platforms/p1': () => json(204, null) });
    await act(() => render(<LtiPlatformsSection />, root));
    await flush();
    const item = root.querySelector('.lti-platform');
    expect(item?.textContent).toContain('Moodle');
    expect(item?.textContent).toContain('abc123');
    expect(item?.textContent).toContain('1, 2');
    await act(() => item!.querySelector<HTMLButtonElement>('button')!.click());
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    await act(() => root.querySelector<HTMLButtonElement>('.lti-platform .btn-danger')!.click());
    await flush();
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual(['/api/admin/lti/platforms/p1']);
    expect(root.querySelector('.lti-platform')).toBeNull();
    expect(root.textContent).toContain('Moodle is removed');
  });

  it('checks the form before sending, sends it cleaned, and shows the server\'s field messages', async () => {
    let answer = () => problem(409, 'This platform (issuer and client id) is registered already.');
    const calls = serve({ 'GET /api/admin/lti/platforms': () => json(200, []), 'POST /api/admin/lti/platforms': () => answer() });
    await act(() => render(<LtiPlatformsSection />, root));
    await flush();
    await type(root.querySelector('input[name=lti_issuer]'), 'http://moodle.example.com');
    await submit(root, 'form.lti-form');
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    expect(root.querySelector('.lti-form')?.textContent).toContain('Platform ID (issuer) must be an https URL.');
    expect(root.querySelector('.lti-form')?.textContent).toContain('Deployment IDs needs at least one deployment id.');

    for (const [k, v] of Object.entries(good)) await type(root.querySelector(`[name=lti_${k}]`), v);
    await submit(root, 'form.lti-form');
    await flush();
    const post = calls.find((c) => c.method === 'POST');
    expect(post?.body).toEqual({ ...good, deployment_ids: ['1', '2'] });
    expect(root.querySelector('.lti-form [role=alert]')?.textContent).toContain('registered already');

    answer = () => problem(422, 'x', { errors: [{ field: 'token_url', message: 'must be an https URL' }] });
    await submit(root, 'form.lti-form');
    await flush();
    expect(root.querySelector('.lti-form')?.textContent).toContain('Access token URL must be an https URL.');
  });

  it('creates a one-time registration URL with its expiry', async () => {
    serve({
      'GET /api/admin/lti/platforms': () => json(200, []),
      'POST /api/admin/lti/registrations': () => json(201, { url: 'https://baton.example.com/api/lti/register?token=t0k', expires_at: '2026-01-05T11:00:00Z' }),
    });
    await act(() => render(<LtiPlatformsSection />, root));
    await flush();
    const create = [...root.querySelectorAll<HTMLButtonElement>('button')].find((b) => b.textContent === 'Create a registration URL');
    await act(() => create!.click());
    await flush();
    expect(root.querySelector('[data-testid=lti-registration]')?.textContent).toContain('https://baton.example.com/api/lti/register?token=t0k');
    expect(root.querySelector('[data-testid=lti-registration] time')?.getAttribute('datetime')).toBe('2026-01-05T11:00:00Z');
    expect([...root.querySelectorAll('button')].some((b) => b.textContent === 'Copy URL')).toBe(true);
  });
});

const items: LtiContentItem[] = [
  { kind: 'module', slug: 'm1', title: 'First module' },
  { kind: 'module', slug: 'm2', title: 'Second module' },
  { kind: 'scenario', slug: 's2', title: 'Second scenario', module: 'm2' },
  { kind: 'scenario', slug: 's1', title: 'First scenario', module: 'm1' },
  { kind: 'scenario', slug: 'sx', title: 'Loose scenario' },
];

describe('courseOrder', () => {
  it('puts each scenario after its module, in course order, and the rest last', () => {
    expect(courseOrder(items).map((g) => [g.module?.slug ?? null, g.scenarios.map((s) => s.slug)])).toEqual([
      ['m1', ['s1']],
      ['m2', ['s2']],
      [null, ['sx']],
    ]);
  });
});

describe('DeepLinkPickerPage', () => {
  const dl = (extra: Partial<LtiDeepLink> = {}): LtiDeepLink => ({ id: 'd1', platform: 'Moodle', accept_types: ['ltiResourceLink'], accept_multiple: true, expires_at: '2026-01-05T11:00:00Z', items, ...extra });

  it('offers radios when the platform takes one item, and form-POSTs the signed answer to the return URL', async () => {
    const submitted: HTMLFormElement[] = [];
    vi.spyOn(HTMLFormElement.prototype, 'submit').mockImplementation(function (this: HTMLFormElement) {
      submitted.push(this);
    });
    const calls = serve({
      'GET /api/lti/deep-links/d1': () => json(200, dl({ accept_multiple: false })),
      'POST /api/lti/deep-links/d1': () => json(200, { jwt: 'signed.jwt.here', return_url: 'http://lms.example/return/1' }),
    });
    await act(() => render(<DeepLinkPickerPage id="d1" />, root));
    await flush();
    expect(root.querySelector('h1')?.textContent).toBe('Add Baton content to Moodle');
    const inputs = [...root.querySelectorAll<HTMLInputElement>('input[name=lti_item]')];
    expect(inputs.map((i) => i.type)).toEqual(['radio', 'radio', 'radio', 'radio', 'radio']);
    expect(inputs.map((i) => i.value)).toEqual(['module:m1', 'scenario:s1', 'module:m2', 'scenario:s2', 'scenario:sx']);

    await submit(root, 'form.lti-picker');
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    expect(root.querySelector('[role=alert]')?.textContent).toBe('Choose a module or scenario.');

    await act(() => inputs[1].click());
    await submit(root, 'form.lti-picker');
    await flush();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ items: [{ kind: 'scenario', slug: 's1' }] });
    expect(submitted).toHaveLength(1);
    expect(submitted[0].getAttribute('action')).toBe('http://lms.example/return/1');
    expect(submitted[0].getAttribute('method')).toBe('post');
    expect(submitted[0].querySelector<HTMLInputElement>('input[name=JWT]')?.value).toBe('signed.jwt.here');
  });

  it('offers checkboxes when the platform takes several', async () => {
    const calls = serve({ 'GET /api/lti/deep-links/d1': () => json(200, dl()), 'POST /api/lti/deep-links/d1': () => problem(422, 'x', { errors: [{ field: 'items', message: 'at most 100 items' }] }) });
    vi.spyOn(HTMLFormElement.prototype, 'submit').mockImplementation(() => {});
    await act(() => render(<DeepLinkPickerPage id="d1" />, root));
    await flush();
    const inputs = [...root.querySelectorAll<HTMLInputElement>('input[name=lti_item]')];
    expect(inputs.every((i) => i.type === 'checkbox')).toBe(true);
    await act(() => inputs[0].click());
    await act(() => inputs[3].click());
    await submit(root, 'form.lti-picker');
    await flush();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ items: [{ kind: 'module', slug: 'm1' }, { kind: 'scenario', slug: 's2' }] });
    expect(root.querySelector('.alert-error')?.textContent).toContain('Could not add the content');
  });

  it('says so when the request is gone', async () => {
    serve({ 'GET /api/lti/deep-links/d1': () => problem(404, 'No such deep-linking request.') });
    await act(() => render(<DeepLinkPickerPage id="d1" />, root));
    await flush();
    expect(root.textContent).toContain('expired or was answered already');
    expect(root.querySelector('form')).toBeNull();
  });
});
