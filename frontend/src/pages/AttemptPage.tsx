import { useEffect, useRef, useState } from 'preact/hooks';
import { post } from '../api';
import { navigate } from '../router';
import { SkillChart, SKILLS } from '../components/charts';
import { useResultShown } from '../components/Today';
import { Async, Badge, ErrorBox, Loading, useApi, useTitle } from '../components/ui';
import type { AnswerResponse, Attempt, Practice, Quiz, Result, Step, Variant } from '../types';
import { useStartAttempt } from './QuizPage';

export function AttemptPage({ id }: { id: string }) {
  const res = useApi<Attempt>(`/api/attempts/${encodeURIComponent(id)}`);
  const quiz = useApi<Quiz>(res.data ? `/api/quizzes/${encodeURIComponent(res.data.quiz)}` : null);
  useTitle(quiz.data?.title ?? 'Scenario');
  return (
    <div class="page narrow">
      <Async res={res} label="Loading the scenario…">
        {(a) => (
          <Player
            run={{ id: a.id, quiz: a.quiz, label: `attempt ${a.number}`, variant: a.variant, step: a.step, answered: a.answers.length,
              answerUrl: `/api/attempts/${encodeURIComponent(a.id)}/answers`, result: a.status === 'finished' ? a.result : null }}
            quiz={quiz.data}
            ended={(result) => <ResultView attempt={a} result={result} quiz={quiz.data} />}
          />
        )}
      </Async>
    </div>
  );
}

/** A practice run: the player from an attempt's costly decision on. */
export function PracticePage({ id }: { id: string }) {
  const res = useApi<Practice>(`/api/practice/${encodeURIComponent(id)}`);
  const quiz = useApi<Quiz>(res.data ? `/api/quizzes/${encodeURIComponent(res.data.quiz)}` : null);
  useTitle(quiz.data ? `Practice: ${quiz.data.title}` : 'Practice');
  return (
    <div class="page narrow">
      <Async res={res} label="Loading the practice run…">
        {(p) => (
          <Player
            run={{ id: p.id, quiz: p.quiz, label: 'practice, not counted', variant: p.variant, step: p.step,
              answered: p.from_position + p.answers.length, answerUrl: `/api/practice/${encodeURIComponent(p.id)}/answers`,
              result: p.status === 'finished' ? p.result : null }}
            quiz={quiz.data}
            ended={(result) => <PracticeResult practice={p} result={result} quiz={quiz.data} />}
          />
        )}
      </Async>
    </div>
  );
}

/** What the player needs of an attempt or a practice run. */
interface Run {
  id: string;
  quiz: string;
  label: string;
  variant?: Variant;
  step: Step | null;
  answered: number;
  answerUrl: string;
  result: Result | null;
}

/** The scenario and variant a run plays, for the eyebrow. */
function RunTitle({ quiz, run, suffix }: { quiz?: Quiz; run: Run; suffix?: string }) {
  return (
    <p class="eyebrow">
      {quiz?.title ?? 'Scenario'}
      {run.variant?.title ? <span data-testid="variant"> · {run.variant.title}</span> : null} · {run.label}
      {suffix ? ` · ${suffix}` : ''}
    </p>
  );
}

interface Pending {
  choice: { id: string; text: string };
  answer: AnswerResponse;
}

