// The learner's day: what is overdue, what is due soon, which reviews are
// waiting and what to do next. Pure functions of the course, the learner's
// progress and the clock, so the order can be tested without a browser.
import type { Assignment, LearnerProgress, Module } from './types';

const DAY = 24 * 60 * 60 * 1000;

/** An open assignment with the module it is about. */
export interface DueItem {
  assignment: Assignment;
  title: string;
  /** The first unfinished lesson or scenario of the module, or the module page. */
  href: string;
}

export interface ReviewItem {
  slug: string;
  title: string;
}

/** The one step the home page puts forward, and why it comes first. */
export interface NextStep {
  href: string;
  title: string;
  /** "Next lesson", "Continue reading", "Next scenario" or "Review" */
  kind: string;
  reason: 'overdue' | 'review' | 'due-soon' | 'course';
  /** The module it belongs to, when the reason is an assignment. */
  module?: string;
  /** For a review: the scenario to start an attempt of. */
  review?: string;
}

export interface Today {
  overdue: DueItem[];
  dueSoon: DueItem[];
  reviews: ReviewItem[];
  next: NextStep | null;
}

function isOpen(a: Assignment): boolean {
  return a.status !== 'completed';
}

/** Overdue by the server's word, or by the clock since the page loaded. */
export function isOverdue(a: Assignment, now: Date): boolean {
  return isOpen(a) && (a.overdue || new Date(a.due_at).getTime() < now.getTime());
}

/** The first unfinished item of a module, in reading order. */
export function firstUnfinished(m: Module): Omit<NextStep, 'reason'> | null {
  for (const l of m.lessons) if (!l.completed) return { href: `/lessons/${l.slug}`, title: l.title, kind: l.percent ? 'Continue reading' : 'Next lesson' };
  for (const q of m.quizzes) if (!q.passed) return { href: `/quizzes/${q.slug}`, title: q.title, kind: 'Next scenario' };
  return null;
}

function byDue(a: DueItem, b: DueItem): number {
  return new Date(a.assignment.due_at).getTime() - new Date(b.assignment.due_at).getTime();
}

/**
 * Builds the day: overdue assignments (longest overdue first), then the
 * open ones still to come (soonest first), then reviews due in course order,
 * and the next step. The next step follows the same priority: the overdue
 * module first, then a due review, then the module due soonest, then the
 * course order.
 */
export function buildToday(modules: Module[], progress: LearnerProgress | undefined, now: Date): Today {
  const bySlug = new Map(modules.map((m) => [m.slug, m]));
  const items: DueItem[] = (progress?.assignments ?? []).filter(isOpen).map((a) => {
    const m = bySlug.get(a.module);
    return { assignment: a, title: a.module_title || m?.title || a.module, href: (m && firstUnfinished(m)?.href) || `/modules/${a.module}` };
  });
  const overdue = items.filter((i) => isOverdue(i.assignment, now)).sort(byDue);
  const dueSoon = items.filter((i) => !isOverdue(i.assignment, now)).sort(byDue);

  const quizzes = modules.flatMap((m) => m.quizzes);
  const due = new Set(progress?.reviews_due ?? []);
  // Course order, not the order the server happened to list them in.
  const reviews: ReviewItem[] = quizzes.filter((q) => due.has(q.slug)).map((q) => ({ slug: q.slug, title: q.title }));
  for (const slug of due) if (!quizzes.some((q) => q.slug === slug)) reviews.push({ slug, title: slug });

  return { overdue, dueSoon, reviews, next: nextStep(modules, overdue, reviews, dueSoon) };
}

function fromAssignment(modules: Module[], items: DueItem[], reason: 'overdue' | 'due-soon'): NextStep | null {
  for (const i of items) {
    const m = modules.find((x) => x.slug === i.assignment.module);
    const step = m && firstUnfinished(m);
    if (step) return { ...step, reason, module: i.title };
  }
  return null;
}

export function nextStep(modules: Module[], overdue: DueItem[], reviews: ReviewItem[], dueSoon: DueItem[]): NextStep | null {
  const late = fromAssignment(modules, overdue, 'overdue');
  if (late) return late;
  if (reviews.length) {
    const r = reviews[0];
    return { href: `/quizzes/${r.slug}`, title: r.title, kind: 'Review', reason: 'review', review: r.slug };
  }
  const soon = fromAssignment(modules, dueSoon, 'due-soon');
  if (soon) return soon;
  for (const m of modules) {
    const step = firstUnfinished(m);
    if (step) return { ...step, reason: 'course' };
  }
  return null;
}

/** Calendar days from a to b in the viewer's time zone (b later: positive). */
function calendarDays(a: Date, b: Date): number {
  const start = new Date(a.getFullYear(), a.getMonth(), a.getDate());
  const end = new Date(b.getFullYear(), b.getMonth(), b.getDate());
  return Math.round((end.getTime() - start.getTime()) / DAY);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * A due date relative to now, in the viewer's calendar: "due today",
 * "due tomorrow", "due in 3 days", "due in 2 weeks", "due earlier today",
 * "1 day overdue", "2 days overdue".
 */
export function relativeDue(dueISO: string, now: Date): string {
  const due = new Date(dueISO);
  if (isNaN(due.getTime())) return '';
  const days = calendarDays(now, due);
  if (due.getTime() < now.getTime()) {
    const late = -days;
    return late <= 0 ? 'due earlier today' : `${plural(late, 'day')} overdue`;
  }
  if (days === 0) return 'due today';
  if (days === 1) return 'due tomorrow';
  if (days < 14) return `due in ${days} days`;
  if (days < 60) return `due in ${plural(Math.floor(days / 7), 'week')}`;
  return `due on ${new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' }).format(due)}`;
}

const fullFmt = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
});

/** A moment in the viewer's local date, time and zone ("Tue, Dec 1, 2026, 03:03 PM EST"). */
export function localDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d.getTime()) ? '' : fullFmt.format(d);
}

/** How near a due date must be for the bar on other pages to mention it. */
export const SOON_DAYS = 3;

/** What the one-line bar counts: the same day as the home strip, told short. */
export interface TodayCounts {
  overdue: number;
  dueSoon: number;
  reviews: number;
}

/**
 * Counts the day built by buildToday for the bar on the other learner pages:
 * everything overdue, what falls due within SOON_DAYS calendar days, and
 * the reviews due. Later due dates wait for the home page.
 */
export function countToday(today: Today, now: Date): TodayCounts {
  const soon = today.dueSoon.filter((i) => calendarDays(now, new Date(i.assignment.due_at)) <= SOON_DAYS);
  return { overdue: today.overdue.length, dueSoon: soon.length, reviews: today.reviews.length };
}

/** "Today: 1 overdue · 2 due soon · 1 review due", or null when nothing needs the learner. */
export function todaySummary(c: TodayCounts): string | null {
  const parts: string[] = [];
  if (c.overdue) parts.push(`${c.overdue} overdue`);
  if (c.dueSoon) parts.push(`${c.dueSoon} due soon`);
  if (c.reviews) parts.push(`${plural(c.reviews, 'review')} due`);
  return parts.length ? `Today: ${parts.join(' · ')}` : null;
}
