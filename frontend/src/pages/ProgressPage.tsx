import { AssignmentList } from '../components/course';
import { SkillChart, SkillHistoryChart } from '../components/charts';
import { Async, Badge, ProgressBar, useApi, useTitle } from '../components/ui';
import type { LearnerProgress, Module } from '../types';

export function ProgressPage() {
  useTitle('My progress');
  const progress = useApi<LearnerProgress>('/api/progress');
  const modules = useApi<Module[]>('/api/modules');
  const quizTitle = (slug: string) => modules.data?.flatMap((m) => m.quizzes).find((q) => q.slug === slug)?.title ?? slug;
  const modTitle = (slug: string) => modules.data?.find((m) => m.slug === slug)?.title ?? slug;

  return (
    <div class="page">
      <header class="page-header">
        <p class="eyebrow">Your record</p>
        <h1 tabIndex={-1}>My progress</h1>
      </header>
      <Async res={progress} label="Loading your progress…">
        {(p) => {
          const done = p.modules.filter((m) => m.completed);
          const finished = (p.skill_history ?? []).length;
          return (
            <>
              <div class="grid-2">
                <section class="card" aria-labelledby="h-profile">
                  <h2 id="h-profile">Skill profile</h2>
                  {finished > 0 ? (
                    <>
                      <SkillChart skills={p.skills} title="Skill profile" />
                      <p class="muted small">Your most recent attempt on each scenario you've finished, averaged.</p>
                    </>
                  ) : (
                    <p class="empty">Finish a scenario to see your skill profile.</p>
                  )}
                </section>
                <section class="card" aria-labelledby="h-modules">
                  <h2 id="h-modules">Modules</h2>
                  <p class="meta">
                    {done.length} of {p.modules.length} completed
                  </p>
                  <ul class="module-progress-list">
                    {p.modules.map((m) => (
                      <li key={m.slug}>
                        <div class="mp-head">
                          <a href={`/modules/${m.slug}`}>{modTitle(m.slug)}</a>
                          {m.completed && <Badge tone="success">Completed</Badge>}
                        </div>
                        <ProgressBar value={m.percent} label={`${modTitle(m.slug)} progress`} size="sm" />
                      </li>
                    ))}
                  </ul>
                </section>
              </div>
              <section class="card" aria-labelledby="h-history">
                <h2 id="h-history">Skills over time</h2>
                <SkillHistoryChart history={p.skill_history ?? []} quizTitle={quizTitle} />
              </section>
              {p.quick_checks && (
                <section class="card" aria-labelledby="h-checks" data-testid="quick-check-totals">
                  <h2 id="h-checks">Quick checks</h2>
                  <p>
                    {p.quick_checks.answered} of {p.quick_checks.of} answered; {p.quick_checks.first_correct} right on the first
                    try, which is what counts. Answering again helps you understand; it does not change this.
                  </p>
                </section>
              )}
              <div class="grid-2">
                <section class="card" aria-labelledby="h-reviews">
                  <h2 id="h-reviews">Reviews due</h2>
                  {p.reviews_due.length === 0 ? (
                    <p class="empty">Nothing due for review.</p>
                  ) : (
                    <ul class="plain-list">
                      {p.reviews_due.map((s) => (
                        <li key={s}>
                          <a href={`/quizzes/${s}`}>{quizTitle(s)}</a> <Badge tone="warning">Review due</Badge>
                        </li>
                      ))}
                    </ul>
                  )}
                </section>
                <section class="card" aria-labelledby="h-assign">
                  <h2 id="h-assign">Assignments</h2>
                  <AssignmentList assignments={p.assignments} modules={modules.data} />
                </section>
              </div>
            </>
          );
        }}
      </Async>
    </div>
  );
}
