import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, del, errorMessage, get, post } from '../api';
import { AssignmentList, ModuleCard } from '../components/course';
import { TeamLine } from '../components/TeamLine';
import { TodayStrip } from '../components/Today';
import { Async, ErrorBox, Field, Loading, ProgressBar, Time, useApi, useTitle, type Resource } from '../components/ui';
import { isManager, useSession } from '../session';
import { buildToday, localDateTime, relativeDue } from '../today';
import type { Invitation, LearnerProgress, Me, Module, Notification, TeamProgress, TeamSummary } from '../types';

export function overallPercent(modules: Module[]): number {
  if (modules.length === 0) return 0;
  return Math.round(modules.reduce((s, m) => s + m.percent, 0) / modules.length);
}

/** A learner who has not opened a lesson or played a scenario yet is new here. */
export function isFirstVisit(modules: Module[], progress: LearnerProgress | undefined): boolean {
  const touched = modules.some((m) => m.percent > 0 || m.lessons.some((l) => l.completed || l.percent) || m.quizzes.some((q) => q.best_percent != null));
  return !touched && !(progress?.assignments ?? []).some((a) => a.status !== 'not_started');
}

export function HomePage() {
  useTitle('Your course');
  const session = useSession();
  const modules = useApi<Module[]>('/api/modules');
  const progress = useApi<LearnerProgress>('/api/progress');
  const notes = useApi<Notification[]>('/api/notifications?unread=1');
  const me = useApi<Me>('/api/me');
  const invitations = useApi<Invitation[]>('/api/invitations');
  const name = session.user?.name ?? '';
  // Joining or leaving a team changes the teams, assignments and notices shown.
  const teamsChanged = () => {
    me.reload();
    progress.reload();
    notes.reload();
  };

  const now = new Date();
  const today = modules.data ? buildToday(modules.data, progress.data, now) : null;
  useTodayTarget(!!today);
  // "Welcome back" only once the course shows they have been here before.
  const greeting = name ? (!modules.data || isFirstVisit(modules.data, progress.data) ? `Welcome, ${name}` : `Welcome back, ${name}`) : 'Your course';

  return (
    <div class="page">
      <header class="page-header home-header">
        <div>
          <p class="eyebrow">Leading through influence</p>
          <h1 tabIndex={-1}>{greeting}</h1>
        </div>
        {modules.data && (
          <div class="overall card">
            <p class="overall-label">Overall progress</p>
            <ProgressBar value={overallPercent(modules.data)} label="Overall course progress" size="lg" />
            <p class="meta">
              {modules.data.filter((m) => m.completed).length} of {modules.data.length} modules completed
            </p>
          </div>
        )}
      </header>

      {today ? (
        <TodayStrip today={today} now={now} courseDone={modules.data!.every((m) => m.completed)}>
          <Invitations res={invitations} onAnswered={teamsChanged} />
        </TodayStrip>
      ) : (
        <Invitations res={invitations} onAnswered={teamsChanged} />
      )}

      <div class="layout-2col">
        <div class="col-main">
          <Async res={modules} label="Loading the course…">
            {(ms) => {
              const assign = (slug: string) => progress.data?.assignments.find((a) => a.module === slug && a.status !== 'completed');
              return (
                <div class="module-list">
                  {ms.map((m) => (
                    <ModuleCard key={m.slug} m={m} assignment={assign(m.slug)} />
                  ))}
                </div>
              );
            }}
          </Async>
        </div>

        <aside class="col-side" aria-label="Your assignments, notifications and teams">
          {isManager(session.user) && <ManagedTeams />}

          <section class="card side-card" aria-labelledby="h-assign">
            <h2 id="h-assign">Assignments</h2>
            <Async res={progress} label="Loading assignments…">
              {(p) => <AssignmentList assignments={p.assignments} modules={modules.data} />}
            </Async>
          </section>

          <Notifications res={notes} />

          <TeamsCard me={me} onChange={teamsChanged} manager={isManager(session.user)} />
        </aside>
      </div>
    </div>
  );
}

/**
 * "See today" on the other pages links to /#today: once the strip is there,
 * bring it into view and put focus on its heading, so keyboard and
 * screen-reader users land where sighted ones look. Once per arrival.
 */
function useTodayTarget(ready: boolean) {
  const done = useRef(false);
  useEffect(() => {
    if (!ready || done.current || window.location.hash !== '#today') return;
    done.current = true;
    const heading = document.getElementById('h-today');
    document.getElementById('today')?.scrollIntoView({ block: 'start' });
    heading?.focus({ preventScroll: true });
  }, [ready]);
}

/**
 * A manager's teams on their home page: each with a link and one line of
 * status (members, overdue assignments), so the home page is not silent
 * about the people they look after.
 */