function Player({ run, quiz, ended }: { run: Run; quiz?: Quiz; ended: (r: Result) => preact.JSX.Element }) {
  const [step, setStep] = useState<Step | null>(run.step);
  const [decisions, setDecisions] = useState(run.answered);
  const [choice, setChoice] = useState('');
  const [pending, setPending] = useState<Pending | null>(null);
  const [result, setResult] = useState<Result | null>(run.result);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [hint, setHint] = useState('');
  const continueRef = useRef<HTMLButtonElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (pending) continueRef.current?.focus();
  }, [pending]);

  if (result) return ended(result);
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
      const answer = await post<AnswerResponse>(run.answerUrl, { step_id: step.id, choice_id: c.id });
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
        <a href="/">Course</a> <span aria-hidden="true">/</span> <a href={`/quizzes/${run.quiz}`}>{quiz?.title ?? 'Scenario'}</a>
      </nav>
      <header class="page-header">
        <RunTitle quiz={quiz} run={run} />
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
  const decisions = finished.data?.result?.skill_decisions;
  const passMark = quiz?.pass_percent;
  const [practising, setPractising] = useState(false);
  // The attempt just ended: keyboard and screen-reader users start at how
  // it ended, not at the top of the body.
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    headingRef.current?.focus();
  }, []);
  // The decisions are over: the rest of the day may show again.
  useResultShown();
  const [practiceError, setPracticeError] = useState<unknown>(null);
  async function practise() {
    setPractising(true);
    setPracticeError(null);
    try {
      const p = await post<Practice>(`/api/attempts/${encodeURIComponent(attempt.id)}/practice`);
      navigate(`/practice/${p.id}`);
    } catch (e) {
      setPracticeError(e);
      setPractising(false);
    }
  }
  return (
    <>
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <a href="/">Course</a> <span aria-hidden="true">/</span> <a href={`/quizzes/${attempt.quiz}`}>{quiz?.title ?? 'Scenario'}</a>
      </nav>
      <header class="page-header">
        <RunTitle quiz={quiz} run={{ ...runOf(attempt), variant: attempt.variant ?? finished.data?.variant }} suffix="result" />
        <h1 tabIndex={-1} ref={headingRef} data-testid="result-heading">
          {result.ending.title}
        </h1>
      </header>
      <div class="result-grid">
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
        <section class="card ending" aria-labelledby="h-ending">
          <h2 id="h-ending">How it ended</h2>
          <p>{result.ending.text}</p>
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
              {decisions ? ` over ${decisions[s.key]} ${decisions[s.key] === 1 ? 'decision' : 'decisions'}` : ''}
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
          <div class="actions">
            <button type="button" class="btn btn-secondary" data-testid="practise" onClick={practise} disabled={practising}>
              {practising ? 'Starting…' : 'Practise from here'}
            </button>
            <span class="muted small">A practice run starts at this decision, in the same situation. It never changes your results.</span>
          </div>
          <ErrorBox error={practiceError} title="Could not start a practice run" />
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

function runOf(a: Attempt): Run {
  return { id: a.id, quiz: a.quiz, label: `attempt ${a.number}`, variant: a.variant, step: a.step, answered: a.answers.length,
    answerUrl: '', result: a.result };
}

/** The end of a practice run: how the path would have ended, never counted. */
function PracticeResult({ practice, result, quiz }: { practice: Practice; result: Result; quiz?: Quiz }) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    headingRef.current?.focus(); // as at the end of an attempt
  }, []);
  return (
    <>
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <a href="/">Course</a> <span aria-hidden="true">/</span> <a href={`/quizzes/${practice.quiz}`}>{quiz?.title ?? 'Scenario'}</a>
      </nav>
      <header class="page-header">
        <p class="eyebrow">
          {quiz?.title ?? 'Scenario'}
          {practice.variant?.title ? <span data-testid="variant"> · {practice.variant.title}</span> : null} · practice result
        </p>
        <h1 tabIndex={-1} ref={headingRef}>
          {result.ending.title}
        </h1>
      </header>
      <div class="result-grid">
        <section class="card score" aria-labelledby="h-score">
          <h2 id="h-score">This path would score</h2>
          <p class="score-value" data-testid="practice-percent">
            {result.percent}%
          </p>
          <p class="muted small" data-testid="practice-note">
            Practice: this is the attempt's path up to the costly decision, then yours. It does not change your results, your
            review schedule or what your manager sees.
          </p>
        </section>
        <section class="card ending" aria-labelledby="h-ending">
          <h2 id="h-ending">How it would have ended</h2>
          <p>{result.ending.text}</p>
        </section>
      </div>
      <div class="actions result-actions">
        <a class="btn btn-primary" href={`/attempts/${practice.attempt_id}`}>
          Back to the attempt's result
        </a>
        <a class="btn btn-ghost" href={`/quizzes/${practice.quiz}`}>
          Scenario overview
        </a>
      </div>
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
                <p class="eyebrow">
                  Replay · attempt {a.number}
                  {a.variant?.title ? <span data-testid="variant"> · {a.variant.title}</span> : null}
                </p>
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
                  <p class="muted">
                    Every choice on the steps you met, as you met them, with its feedback. The best move in each of those moments is
                    marked; other situations of this scenario stay unseen until you play them.
                  </p>
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
                  {review.best_path_steps && review.best_path_steps.length > 0 && (
                    <section class="card" aria-labelledby="h-bestpath" data-testid="best-path">
                      <h3 id="h-bestpath">The best path in this situation</h3>
                      <ol class="replay-list">
                        {review.best_path_steps.map((b) => (
                          <li key={b.step_id}>
                            <p class="situation-text">{b.step_text}</p>
                            <p class="chosen">
                              <span class="chosen-label">Best move:</span> {b.choice_text}
                            </p>
                            <p class="muted">{b.feedback}</p>
                          </li>
                        ))}
                      </ol>
                    </section>
                  )}
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

