import { useState } from 'preact/hooks';
import { post } from '../api';
import { navigate } from '../router';
import { Async, Badge, Empty, ErrorBox, Loading, Time, useApi, useTitle, type Resource } from '../components/ui';
import type { AttemptStarted, AttemptSummary, Module, Quiz } from '../types';

/** Starts (or resumes) an attempt and opens the player. */
export function useStartAttempt(slug: string) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function start() {
    setBusy(true);
    setError(null);
    try {
      const a = await post<AttemptStarted>(`/api/quizzes/${encodeURIComponent(slug)}/attempts`);
      navigate(`/attempts/${a.id}`);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }
  return { start, busy, error };
}

export function QuizPage({ slug }: { slug: string }) {
  const quiz = useApi<Quiz>(`/api/quizzes/${encodeURIComponent(slug)}`);
  const history = useApi<AttemptSummary[]>(`/api/quizzes/${encodeURIComponent(slug)}/attempts`);
  const modules = useApi<Module[]>('/api/modules');
  const starter = useStartAttempt(slug);
  useTitle(quiz.data?.title ?? 'Scenario');

  return (
    <div class="page narrow">
      <Async res={quiz} label="Loading the scenario…">
        {(q) => {
          const mod = modules.data?.find((m) => m.slug === q.module);
          const open = q.open_attempt_id || history.data?.find((a) => a.status === 'in_progress')?.id;
          const outOfAttempts = q.max_attempts !== null && q.attempts_left === 0;
          const reviewDue = !!q.next_review_at && new Date(q.next_review_at) <= new Date();
          return (
            <>
              <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/">Course</a> <span aria-hidden="true">/</span> <a href={`/modules/${q.module}`}>{mod?.title ?? 'Module'}</a>
              </nav>
              <header class="page-header">
                <p class="eyebrow">Scenario</p>
                <h1 tabIndex={-1}>{q.title}</h1>
              </header>
              <div class="card scenario-intro">
                <p class="intro-text">{q.intro}</p>
                <dl class="stats">
                  <div>
                    <dt>Pass mark</dt>
                    <dd>{q.pass_percent}%</dd>
                  </div>
                  <div>
                    <dt>Best score</dt>
                    <dd data-testid="best-percent">{q.best_percent != null ? `${q.best_percent}%` : '—'}</dd>
                  </div>
                  <div>
                    <dt>Attempts</dt>
                    <dd>
                      {q.attempts_used}
                      {q.max_attempts != null ? ` of ${q.max_attempts}` : ''}
                    </dd>
                  </div>
                  <div>
                    <dt>Status</dt>
                    <dd>{q.passed ? <Badge tone="success">Passed</Badge> : q.attempts_used ? <Badge tone="warning">Not passed yet</Badge> : <Badge>New</Badge>}</dd>
                  </div>
                </dl>
                {q.variants && q.variants > 1 ? (
                  <p class="meta" data-testid="variants">
                    This scenario comes in {q.variants} situations. Each new attempt starts in one you have not met yet, so a retake
                    tests your judgement, not your memory.
                  </p>
                ) : null}
                {q.next_review_at && (
                  <p class="meta">
                    {reviewDue ? 'A review has been due since ' : 'Next review: '}
                    <Time iso={q.next_review_at} />
                    {reviewDue ? '. Play it again to keep what you learned fresh.' : ''}
                  </p>
                )}
                <div class="actions">
                  {open ? (
                    <a class="btn btn-primary" href={`/attempts/${open}`}>
                      Resume attempt
                    </a>
                  ) : (
                    <button type="button" class="btn btn-primary" onClick={starter.start} disabled={starter.busy || outOfAttempts}>
                      {starter.busy ? 'Starting…' : reviewDue ? 'Review' : q.attempts_used ? 'Start a new attempt' : 'Start the scenario'}
                    </button>
                  )}
                  {outOfAttempts && <p class="meta">You have used every attempt.</p>}
                  {q.next_attempt_at && new Date(q.next_attempt_at) > new Date() && (
                    <p class="meta">
                      Next attempt possible <Time iso={q.next_attempt_at} withTime />
                    </p>
                  )}
                </div>
                <ErrorBox error={starter.error} title="Could not start the scenario" />
              </div>

              <section class="card" aria-labelledby="h-history">
                <h2 id="h-history">Your attempts</h2>
                <AttemptHistory res={history} />
              </section>
            </>
          );
        }}
      </Async>
    </div>
  );
}

function AttemptHistory({ res }: { res: Resource<AttemptSummary[]> }) {
  if (res.error) return <ErrorBox error={res.error} onRetry={res.reload} />;
  if (!res.data) return <Loading label="Loading your attempts…" />;
  if (res.data.length === 0) return <Empty>No attempts yet. Your first one sets your baseline.</Empty>;
  const best = Math.max(...res.data.map((a) => a.percent ?? -1));
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label="Table of your attempts">
      <table class="data-table" data-testid="attempt-history">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Situation</th>
            <th scope="col">Started</th>
            <th scope="col">Score</th>
            <th scope="col">Result</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {res.data.map((a) => (
            <tr key={a.id} class={a.percent === best && best >= 0 ? 'best-row' : ''}>
              <td>{a.number}</td>
              <td>{a.variant?.title ?? '—'}</td>
              <td>
                <Time iso={a.started_at} withTime />
              </td>
              <td>
                {a.percent != null ? `${a.percent}%` : '—'}
                {a.percent === best && best >= 0 && (
                  <>
                    {' '}
                    <Badge tone="info">Best</Badge>
                  </>
                )}
              </td>
              <td>{a.status === 'in_progress' ? <Badge>In progress</Badge> : a.passed ? <Badge tone="success">Passed</Badge> : <Badge tone="danger">Not passed</Badge>}</td>
              <td>
                {a.status === 'in_progress' ? (
                  <a href={`/attempts/${a.id}`}>Resume</a>
                ) : (
                  <a href={`/attempts/${a.id}/replay`}>
                    Replay<span class="visually-hidden"> attempt {a.number}</span>
                  </a>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
