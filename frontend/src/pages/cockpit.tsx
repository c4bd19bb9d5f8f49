// The manager's cockpit on the team page: the summary figures, the open
// assignments with their actions (move the date, cancel, nudge), and the
// pure helpers that sort and filter the progress table.
import { useState } from 'preact/hooks';
import './cockpit.css';
import { ApiError, del, patch, post } from '../api';
import { ErrorBox, Time, formatDate, statusLabel, useId } from '../components/ui';
import type { Assignment, TeamProgress } from '../types';

type MemberRow = TeamProgress['members'][number];

export const memberPath = (teamId: string, userId: string) => `/teams/${encodeURIComponent(teamId)}/members/${encodeURIComponent(userId)}`;

export function isPast(iso: string, now = Date.now()): boolean {
  const t = new Date(iso).getTime();
  return !isNaN(t) && t < now;
}

/** datetime-local value (local wall time) of an instant. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocalInput(v: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v)) return null;
  const d = new Date(v);
  return isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The question asked before a due date in the past is sent. */
export function PastDateWarning({ onConfirm, onCancel, confirmLabel }: { onConfirm: () => void; onCancel: () => void; confirmLabel: string }) {
  return (
    <div class="past-warning" role="alert" data-testid="past-date-warning">
      <p>
        <strong>This date has passed: the assignment will be overdue at once.</strong>
      </p>
      <div class="actions">
        <button type="button" class="btn btn-primary btn-sm" onClick={onConfirm}>
          {confirmLabel}
        </button>
        <button type="button" class="btn btn-ghost btn-sm" onClick={onCancel}>
          Change the date
        </button>
      </div>
    </div>
  );
}

export interface Figures {
  members: number;
  modulesAssigned: number;
  modulesCompleted: number;
  overdueMembers: number;
  overdueAssignments: number;
  notStarted: number;
}

/** The team's figures from its progress report. */
export function figures(p: TeamProgress): Figures {
  const f: Figures = { members: p.members.length, modulesAssigned: 0, modulesCompleted: 0, overdueMembers: 0, overdueAssignments: 0, notStarted: 0 };
  for (const m of p.members) {
    f.modulesAssigned += m.assignments.length;
    f.modulesCompleted += m.assignments.filter((a) => a.status === 'completed').length;
    const overdue = m.assignments.filter((a) => a.overdue).length;
    f.overdueAssignments += overdue;
    if (overdue > 0) f.overdueMembers++;
    if (!m.modules.some((x) => x.percent > 0)) f.notStarted++;
  }
  return f;
}

export function TeamSummary({ progress }: { progress: TeamProgress }) {
  const f = figures(progress);
  const pct = f.modulesAssigned ? Math.round((100 * f.modulesCompleted) / f.modulesAssigned) : 0;
  return (
    <section class="card cockpit-summary" aria-labelledby="h-summary" data-testid="team-summary">
      <h2 id="h-summary" class="visually-hidden">
        Summary
      </h2>
      <dl class="figures">
        <div>
          <dt>Members</dt>
          <dd>{f.members}</dd>
        </div>
        <div>
          <dt>Assigned modules completed</dt>
          <dd>{f.modulesAssigned ? `${f.modulesCompleted} of ${f.modulesAssigned} (${pct}%)` : 'Nothing assigned yet'}</dd>
        </div>
        <div class={f.overdueMembers ? 'figure-alert' : ''}>
          <dt>Overdue</dt>
          <dd data-testid="overdue-figure">
            {f.overdueMembers} of {f.members} member{f.members === 1 ? '' : 's'} overdue
            {f.overdueAssignments > f.overdueMembers && <span class="meta"> ({f.overdueAssignments} assignments)</span>}
          </dd>
        </div>
        <div>
          <dt>Not started anything</dt>
          <dd>
            {f.notStarted} of {f.members}
          </dd>
        </div>
      </dl>
    </section>
  );
}

