import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { _reset, setToken } from '../src/api';
import { SkillChart, SkillHistoryChart } from '../src/components/charts';
import { QuickCheck } from '../src/components/QuickCheck';
import { ProgressBar } from '../src/components/ui';
import { localToRFC3339, ProgressTable } from '../src/pages/TeamPage';
import type { TeamProgress } from '../src/types';

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
});

const flush = () => act(async () => {
  await new Promise((r) => setTimeout(r, 0));
});

describe('SkillChart', () => {
  it('renders each skill with its value as text and as a bar', () => {
    render(<SkillChart skills={{ vision: 80, alignment: 45, inspiration: 100 }} />, root);
    const value = (k: string) => root.querySelector(`[data-skill=${k}] .skill-value`)?.textContent;
    expect(value('vision')).toBe('80%');
    expect(value('alignment')).toBe('45%');
    expect(value('inspiration')).toBe('100%');
    expect(root.querySelector('[data-skill=alignment] .skill-bar')?.getAttribute('width')).toBe('45');
    expect(root.querySelector('.skill-chart')?.getAttribute('aria-label')).toContain('Cross-functional alignment 45%');
  });

  it('clamps values outside 0..100', () => {
    render(<SkillChart skills={{ vision: 130, alignment: -5, inspiration: 50 }} />, root);
    expect(root.querySelector('[data-skill=vision] .skill-value')?.textContent).toBe('100%');
    expect(root.querySelector('[data-skill=alignment] .skill-value')?.textContent).toBe('0%');
  });
});

describe('SkillHistoryChart', () => {
  it('draws one line per skill across attempts', () => {
    const at = (d: number) => new Date(Date.UTC(2026, 0, d)).toISOString();
    render(
      <SkillHistoryChart
        history={[
          { at: at(2), quiz: 'q', skills: { vision: 50, alignment: 40, inspiration: 30 } },
          { at: at(1), quiz: 'q', skills: { vision: 10, alignment: 20, inspiration: 30 } },
        ]}
      />,
      root,
    );
    expect(root.querySelectorAll('polyline')).toHaveLength(3);
    expect(root.querySelectorAll('.series-vision circle')).toHaveLength(2);
    const rows = [...root.querySelectorAll('tbody tr')].map((r) => r.textContent);
    expect(rows[0]).toContain('10%'); // sorted oldest first
  });

  it('explains an empty history', () => {
    render(<SkillHistoryChart history={[]} />, root);
    expect(root.textContent).toContain('Finish a scenario');
  });
});

describe('ProgressBar', () => {
  it('exposes its value to assistive technology', () => {
    render(<ProgressBar value={42.4} label="Module progress" />, root);
    const bar = root.querySelector('[role=progressbar]')!;
    expect(bar.getAttribute('aria-valuenow')).toBe('42');
    expect(bar.getAttribute('aria-label')).toBe('Module progress');
  });
});

describe('QuickCheck', () => {
  const check = {
    id: 'first-move',
    question: 'Your first move?',
    options: [
      { id: 'a', text: 'Ask what drives the estimate.' },
      { id: 'b', text: 'Tell them the date is fixed.' },
    ],
    answer: null,
  };

  it('posts the chosen option and shows the server feedback, and allows another try', async () => {
    setToken('t');
    const fetchMock = vi.fn(async (_url: string, init: RequestInit) => {
      const body = JSON.parse(init.body as string);
      const correct = body.option === 'a';
      return new Response(JSON.stringify({ check_id: 'first-move', option: body.option, correct, feedback: correct ? 'Right: it keeps the estimate with the builders.' : 'That backfires.' }), {
        status: 200,
        headers: { 'Content-Type': 'application/json' },
      });
    });
    vi.stubGlobal('fetch', fetchMock);
    render(<QuickCheck lesson="who-owns" check={check} />, root);
    expect(root.querySelector('legend')?.textContent).toContain('Your first move?');

    const radios = root.querySelectorAll<HTMLInputElement>('input[type=radio]');
    await act(() => {
      radios[1].click();
    });
    await act(() => {
      root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true, bubbles: true }));
    });
    await flush();
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(fetchMock.mock.calls[0][0]).toBe('/api/lessons/who-owns/checks/first-move/answers');
    expect(root.querySelector('.feedback-wrong')?.textContent).toContain('That backfires.');

    await act(() => {
      radios[0].click();
    });
    await act(() => {
      root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true, bubbles: true }));
    });
    await flush();
    expect(root.querySelector('.feedback-correct')?.textContent).toContain('Right: it keeps the estimate');
    expect(root.querySelector('[aria-live]')).not.toBeNull();
  });

  it('shows the problem detail when the answer fails', async () => {
    setToken('t');
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify({ type: 'x', title: 'Unprocessable', status: 422, detail: 'Unknown option.' }), { status: 422, headers: { 'Content-Type': 'application/problem+json' } })),
    );
    render(<QuickCheck lesson="l" check={check} />, root);
    await act(() => {
      root.querySelectorAll<HTMLInputElement>('input[type=radio]')[0].click();
    });
    await act(() => {
      root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true, bubbles: true }));
    });
    await flush();
    expect(root.querySelector('[role=alert]')?.textContent).toBe('Unknown option.');
  });
});

describe('team progress table', () => {
  it('renders names as text and highlights overdue assignments', () => {
    const data: TeamProgress = {
      team: { id: 't', name: 'T' },
      members: [
        {
          user: { id: 'u', name: '<img src=x onerror=alert(1)>', email: 'u@x.y', lookalike: false },
          modules: [
            { slug: 'm1', percent: 100, completed: true, best_percent: 90 },
            { slug: 'm2', percent: 10, completed: false, best_percent: null },
          ],
          skills: { vision: 1, alignment: 2, inspiration: 3 },
          assignments: [{ id: 'a', user_id: 'u', module: 'm2', due_at: '2026-01-01T00:00:00Z', status: 'in_progress', overdue: true }],
        },
      ],
    };
    render(<ProgressTable progress={data} modules={[]} />, root);
    expect(root.querySelector('img')).toBeNull();
    expect(root.querySelector('tbody th')?.textContent).toContain('<img src=x onerror=alert(1)>');
    expect(root.querySelector('td[data-module=m2]')?.classList.contains('overdue')).toBe(true);
    expect(root.querySelector('td[data-module=m1]')?.textContent).toContain('100%');
  });

  it('warns, in words, about a member whose email mixes alphabets', () => {
    const member = (id: string, email: string, lookalike: boolean) => ({
      user: { id, name: 'Ana', email, lookalike },
      modules: [],
      skills: { vision: 0, alignment: 0, inspiration: 0 },
      assignments: [],
    });
    const data: TeamProgress = { team: { id: 't', name: 'T' }, members: [member('a', 'ana@x.y', false), member('b', '\u0430na@x.y', true)] };
    render(<ProgressTable progress={data} modules={[]} />, root);
    const rows = root.querySelectorAll('tbody tr');
    expect(rows[0].querySelector('[data-testid=lookalike]')).toBeNull();
    expect(rows[1].querySelector('[data-testid=lookalike]')?.textContent).toContain('mixes alphabets');
  });

  it('converts a datetime-local value to RFC 3339 UTC', () => {
    const v = localToRFC3339('2026-03-01T17:30');
    expect(v).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(new Date(v!).getTime()).toBe(new Date('2026-03-01T17:30').getTime());
    expect(localToRFC3339('')).toBeNull();
  });
});