function ManagedTeams() {
  const teams = useApi<TeamSummary[]>('/api/teams');
  const [overdue, setOverdue] = useState<Record<string, number>>({});
  useEffect(() => {
    let live = true;
    for (const t of teams.data ?? []) {
      get<TeamProgress>(`/api/teams/${encodeURIComponent(t.id)}/progress`).then(
        (p) => {
          const n = p.members.reduce((s, m) => s + m.assignments.filter((a) => a.overdue && a.status !== 'completed').length, 0);
          if (live) setOverdue((o) => ({ ...o, [t.id]: n }));
        },
        () => undefined, // the line then just leaves the count out
      );
    }
    return () => {
      live = false;
    };
  }, [teams.data]);

  return (
    <section class="card side-card" aria-labelledby="h-managed" data-testid="managed-teams">
      <h2 id="h-managed">Teams you manage</h2>
      <Async res={teams} label="Loading your teams…">
        {(ts) =>
          ts.length === 0 ? (
            <p class="empty">
              You don't manage a team yet. <a href="/teams">Create one</a> and share its invite code.
            </p>
          ) : (
            <ul class="plain-list managed-list">
              {ts.map((t) => (
                <li key={t.id}>
                  <a href={`/teams/${t.id}`} class="team-name">
                    {t.name}
                  </a>
                  <span class="meta">
                    {t.members} {t.members === 1 ? 'member' : 'members'}
                    {overdue[t.id] !== undefined && ` · ${overdue[t.id] === 0 ? 'nothing overdue' : `${overdue[t.id]} overdue`}`}
                  </span>
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </section>
  );
}

function Notifications({ res }: { res: Resource<Notification[]> }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const items = res.data ?? [];

  async function markRead(id: string) {
    setError(null);
    try {
      await post(`/api/notifications/${encodeURIComponent(id)}/read`);
      res.setData(items.filter((n) => n.id !== id));
    } catch (e) {
      setError(e);
    }
  }
  async function markAll() {
    setBusy(true);
    setError(null);
    try {
      await post('/api/notifications/read-all');
      res.setData([]);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card side-card" aria-labelledby="h-notes">
      <div class="side-head">
        <h2 id="h-notes">
          Notifications{' '}
          {res.data && (
            <span class={`count${items.length ? ' count-active' : ''}`} data-testid="unread-count">
              {items.length}
              <span class="visually-hidden"> unread</span>
            </span>
          )}
        </h2>
        {items.length > 1 && (
          <button type="button" class="btn btn-link btn-sm" onClick={markAll} disabled={busy}>
            Mark all read
          </button>
        )}
      </div>
      {res.loading && !res.data ? (
        <Loading label="Loading notifications…" />
      ) : res.error && !res.data ? (
        <ErrorBox error={res.error} onRetry={res.reload} />
      ) : items.length === 0 ? (
        <p class="empty">You're all caught up.</p>
      ) : (
        <ul class="notification-list">
          {items.map((n) => (
            <li key={n.id}>
              <a href={n.link || '/'} class="note-title">
                {n.title}
              </a>
              <p class="note-body">{n.body}</p>
              {n.due_at && (
                <p class="note-due meta" data-testid="note-due">
                  Due <time dateTime={n.due_at}>{localDateTime(n.due_at)}</time> · {relativeDue(n.due_at, new Date())}
                </p>
              )}
              <div class="note-foot">
                <Time iso={n.created_at} withTime />
                <button type="button" class="btn btn-link btn-sm" onClick={() => markRead(n.id)}>
                  Mark read<span class="visually-hidden">: {n.title}</span>
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <ErrorBox error={error} />
    </section>
  );
}

/**
 * Invitations waiting for an answer: joining a team is the learner's choice,
 * so the page says what accepting means before they choose.
 */
function Invitations({ res, onAnswered }: { res: Resource<Invitation[]>; onAnswered: () => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState('');
  const items = res.data ?? [];

  async function answer(inv: Invitation, accept: boolean) {
    setBusy(inv.id);
    setError(null);
    setStatus('');
    try {
      await post(`/api/invitations/${encodeURIComponent(inv.id)}/${accept ? 'accept' : 'decline'}`);
      res.setData(items.filter((i) => i.id !== inv.id));
      setStatus(accept ? `You joined ${inv.team.name}.` : `You declined the invitation to ${inv.team.name}.`);
      onAnswered();
    } catch (e) {
      // An invitation that was withdrawn or expired meanwhile goes from the list.
      if (e instanceof ApiError && e.status === 404) res.reload();
      setError(e);
    } finally {
      setBusy(null);
    }
  }

  if (!items.length && !status && !error && !res.error) return null;
  return (
    <section class="card invitations" id="invitations" aria-labelledby="h-invitations">
      <h3 id="h-invitations" class="today-group">
        Team invitations
      </h3>
      {res.error && !res.data ? (
        <ErrorBox error={res.error} onRetry={res.reload} />
      ) : (
        items.length > 0 && (
          <ul class="invitation-list">
            {items.map((inv) => (
              <li key={inv.id}>
                <p class="invitation-text">
                  <strong>{inv.manager.name}</strong> invited you to join <strong>{inv.team.name}</strong>.
                </p>
                <p class="meta">
                  If you accept, {inv.manager.name} will see your course progress and can assign you modules. You can leave the team at any time. The
                  invitation expires <Time iso={inv.expires_at} />.
                </p>
                <div class="invitation-actions">
                  <button type="button" class="btn btn-primary btn-sm" disabled={busy !== null} onClick={() => answer(inv, true)}>
                    Accept<span class="visually-hidden"> the invitation to {inv.team.name}</span>
                  </button>
                  <button type="button" class="btn btn-secondary btn-sm" disabled={busy !== null} onClick={() => answer(inv, false)}>
                    Decline<span class="visually-hidden"> the invitation to {inv.team.name}</span>
                  </button>
                </div>
              </li>
            ))}
          </ul>
        )
      )}
      <p aria-live="polite" class="success-text">
        {status}
      </p>
      <ErrorBox error={error} title="Not answered" />
    </section>
  );
}

function TeamsCard({ me, onChange, manager }: { me: Resource<Me>; onChange: () => void; manager: boolean }) {
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState('');
  const [leaving, setLeaving] = useState<string | null>(null);
  const [leaveError, setLeaveError] = useState<unknown>(null);

  async function join(e: Event) {
    e.preventDefault();
    if (!code.trim()) {
      setError(new Error('Enter the invite code your manager shared.'));
      return;
    }
    setBusy(true);
    setError(null);
    setStatus('');
    try {
      const t = await post<{ id: string; name: string }>('/api/teams/join', { invite_code: code.trim().toUpperCase() });
      setStatus(`You joined ${t.name}.`);
      setCode('');
      onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  async function leave(team: { id: string; name: string }) {
    setLeaveError(null);
    setStatus('');
    try {
      await del(`/api/teams/${encodeURIComponent(team.id)}/membership`);
      setLeaving(null);
      setStatus(`You left ${team.name}.`);
      onChange();
    } catch (err) {
      setLeaveError(err);
    }
  }
  const fieldErr = error instanceof ApiError ? error.fields.invite_code || errorMessage(error) : error ? errorMessage(error) : undefined;

  return (
    <section class="card side-card" aria-labelledby="h-teams">
      <h2 id="h-teams">{manager ? 'Teams you belong to' : 'Your teams'}</h2>
      {me.data ? (
        me.data.teams.length ? (
          <ul class="plain-list my-teams">
            {me.data.teams.map((t) => (
              <li key={t.id}>
                <TeamLine team={t} />
                {t.provisioned ? null : leaving === t.id ? (
                  <div class="leave-confirm" role="group" aria-label={`Leave ${t.name}?`}>
                    <p class="small">
                      If you leave {t.name}, its manager will no longer see your progress, and your open assignments from this team end.
                    </p>
                    <span class="confirm">
                      <button type="button" class="btn btn-danger btn-sm" onClick={() => leave(t)}>
                        Leave {t.name}
                      </button>
                      <button type="button" class="btn btn-ghost btn-sm" onClick={() => setLeaving(null)}>
                        Stay
                      </button>
                    </span>
                  </div>
                ) : (
                  <button type="button" class="btn btn-link btn-sm" onClick={() => setLeaving(t.id)}>
                    Leave team<span class="visually-hidden"> {t.name}</span>
                  </button>
                )}
              </li>
            ))}
          </ul>
        ) : (
          <p class="empty">
            {manager ? "You aren't a member of a team. To take the course with one, enter its invite code." : "You haven't joined a team yet. Your manager can invite you, or give you a code to enter here."}
          </p>
        )
      ) : me.error ? (
        <ErrorBox error={me.error} onRetry={me.reload} />
      ) : (
        <Loading label="Loading teams…" />
      )}
      <form class="inline-form" onSubmit={join} noValidate>
        <Field label="Invite code" name="invite_code" value={code} onInput={setCode} placeholder="ABCD-EFGH-JKLM" error={fieldErr} autoComplete="off" />
        <button type="submit" class="btn btn-secondary" disabled={busy}>
          {busy ? 'Joining…' : 'Join team'}
        </button>
      </form>
      <ErrorBox error={leaveError} title="Not left" />
      <p aria-live="polite" class="success-text">
        {status}
      </p>
    </section>
  );
}
