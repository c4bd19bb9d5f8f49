import { Tick } from '../components/course';
import { Async, Badge, Empty, ErrorBox, ProgressBar, Time, statusLabel, useApi, useTitle } from '../components/ui';
import type { LearnerProgress, Module } from '../types';

export function ModulePage({ slug }: { slug: string }) {
  const modules = useApi<Module[]>('/api/modules');
  const progress = useApi<LearnerProgress>('/api/progress');
  const m = modules.data?.find((x) => x.slug === slug);
  useTitle(m?.title ?? 'Module');

  return (
    <div class="page narrow">
      <Async res={modules} label="Loading the module…">
        {(ms) => {
          if (!m) return <NotFoundBlock what="module" />;
          const a = progress.data?.assignments.find((x) => x.module === slug);
          const idx = ms.indexOf(m);
          const prev = ms[idx - 1];
          const next = ms[idx + 1];
          return (
            <>
              <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/">Course</a> <span aria-hidden="true">/</span> <span aria-current="page">Module {m.position}</span>
              </nav>
              <header class="page-header">
                <p class="eyebrow">Module {m.position}</p>
                <h1 tabIndex={-1}>{m.title}</h1>
                <p class="lead">{m.summary}</p>
                <div class="status-row">
                  {m.completed ? <Badge tone="success">Completed</Badge> : <Badge>{m.percent > 0 ? 'In progress' : 'Not started'}</Badge>}
                  {a && (
                    <Badge tone={a.overdue ? 'danger' : a.status === 'completed' ? 'success' : 'info'}>
                      {a.overdue ? 'Overdue: was due ' : 'Assigned, due '}
                      <Time iso={a.due_at} withTime /> · {statusLabel(a.status)}
                    </Badge>
                  )}
                </div>
                <ProgressBar value={m.percent} label="Module progress" size="lg" />
              </header>
              <ErrorBox error={progress.error} onRetry={progress.reload} title="Could not load your assignments" />

              <section class="card" aria-labelledby="h-lessons">
                <h2 id="h-lessons">Lessons</h2>
                {m.lessons.length === 0 ? (
                  <Empty>No lessons in this module.</Empty>
                ) : (
                  <ol class="lesson-steps">
                    {m.lessons.map((l) => (
                      <li key={l.slug} class={l.completed ? 'done' : ''}>
                        <Tick done={l.completed} label={l.completed ? 'Completed' : 'Not completed'} />
                        <div>
                          <a href={`/lessons/${l.slug}`} class="lesson-link">
                            {l.title}
                          </a>
                          {l.objective && <p class="muted">{l.objective}</p>}
                          <p class="meta">
                            {l.minutes} min read{l.completed ? ' · Completed' : l.percent ? ` · ${l.percent}% read` : ''}
                          </p>
                        </div>
                      </li>
                    ))}
                  </ol>
                )}
              </section>

              <section class="card" aria-labelledby="h-scen">
                <h2 id="h-scen">Scenario</h2>
                {m.quizzes.map((q) => (
                  <div class="scenario-summary" key={q.slug}>
                    <Tick done={q.passed} label={q.passed ? 'Passed' : 'Not passed yet'} />
                    <div>
                      <a href={`/quizzes/${q.slug}`} class="lesson-link">
                        {q.title}
                      </a>
                      <p class="meta">
                        {q.passed ? 'Passed' : q.attempts_used ? 'Not passed yet' : 'Not started'}
                        {q.best_percent != null ? ` · best ${q.best_percent}%` : ''}
                        {q.attempts_used ? ` · ${q.attempts_used} attempt${q.attempts_used === 1 ? '' : 's'}` : ''}
                        {q.next_review_at ? (
                          <>
                            {' '}
                            · review <Time iso={q.next_review_at} />
                          </>
                        ) : null}
                      </p>
                    </div>
                  </div>
                ))}
              </section>

              <section class="card" aria-labelledby="h-aid">
                <h2 id="h-aid">At work</h2>
                <p>
                  <a href={`/job-aids/${m.slug}`} class="lesson-link" data-testid="job-aid-link">
                    Open this module's job aid
                  </a>
                </p>
                <p class="meta">A one- or two-page sheet to print or keep open at work, and one thing to try this week.</p>
              </section>

              <nav class="pager" aria-label="Modules">
                {prev ? (
                  <a href={`/modules/${prev.slug}`} class="pager-prev">
                    <span class="pager-label">Previous module</span>
                    {prev.title}
                  </a>
                ) : (
                  <span />
                )}
                {next && (
                  <a href={`/modules/${next.slug}`} class="pager-next">
                    <span class="pager-label">Next module</span>
                    {next.title}
                  </a>
                )}
              </nav>
            </>
          );
        }}
      </Async>
    </div>
  );
}

export function NotFoundBlock({ what = 'page' }: { what?: string }) {
  useTitle('Not found');
  return (
    <div class="page narrow">
      <h1 tabIndex={-1}>We couldn't find that {what}</h1>
      <p>
        It may have moved, or the link is mistyped. <a href="/">Back to your course</a>
      </p>
    </div>
  );
}
