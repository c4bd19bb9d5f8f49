import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useStartAttempt } from '../pages/QuizPage';
import { buildToday, countToday, localDateTime, relativeDue, todaySummary, type DueItem, type NextStep, type ReviewItem, type Today } from '../today';
import type { LearnerProgress } from '../types';
import { ErrorBox, useApi } from './ui';

/**
 * A due date as people say it ("due tomorrow"), with the exact local date,
 * time and zone on hover and for screen readers.
 */
export function RelativeDue({ iso, now }: { iso: string; now: Date }) {
  const full = localDateTime(iso);
  return (
    <time dateTime={iso} title={full}>
      {relativeDue(iso, now)}
      <span class="visually-hidden"> ({full})</span>
    </time>
  );
}

function DueRow({ item, now, overdue }: { item: DueItem; now: Date; overdue: boolean }) {
  const a = item.assignment;
  return (
    <li class={`today-item${overdue ? ' today-overdue' : ''}`} data-testid={overdue ? 'today-overdue' : 'today-due'}>
      <div class="today-what">
        <a href={`/modules/${a.module}`} class="today-title">
          {item.title}
        </a>
        <span class="today-when">
          <RelativeDue iso={a.due_at} now={now} />
          {a.percent ? ` · ${a.percent}% done` : a.status === 'in_progress' ? ' · started' : ''}
        </span>
      </div>
    </li>
  );
}

function ReviewRow({ item }: { item: ReviewItem }) {
  const starter = useStartAttempt(item.slug);
  return (
    <li class="today-item" data-testid="today-review">
      <div class="today-what">
        <a href={`/quizzes/${item.slug}`} class="today-title">
          {item.title}
        </a>
        <span class="today-when">Review due: play it again to keep it fresh.</span>
      </div>
      <button type="button" class="btn btn-primary btn-sm" onClick={starter.start} disabled={starter.busy}>
        {starter.busy ? 'Starting…' : 'Review'}
        <span class="visually-hidden"> {item.title}</span>
      </button>
      <ErrorBox error={starter.error} title="Could not start the review" />
    </li>
  );
}

const reasons: Record<NextStep['reason'], (n: NextStep) => string> = {
  overdue: (n) => `Overdue module: ${n.module}`,
  review: () => 'A review is due',
  'due-soon': (n) => `Due soon: ${n.module}`,
  course: () => '', // the kind says it all
};

/** The one step put forward: where the learner's time does most good now. */
function Next({ next }: { next: NextStep }) {
  const starter = useStartAttempt(next.review ?? '');
  const body = (
    <>
      <span class="eyebrow">
        {next.kind}
        {next.reason !== 'course' && ` · ${reasons[next.reason](next)}`}
      </span>
      <span class="continue-title">{next.title}</span>
      <span class="continue-arrow" aria-hidden="true">
        →
      </span>
    </>
  );
  if (next.review)
    return (
      <>
        <button type="button" class="continue card today-next" data-testid="today-next" onClick={starter.start} disabled={starter.busy}>
          {body}
        </button>
        <ErrorBox error={starter.error} title="Could not start the review" />
      </>
    );
  return (
    <a class="continue card today-next" href={next.href} data-testid="today-next">
      {body}
    </a>
  );
}

/**
 * "Today": first on the learner's home, so that on a phone the day's work
 * comes before the course map. Overdue, then due soon, then reviews, then
 * invitations (children), then the next step.
 */
export function TodayStrip({ today, now, children, courseDone }: { today: Today; now: Date; children?: ComponentChildren; courseDone: boolean }) {
  const { overdue, dueSoon, reviews, next } = today;
  const busy = overdue.length + dueSoon.length + reviews.length > 0;
  return (
    <section class="card today" id="today" aria-labelledby="h-today" data-testid="today">
      <h2 id="h-today" tabIndex={-1}>
        Today
      </h2>
      {overdue.length > 0 && (
        <>
          <h3 class="today-group">Overdue</h3>
          <ul class="today-list">
            {overdue.map((i) => (
              <DueRow key={i.assignment.id} item={i} now={now} overdue />
            ))}
          </ul>
        </>
      )}
      {dueSoon.length > 0 && (
        <>
          <h3 class="today-group">Coming up</h3>
          <ul class="today-list">
            {dueSoon.map((i) => (
              <DueRow key={i.assignment.id} item={i} now={now} overdue={false} />
            ))}
          </ul>
        </>
      )}
      {reviews.length > 0 && (
        <>
          <h3 class="today-group">Reviews due</h3>
          <ul class="today-list">
            {reviews.map((r) => (
              <ReviewRow key={r.slug} item={r} />
            ))}
          </ul>
        </>
      )}
      {children}
      {!busy && (
        <p class="today-empty" data-testid="today-empty">
          {courseDone
            ? 'Nothing is due and you have finished the course. Passed scenarios come back for review after 2, 7, 21 and 60 days, so check in now and then.'
            : next
              ? 'Nothing is due and no review is waiting: a good day to get ahead. Your next step is below.'
              : 'Nothing is due and no review is waiting.'}
        </p>
      )}
      {next && <Next next={next} />}
    </section>
  );
}

// Whether an attempt's result is on screen. On an attempt's page the bar
// waits for it: mid-scenario it would pull the learner away from the decision.
let resultShown = false;
const resultListeners = new Set<() => void>();
function setResultShown(v: boolean) {
  resultShown = v;
  for (const fn of resultListeners) fn();
}

/** Called by a finished attempt's result: the Today bar may show above it. */
export function useResultShown(): void {
  useEffect(() => {
    setResultShown(true);
    return () => setResultShown(false);
  }, []);
}

function useWaitForResult(wait: boolean): boolean {
  const [shown, setShown] = useState(resultShown);
  useEffect(() => {
    if (!wait) return;
    const fn = () => setShown(resultShown);
    resultListeners.add(fn);
    fn();
    return () => {
      resultListeners.delete(fn);
    };
  }, [wait]);
  return !wait || shown;
}

/**
 * "What needs you today" at the top of the other learner pages: one line
 * that links to the strip on the home page, and nothing at all on a quiet
 * day, so the page's own content keeps the first screen. Mount it once per
 * page view (keyed by path): it loads /api/progress once, so assignments
 * given or finished meanwhile show on the next page. Modules are not needed
 * for counting, only for titles, which the line does not show. With
 * afterResult (an attempt's page) it shows, and loads, only once the result
 * is on screen, so a review just played no longer counts as due.
 */
export function TodayBar({ afterResult = false }: { afterResult?: boolean }) {
  const ready = useWaitForResult(afterResult);
  const progress = useApi<LearnerProgress>(ready ? '/api/progress' : null);
  if (!progress.data) return null; // loading or failed: the page comes first
  const text = todaySummary(countToday(buildToday([], progress.data, new Date()), new Date()));
  if (!text) return null;
  return (
    <p class="today-bar" data-testid="today-bar">
      <span>{text}</span>{' '}
      <a href="/#today">
        See today<span aria-hidden="true"> →</span>
      </a>
    </p>
  );
}
