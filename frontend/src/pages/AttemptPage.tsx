import { useEffect, useRef, useState } from 'preact/hooks';
import { post } from '../api';
import { SkillChart, SKILLS } from '../components/charts';
import { Async, Badge, ErrorBox, Loading, useApi, useTitle } from '../components/ui';
import type { AnswerResponse, Attempt, Quiz, Result, Step } from '../types';
import { useStartAttempt } from './QuizPage';

export function AttemptPage({ id }: { id: string }) {
  const res = useApi<Attempt>(`/api/attempts/${encodeURIComponent(id)}`);
  const quiz = useApi<Quiz>(res.data ? `/api/quizzes/${encodeURIComponent(res.data.quiz)}` : null);
  useTitle(quiz.data?.title ?? 'Scenario');
  return (
    <div class="page narrow">
      <Async res={res} label="Loading the scenario…">
        {(a) => <Player attempt={a} quiz={quiz.data} />}
      </Async>
    </div>
  );
}

interface Pending {
  choice: { id: string; text: string };
  answer: AnswerResponse;
}

function Player({ attempt, quiz }: { attempt: Attempt; quiz?: Quiz }) {
  const [step, setStep] = useState<Step | null>(attempt.step);
  const [decisions, setDecisions] = useState(attempt.answers.length);
  const [choice, setChoice] = useState('');
  const [pending, setPending] = useState<Pending | null>(null);
  const [result, setResult] = useState<Result | null>(attempt.status === 'finished' ? attempt.result : null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [hint, setHint] = useState('');
  const continueRef = useRef<HTMLButtonElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (pending) continueRef.current?.focus();
  }, [pending]);

  if (result) return <ResultView attempt={attempt} result={result} quiz={quiz} />;
  if (!step) return <ErrorBox error={new Error('This attempt has no current step. Open the scenario page to start again.')} />;

  async function decide(e: Event) {
    e.preventDefault();
    if (!step) return;
    const c = step.choices.find((x) => x.id === choice);
    if (!c) {
      setHint('Choose what you would do first.');
      return;
    }
    setBusy(true);
    setError(null);
    setHint('');
    try {
      const answer = await post<AnswerResponse>(`/api/attempts/${encodeURIComponent(attempt.id)}/answers`, { step_id: step.id, choice_id: c.id });
      setPending({ choice: c, answer });
      setDecisions((n) => n + 1);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  function next() {
    if (!pending) return;
    const a = pending.answer;
    setPending(null);
    setChoice('');
    if (a.finished && a.result) {
      setResult(a.result);
    } else {
      setStep(a.step);
    }
    window.scrollTo(0, 0);
    requestAnimationFrame(() => headingRef.current?.focus());
  }

  const number = pending ? decisions : decisions + 1;
  // The server counts the longest way from this step to an ending; while
  // feedback shows, the step just answered is still the one on screen.
  const ofAbout = step.decision?.of_about;
  return (
    <>
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <a href="/">Course</a> <span aria-hidden="true">/</span> <a href={`/quizzes/${attempt.quiz}`}>{quiz?.title ?? 'Scenario'}</a>
      </nav>
      <header class="page-header">
        <p class="eyebrow">
          {quiz?.title ?? 'Scenario'} · attempt {attempt.number}
        </p>
        <h1 tabIndex={-1} ref={headingRef}>
          Decision {number}
          {ofAbout && ofAbout >= number ? <span class="decision-of"> of about {ofAbout}</span> : null}
        </h1>
      </header>
      <div class="card situation">
        <p class="situation-label">The situation</p>
        <p class="situation-text">{step.text}</p>
      </div>
      {!pending ? (
        <form class="card decide" onSubmit={decide}>
          <fieldset>
            <legend>What do you do?</legend>
            <div class="options choice-options">
              {step.choices.map((c) => (
                <label key={c.id} class={`option choice${choice === c.id ? ' selected' : ''}`}>
                  <input
                    type="radio"
                    name={`step-${step.id}`}
                    value={c.id}
                    checked={choice === c.id}
                    onChange={() => {
                      setChoice(c.id);
                      setHint('');
                    }}
                  />
                  <span>{c.text}</span>
                </label>
              ))}
            </div>
          </fieldset>
          <div class="actions">
            <button type="submit" class="btn btn-primary" disabled={busy}>
              {busy ? 'Sending…' : 'Make this choice'}
            </button>
            <span class="field-error" aria-live="polite">
              {hint}
            </span>
          </div>
          <ErrorBox error={error} title="Your choice was not recorded" />
        </form>
      ) : (
        <section class="card outcome" aria-labelledby="h-outcome">
          <h2 id="h-outcome">What happened</h2>
          <p class="chosen">
            <span class="chosen-label">You chose:</span> {pending.choice.text}
          </p>
          <div class="feedback feedback-neutral" aria-live="polite">
            <p>{pending.answer.feedback}</p>
          </div>
          <div class="actions">
            <button type="button" class="btn btn-primary" ref={continueRef} onClick={next}>
              {pending.answer.finished ? 'See how it ended' : 'Continue'}
            </button>
          </div>
        </section>
      )}
    </>
  );
}

function ResultView({ attempt, result, quiz }: { attempt: Attempt; result: Result; quiz?: Quiz }) {
  const starter = useStartAttempt(attempt.quiz);
  // The answer that finished the attempt carries no path; the attempt as
  // stored now names its costliest decision.
  const finished = useApi<Attempt>(`/api/attempts/${encodeURIComponent(attempt.id)}`);
  const costly = finished.data?.costly_decision;
  const passMark = quiz?.pass_percent;
  return (
    <>
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <a href="/">Course</a> <span aria-hidden="true">/</span> <a href={`/quizzes/${attempt.quiz}`}>{quiz?.title ?? 'Scenario'}</a>
      </nav>
      <header class="page-header">
        <p class="eyebrow">
          {quiz?.title ?? 'Scenario'} · attempt {attempt.number} · result
        </p>
        <h1 tabIndex={-1}>{result.ending.title}</h1>
      </header>
      <div class="result-grid">
        <section class="card ending" aria-labelledby="h-ending">
          <h2 id="h-ending">How it ended</h2>
          <p>{result.ending.text}</p>
        </section>
        <section class={`card score ${result.passed ? 'score-pass' : 'score-fail'}`} aria-labelledby="h-score">
          <h2 id="h-score">Your score</h2>
          <p class="score-value" data-testid="result-percent">
            {result.percent}%
          </p>
          <p>
            {result.passed ? <Badge tone="success">Passed</Badge> : <Badge tone="danger">Not passed</Badge>}
            {passMark != null && <span class="meta"> Pass mark {passMark}%</span>}
          </p>
          {quiz?.best_percent != null && <p class="meta">Your best: {Math.max(quiz.best_percent, result.percent)}%</p>}
        </section>
      </div>
      <section class="card" aria-labelledby="h-skills">
        <h2 id="h-skills">Skills in this attempt</h2>
        <SkillChart skills={result.skills} title="Skills in this attempt" />
        <p class="muted small">
          Each skill is your points on it as a share of the most any path earns:{' '}
          {SKILLS.map((s, i) => (
            <span key={s.key}>
              {i > 0 ? ', ' : ''}
              {s.label.toLowerCase()} {result.skills[s.key]}%
            </span>
          ))}
          .
        </p>
      </section>
      {costly && (
        <section class="card costly" aria-labelledby="h-costly" data-testid="costly-decision">
          <h2 id="h-costly">The decision that cost you most</h2>
          <p class="situation-text">{costly.step_text}</p>
          <h3>You chose</h3>
          <p>{costly.chosen.text}</p>
          <p class="feedback">{costly.chosen.feedback}</p>
          <h3>What kept the most within reach</h3>
          <p>{costly.best.text}</p>
          <p class="feedback">{costly.best.feedback}</p>
          <p class="muted small">
            It cost {costly.points_lost} {costly.points_lost === 1 ? 'point' : 'points'} against the best move there.
          </p>
        </section>
      )}
      <div class="actions result-actions">
        <button type="button" class="btn btn-primary" onClick={starter.start} disabled={starter.busy}>
          {starter.busy ? 'Starting…' : 'Retake the scenario'}
        </button>
        <a class="btn btn-secondary" href={`/attempts/${attempt.id}/replay`}>
          Replay your path
        </a>
        <a class="btn btn-ghost" href={`/quizzes/${attempt.quiz}`}>
          Scenario overview
        </a>
      </div>
      <ErrorBox error={starter.error} title="Could not start a new attempt" />
    </>
  );
}

export function ReplayPage({ id }: { id: string }) {
  const res = useApi<Attempt>(`/api/attempts/${encodeURIComponent(id)}`);
  const quiz = useApi<Quiz>(res.data ? `/api/quizzes/${encodeURIComponent(res.data.quiz)}` : null);
  useTitle(quiz.data ? `Replay: ${quiz.data.title}` : 'Replay');
  return (
    <div class="page narrow">
      <Async res={res} label="Loading the replay…">
        {(a) => {
          const review = a.review;
          return (
            <>
              <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/">Course</a> <span aria-hidden="true">/</span> <a href={`/quizzes/${a.quiz}`}>{quiz.data?.title ?? 'Scenario'}</a>
              </nav>
              <header class="page-header">
                <p class="eyebrow">Replay · attempt {a.number}</p>
                <h1 tabIndex={-1}>{quiz.data?.title ?? 'Your path'}</h1>
                {a.result && (
                  <p class="status-row">
                    <span class="score-inline">{a.result.percent}%</span>
                    {a.result.passed ? <Badge tone="success">Passed</Badge> : <Badge tone="danger">Not passed</Badge>}
                    <span class="meta">Ending: {a.result.ending.title}</span>
                  </p>
                )}
                {a.status === 'in_progress' && (
                  <p>
                    This attempt is still in progress. <a href={`/attempts/${a.id}`}>Resume it</a>
                  </p>
                )}
              </header>
              <section aria-labelledby="h-path">
                <h2 id="h-path">The path you took</h2>
                {a.answers.length === 0 ? (
                  <p class="empty">No decisions yet.</p>
                ) : (
                  <ol class="replay-list">
                    {a.answers.map((ans, i) => (
                      <li key={ans.step_id} class="card">
                        <h3>Decision {i + 1}</h3>
                        <p class="situation-text">{ans.step_text}</p>
                        <p class="chosen">
                          <span class="chosen-label">You chose:</span> {ans.choice_text}
                        </p>
                        <div class="feedback feedback-neutral">
                          <p>{ans.feedback}</p>
                        </div>
                      </li>
                    ))}
                  </ol>
                )}
              </section>
              {a.result && (
                <section class="card" aria-labelledby="h-rskills">
                  <h2 id="h-rskills">Skills</h2>
                  <SkillChart skills={a.result.skills} title="Skills in this attempt" />
                </section>
              )}
              {review && review.steps && review.steps.length > 0 ? (
                <section aria-labelledby="h-key">
                  <h2 id="h-key">Answer key</h2>
                  <p class="muted">Every choice on the steps you met, with its feedback. The best path is marked.</p>
                  {review.steps.map((s) => (
                    <div class="card key-step" key={s.id}>
                      <h3 class="key-step-text">{s.text}</h3>
                      <ul class="key-choices">
                        {s.choices.map((c) => {
                          const best = c.best || review.best_path?.includes(c.id);
                          return (
                            <li key={c.id} class={`${best ? 'best' : ''}${c.chosen ? ' chosen' : ''}`}>
                              <p class="key-choice-text">
                                {c.text} {best && <Badge tone="success">Best path</Badge>} {c.chosen && <Badge tone="info">Your choice</Badge>}
                              </p>
                              <p class="muted">{c.feedback}</p>
                              {c.points && (
                                <p class="points">
                                  {SKILLS.filter((k) => c.points?.[k.key] !== undefined).map((k) => (
                                    <span key={k.key} class={`pt ${(c.points?.[k.key] ?? 0) > 0 ? 'pos' : (c.points?.[k.key] ?? 0) < 0 ? 'neg' : ''}`}>
                                      {k.short} {(c.points?.[k.key] ?? 0) > 0 ? '+' : ''}
                                      {c.points?.[k.key]}
                                    </span>
                                  ))}
                                </p>
                              )}
                            </li>
                          );
                        })}
                      </ul>
                    </div>
                  ))}
                </section>
              ) : (
                a.status === 'finished' && <p class="muted">The answer key opens once you pass this scenario.</p>
              )}
              <div class="actions">
                <a class="btn btn-secondary" href={`/quizzes/${a.quiz}`}>
                  Back to the scenario
                </a>
              </div>
            </>
          );
        }}
      </Async>
      {quiz.loading && !quiz.data && <Loading label="Loading scenario details…" />}
    </div>
  );
}

