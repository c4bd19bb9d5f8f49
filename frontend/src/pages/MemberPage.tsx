// One member's drill-down for their team's manager: modules, assignments
// (with the same actions as on the team page), attempts per scenario,
// skills with the decisions behind each, and the notes they shared.
import { Async, Empty, ProgressBar, Time, formatDate, useApi, useTitle } from '../components/ui';
import { LookalikeWarning } from '../components/Lookalike';
import type { AttemptResult, MemberDetail } from '../types';
import { AssignmentRow } from './cockpit';

function Result({ r }: { r: AttemptResult | null }) {
  if (!r) return <span class="muted">—</span>;
  return (
    <>
      {r.percent}%{r.passed ? ' (passed)' : ''}
      <span class="meta">
        {' '}
        attempt {r.number}
        {r.variant.title ? ` · ${r.variant.title}` : ''} · <Time iso={r.finished_at} />
      </span>
    </>
  );
}

export function MemberPage({ teamId, userId }: { teamId: string; userId: string }) {
  const res = useApi<MemberDetail>(`/api/teams/${encodeURIComponent(teamId)}/members/${encodeURIComponent(userId)}`);
  useTitle(res.data ? `${res.data.user.name} · ${res.data.team.name}` : 'Member');
  return (
    <div class="page member-page">
      <Async res={res} label="Loading the member…">
        {(d) => {
          const modTitle = (slug: string) => d.modules.find((m) => m.slug === slug)?.title ?? slug;
          return (
            <>
              <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href="/teams">Teams</a> <span aria-hidden="true">/</span> <a href={`/teams/${encodeURIComponent(d.team.id)}`}>{d.team.name}</a>{' '}
                <span aria-hidden="true">/</span> <span aria-current="page">{d.user.name}</span>
              </nav>
              <header class="page-header">
                <p class="eyebrow">Member of {d.team.name}</p>
                <h1 tabIndex={-1}>{d.user.name}</h1>
                <p class="meta">
                  {d.user.email}
                  {d.user.joined_at && (
                    <>
                      {' '}
                      · joined <Time iso={d.user.joined_at} />
                    </>
                  )}
                </p>
                <LookalikeWarning lookalike={d.user.lookalike} />
              </header>

              <section class="card" aria-labelledby="h-m-assignments" data-testid="member-assignments">
                <h2 id="h-m-assignments">Assignments</h2>
                {d.assignments.length === 0 ? (
                  <Empty>Nothing assigned from this team.</Empty>
                ) : (
                  <ul class="assignment-list">
                    {d.assignments.map((a) => (
                      <AssignmentRow key={a.id} a={a} member={{ user: d.user }} teamId={d.team.id} onChange={res.reload} />
                    ))}
                  </ul>
                )}
              </section>

              <section class="card" aria-labelledby="h-m-skills" data-testid="member-skills">
                <h2 id="h-m-skills">Skills</h2>
                <p class="small muted">From each scenario&rsquo;s latest finished attempt, 0–100; the decisions are those whose choice moved that skill.</p>
                <dl class="figures">
                  {(['vision', 'alignment', 'inspiration'] as const).map((k) => (
                    <div key={k}>
                      <dt>{k[0].toUpperCase() + k.slice(1)}</dt>
                      <dd>
                        {d.skills[k].decisions === 0 ? '—' : d.skills[k].score}
                        <span class="meta">
                          {' '}
                          from {d.skills[k].decisions} decision{d.skills[k].decisions === 1 ? '' : 's'}
                        </span>
                      </dd>
                    </div>
                  ))}
                </dl>
              </section>

              <section class="card" aria-labelledby="h-m-modules">
                <h2 id="h-m-modules">Modules</h2>
                <ul class="member-modules">
                  {d.modules.map((m) => (
                    <li key={m.slug}>
                      <span>
                        {m.title}
                        {m.completed ? ' ✓' : ''}
                        <span class="visually-hidden">{m.completed ? ', completed' : m.started ? '' : ', not started'}</span>
                      </span>
                      <ProgressBar value={m.percent} label={`${m.title}: ${m.percent}%`} size="sm" />
                    </li>
                  ))}
                </ul>
              </section>

              <section class="card" aria-labelledby="h-m-scenarios" data-testid="member-scenarios">
                <h2 id="h-m-scenarios">Scenarios</h2>
                <div class="table-wrap" tabIndex={0} role="region" aria-label="Attempts per scenario">
                  <table class="simple-table">
                    <thead>
                      <tr>
                        <th scope="col">Scenario</th>
                        <th scope="col">Attempts</th>
                        <th scope="col">Best</th>
                        <th scope="col">Latest</th>
                      </tr>
                    </thead>
                    <tbody>
                      {d.scenarios.map((s) => (
                        <tr key={s.slug}>
                          <th scope="row">
                            {s.title}
                            <span class="meta"> {modTitle(s.module)}</span>
                          </th>
                          <td>{s.attempts}</td>
                          <td>
                            <Result r={s.best} />
                          </td>
                          <td>
                            <Result r={s.latest} />
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </section>

              <section class="card" aria-labelledby="h-m-practice">
                <h2 id="h-m-practice">Tried at work</h2>
                {d.practice.length === 0 ? (
                  <Empty>No shared notes yet.</Empty>
                ) : (
                  <ul class="practice-notes">
                    {d.practice.map((n) => (
                      <li key={n.module}>
                        <strong>{modTitle(n.module)}</strong> · {formatDate(n.done_at)}
                        <p>{n.note || '(no note)'}</p>
                      </li>
                    ))}
                  </ul>
                )}
              </section>
            </>
          );
        }}
      </Async>
    </div>
  );
}