/** Every open assignment of the team, overdue first, then by due date. */
export function AssignmentsCard({ progress, onChange }: { progress: TeamProgress; onChange: () => void }) {
  const rows = progress.members
    .flatMap((m) => m.assignments.map((a) => ({ a, m })))
    .sort((x, y) => Number(y.a.overdue) - Number(x.a.overdue) || x.a.due_at.localeCompare(y.a.due_at) || x.m.user.name.localeCompare(y.m.user.name));
  return (
    <section class="card" aria-labelledby="h-assignments" data-testid="assignments">
      <h2 id="h-assignments">Assignments</h2>
      {rows.length === 0 ? (
        <p class="muted">Nothing assigned yet. Assign a module to the team or to chosen members above.</p>
      ) : (
        <ul class="assignment-list">
          {rows.map(({ a, m }) => (
            <AssignmentRow key={a.id} a={a} member={m} teamId={progress.team.id} onChange={onChange} />
          ))}
        </ul>
      )}
    </section>
  );
}

type Mode = 'idle' | 'move' | 'cancel' | 'nudge';

export function AssignmentRow({ a, member, teamId, onChange }: { a: Assignment; member: { user: { id: string; name: string } }; teamId: string; onChange: () => void }) {
  const [mode, setMode] = useState<Mode>('idle');
  const [due, setDue] = useState(() => toLocalInput(a.due_at));
  const [warnPast, setWarnPast] = useState(false);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState('');
  const dueId = useId('move');
  const noteId = useId('nudge');
  const title = a.module_title || a.module;
  const who = member.user.name;

  async function act(fn: () => Promise<unknown>, done: string, reload = true) {
    setBusy(true);
    setError(null);
    try {
      await fn();
      setMode('idle');
      setWarnPast(false);
      setStatus(done);
      if (reload) onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  function move(force: boolean) {
    const iso = fromLocalInput(due);
    if (!iso) return setError(new Error('Enter a due date and time.'));
    if (isPast(iso) && !force) return setWarnPast(true);
    void act(() => patch(`/api/assignments/${encodeURIComponent(a.id)}`, { due_at: iso }), `Moved to ${formatDate(iso)}.`);
  }
  const cancel = (scope: '' | 'team') =>
    act(() => del(`/api/assignments/${encodeURIComponent(a.id)}${scope ? '?scope=team' : ''}`), scope ? `Cancelled “${title}” for the whole team.` : `Cancelled “${title}” for ${who}.`);
  const nudge = () =>
    act(() => post(`/api/assignments/${encodeURIComponent(a.id)}/nudge`, { note: note.trim() }), `Nudge sent to ${who}.`, false).then(() => setNote(''));
  const tooLong = note.length > 280;
  const open = (m: Mode) => {
    setMode(m);
    setError(null);
    setStatus('');
    setWarnPast(false);
  };

  return (
    <li class={`assignment-row${a.overdue ? ' is-overdue' : ''}`} data-testid="assignment-row" data-assignment={a.id}>
      <div class="assignment-what">
        <a href={memberPath(teamId, member.user.id)} class="member-name">
          {who}
        </a>
        <span>{title}</span>
        <span class="meta">
          {a.overdue ? <strong class="danger-text">Overdue</strong> : statusLabel(a.status)} · due <Time iso={a.due_at} withTime />
        </span>
      </div>
      {mode === 'idle' && (
        <div class="actions">
          <button type="button" class="btn btn-link btn-sm" onClick={() => open('move')}>
            Change due date<span class="visually-hidden"> of {title} for {who}</span>
          </button>
          {a.status !== 'completed' && (
            <button type="button" class="btn btn-link btn-sm" onClick={() => open('nudge')}>
              Nudge<span class="visually-hidden"> {who} about {title}</span>
            </button>
          )}
          <button type="button" class="btn btn-link btn-sm" onClick={() => open('cancel')}>
            Cancel<span class="visually-hidden"> {title} for {who}</span>
          </button>
        </div>
      )}
      {mode === 'move' && (
        <form
          class="inline-form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            move(false);
          }}
        >
          <div class="field">
            <label for={dueId}>New due date (your local time)</label>
            <input id={dueId} type="datetime-local" value={due} onInput={(e) => (setDue((e.currentTarget as HTMLInputElement).value), setWarnPast(false))} />
          </div>
          {warnPast ? (
            <PastDateWarning confirmLabel="Move it anyway" onConfirm={() => move(true)} onCancel={() => (setWarnPast(false), document.getElementById(dueId)?.focus())} />
          ) : (
            <div class="actions">
              <button type="submit" class="btn btn-primary btn-sm" disabled={busy}>
                {busy ? 'Saving…' : 'Save date'}
              </button>
              <button type="button" class="btn btn-ghost btn-sm" onClick={() => open('idle')}>
                Keep the date
              </button>
            </div>
          )}
        </form>
      )}
      {mode === 'cancel' && (
        <div class="confirm-box" role="group" aria-label={`Cancel ${title} for ${who}?`}>
          <p class="small warning-text">
            Cancel “{title}” for {who}? Their progress stays; the assignment and its reminders end.
          </p>
          <div class="actions">
            <button type="button" class="btn btn-danger btn-sm" disabled={busy} onClick={() => void cancel('')}>
              Yes, cancel for {who}
            </button>
            {a.team_id && (
              <button type="button" class="btn btn-secondary btn-sm" disabled={busy} onClick={() => void cancel('team')}>
                Cancel for the whole team
              </button>
            )}
            <button type="button" class="btn btn-ghost btn-sm" onClick={() => open('idle')}>
              Keep it
            </button>
          </div>
        </div>
      )}
      {mode === 'nudge' && (
        <form
          class="stack"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (!tooLong) void nudge();
          }}
        >
          <div class={`field${tooLong ? ' has-error' : ''}`}>
            <label for={noteId}>A short note to {who} (optional)</label>
            <textarea id={noteId} rows={2} maxLength={400} value={note} onInput={(e) => setNote((e.currentTarget as HTMLTextAreaElement).value)} aria-describedby={`${noteId}-count`} />
            <p class={`small ${tooLong ? 'field-error' : 'muted'}`} id={`${noteId}-count`}>
              {note.length} of 280 characters. They get it in the app and by email; one nudge a day per assignment.
            </p>
          </div>
          <div class="actions">
            <button type="submit" class="btn btn-primary btn-sm" disabled={busy || tooLong}>
              {busy ? 'Sending…' : 'Send nudge'}
            </button>
            <button type="button" class="btn btn-ghost btn-sm" onClick={() => open('idle')}>
              Don&rsquo;t send
            </button>
          </div>
        </form>
      )}
      <p class="small success-text" aria-live="polite">
        {status}
      </p>
      {error !== null && (
        <ErrorBox
          error={error instanceof ApiError && error.status === 429 ? new Error(`${who} was already nudged about this in the last day; one a day is enough.`) : error}
          title="Not done"
        />
      )}
    </li>
  );
}

