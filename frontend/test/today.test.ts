import { describe, expect, it } from 'vitest';
import { fieldSentence } from '../src/copy';
import { isFirstVisit } from '../src/pages/Home';
import { buildToday, countToday, relativeDue, todaySummary } from '../src/today';
import type { Assignment, LearnerProgress, Module } from '../src/types';

// Local times, so the calendar arithmetic holds in any zone the tests run in.
const now = new Date(2026, 11, 1, 15, 0);
const at = (days: number, hour = 9) => new Date(2026, 11, 1 + days, hour, 0).toISOString();

function mod(slug: string, position: number, done = false): Module {
  return {
    slug, title: `Module ${position}`, summary: '', position, percent: done ? 100 : 0, completed: done,
    lessons: [{ slug: `${slug}-l1`, title: `${slug} lesson`, minutes: 5, completed: done }],
    quizzes: [{ slug: `${slug}-q`, title: `${slug} scenario`, passed: done, best_percent: done ? 90 : null }],
  };
}
const modules = [mod('m1', 1, true), mod('m2', 2), mod('m3', 3), mod('m4', 4)];
const assignment = (id: string, module: string, due: string, extra: Partial<Assignment> = {}): Assignment => ({
  id, user_id: 'u', module, due_at: due, status: 'not_started', overdue: false, ...extra,
});
const progress = (assignments: Assignment[], reviews: string[] = []): LearnerProgress => ({
  modules: [], skills: { vision: 0, alignment: 0, inspiration: 0 }, reviews_due: reviews, assignments,
});

describe('relativeDue', () => {
  it('says due dates as people do, in calendar days', () => {
    expect(relativeDue(at(0, 18), now)).toBe('due today');
    expect(relativeDue(at(1), now)).toBe('due tomorrow');
    expect(relativeDue(at(3), now)).toBe('due in 3 days');
    expect(relativeDue(at(15), now)).toBe('due in 2 weeks');
    expect(relativeDue(at(0, 9), now)).toBe('due earlier today');
    expect(relativeDue(at(-1, 18), now)).toBe('1 day overdue');
    expect(relativeDue(at(-2), now)).toBe('2 days overdue');
    expect(relativeDue('not a date', now)).toBe('');
  });
});

describe('buildToday', () => {
  it('puts overdue first, then due soon, then reviews in course order', () => {
    const t = buildToday(
      modules,
      progress(
        [
          assignment('soon', 'm4', at(2)),
          assignment('late', 'm3', at(-3)),
          assignment('later', 'm2', at(9)),
          assignment('done', 'm1', at(-5), { status: 'completed', overdue: true }),
          assignment('flagged', 'm2', at(-1), { overdue: true }),
        ],
        ['m4-q', 'm1-q'],
      ),
      now,
    );
    expect(t.overdue.map((i) => i.assignment.id)).toEqual(['late', 'flagged']);
    expect(t.dueSoon.map((i) => i.assignment.id)).toEqual(['soon', 'later']);
    expect(t.reviews.map((r) => r.slug)).toEqual(['m1-q', 'm4-q']);
    expect(t.overdue[0].title).toBe('Module 3');
  });

  it('treats an assignment whose time passed since loading as overdue', () => {
    const t = buildToday(modules, progress([assignment('a', 'm2', new Date(now.getTime() - 60_000).toISOString())]), now);
    expect(t.overdue).toHaveLength(1);
    expect(t.dueSoon).toHaveLength(0);
  });
});

describe('the next step', () => {
  it('goes to the overdue module before a review or the course order', () => {
    const t = buildToday(modules, progress([assignment('soon', 'm4', at(1)), assignment('late', 'm3', at(-2))], ['m1-q']), now);
    expect(t.next).toMatchObject({ reason: 'overdue', href: '/lessons/m3-l1', module: 'Module 3' });
  });

  it('then to a due review, which starts the scenario again', () => {
    const t = buildToday(modules, progress([assignment('soon', 'm4', at(1))], ['m1-q']), now);
    expect(t.next).toMatchObject({ reason: 'review', kind: 'Review', review: 'm1-q' });
  });

  it('then to the module due soonest, then the course order', () => {
    expect(buildToday(modules, progress([assignment('x', 'm4', at(5)), assignment('y', 'm3', at(2))]), now).next).toMatchObject({
      reason: 'due-soon',
      href: '/lessons/m3-l1',
    });
    expect(buildToday(modules, progress([]), now).next).toMatchObject({ reason: 'course', href: '/lessons/m2-l1', kind: 'Next lesson' });
  });

  it('skips an assigned module that is already finished', () => {
    const t = buildToday(modules, progress([assignment('a', 'm1', at(-1))]), now);
    expect(t.next).toMatchObject({ reason: 'course', href: '/lessons/m2-l1' });
  });

  it('is null when the whole course is done and nothing is due', () => {
    const done = modules.map((m) => mod(m.slug, m.position, true));
    expect(buildToday(done, progress([]), now).next).toBeNull();
  });
});

describe('copy', () => {
  it('turns field fragments into sentences that name the field', () => {
    expect(fieldSentence('Password', 'must be at least 12 characters')).toBe('Password must be at least 12 characters.');
    expect(fieldSentence('Invite code', 'Enter the invite code your manager shared.')).toBe('Enter the invite code your manager shared.');
    expect(fieldSentence('Email', '')).toBe('');
  });

  it('greets a learner who has not started anything as new', () => {
    expect(isFirstVisit([mod('a', 1)], progress([]))).toBe(true);
    expect(isFirstVisit([mod('a', 1, true)], progress([]))).toBe(false);
  });
});

describe('the Today bar on other pages', () => {
  const line = (assignments: Assignment[], reviews: string[] = []) => todaySummary(countToday(buildToday([], progress(assignments, reviews), now), now));

  it('counts overdue, due within 3 days and reviews due, in that order', () => {
    const text = line(
      [assignment('late', 'm2', at(-2)), assignment('soon', 'm3', at(3, 20)), assignment('done', 'm4', at(1), { status: 'completed' })],
      ['m1-q'],
    );
    expect(text).toBe('Today: 1 overdue · 1 due soon · 1 review due');
  });

  it('leaves out what is not there, and says plurals', () => {
    expect(line([assignment('a', 'm2', at(0, 18)), assignment('b', 'm3', at(1))])).toBe('Today: 2 due soon');
    expect(line([], ['m1-q', 'm2-q'])).toBe('Today: 2 reviews due');
    expect(line([assignment('a', 'm2', at(-1), { overdue: true }), assignment('b', 'm3', at(-3))])).toBe('Today: 2 overdue');
  });

  it('says nothing on a quiet day: no assignment due within 3 days, no review', () => {
    expect(line([])).toBeNull();
    expect(line([assignment('later', 'm2', at(4))])).toBeNull();
    expect(line([assignment('done', 'm2', at(-1), { status: 'completed' })])).toBeNull();
  });
});