export type SortKey = 'overdue' | 'name' | 'completion' | 'vision' | 'alignment' | 'inspiration';
export type Filter = 'all' | 'overdue' | 'not_started';

/** A member's completion: the mean of their module percents. */
export function completion(m: MemberRow): number {
  if (m.modules.length === 0) return 0;
  return m.modules.reduce((s, x) => s + x.percent, 0) / m.modules.length;
}

/** Whether the member has finished any scenario (skills are measured). */
export function hasSkills(m: MemberRow): boolean {
  return m.modules.some((x) => x.best_percent != null);
}

export function filterMembers(rows: MemberRow[], f: Filter): MemberRow[] {
  if (f === 'overdue') return rows.filter((m) => m.assignments.some((a) => a.overdue));
  if (f === 'not_started') return rows.filter((m) => !m.modules.some((x) => x.percent > 0));
  return rows;
}

/** Sorts members; the default puts the most overdue first. */
export function sortMembers(rows: MemberRow[], key: SortKey): MemberRow[] {
  const byName = (a: MemberRow, b: MemberRow) => a.user.name.localeCompare(b.user.name);
  const overdue = (m: MemberRow) => m.assignments.filter((a) => a.overdue).length;
  const skill = (m: MemberRow, k: 'vision' | 'alignment' | 'inspiration') => (hasSkills(m) ? m.skills[k] : -1);
  const cmp: Record<SortKey, (a: MemberRow, b: MemberRow) => number> = {
    overdue: (a, b) => overdue(b) - overdue(a) || completion(a) - completion(b) || byName(a, b),
    name: byName,
    completion: (a, b) => completion(b) - completion(a) || byName(a, b),
    vision: (a, b) => skill(b, 'vision') - skill(a, 'vision') || byName(a, b),
    alignment: (a, b) => skill(b, 'alignment') - skill(a, 'alignment') || byName(a, b),
    inspiration: (a, b) => skill(b, 'inspiration') - skill(a, 'inspiration') || byName(a, b),
  };
  return [...rows].sort(cmp[key]);
}
