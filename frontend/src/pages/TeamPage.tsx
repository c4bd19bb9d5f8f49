import { useState } from 'preact/hooks';
import { ApiError, del, downloadFile, errorMessage, post } from '../api';
import { LookalikeWarning } from '../components/Lookalike';
import { Async, Empty, ErrorBox, Field, Loading, Time, formatDate, statusLabel, useApi, useId, useTitle, type Resource } from '../components/ui';
import type { Analytics, Assignment, Member, Module, SentInvitation, TeamDetail, TeamProgress } from '../types';
import { AssignmentsCard, PastDateWarning, TeamSummary, filterMembers, hasSkills, isPast, memberPath, sortMembers, type Filter, type SortKey } from './cockpit';

export function TeamPage({ id }: { id: string }) {
  const base = `/api/teams/${encodeURIComponent(id)}`;
  const team = useApi<TeamDetail>(base);
  const progress = useApi<TeamProgress>(`${base}/progress`);
  const analytics = useApi<Analytics>(`${base}/analytics`);
  const modules = useApi<Module[]>('/api/modules');
  useTitle(team.data?.name ?? 'Team');
  const refresh = () => {
    team.reload();
    progress.reload();
    analytics.reload();
  };

  return (
    <div class="page">
      <Async res={team} label="Loading the team…">
        {(t) => (
          <>
            <nav class="breadcrumb" aria-label="Breadcrumb">
              <a href="/teams">Teams</a> <span aria-hidden="true">/</span> <span aria-current="page">{t.name}</span>
            </nav>
            <header class="page-header header-row">
              <div>
                <p class="eyebrow">Team</p>
                <h1 tabIndex={-1}>{t.name}</h1>
                <p class="meta">
                  {t.members.length} member{t.members.length === 1 ? '' : 's'} · created <Time iso={t.created_at} />
                </p>
              </div>
              <CsvButton teamId={t.id} name={t.name} />
            </header>
            {progress.data && <TeamSummary progress={progress.data} />}
            <div class="grid-3">
              <InviteCard team={t} onChange={(nt) => team.setData({ ...t, invite_code: nt.invite_code })} />
              <AssignCard teamId={t.id} members={t.members} modules={modules} onDone={refresh} disabled={t.members.length === 0} />
              <MembersCard team={t} onChange={refresh} />
            </div>
            {progress.data && <AssignmentsCard progress={progress.data} onChange={progress.reload} />}
            <section class="card" aria-labelledby="h-progress">
              <h2 id="h-progress">Team progress</h2>
              <Async res={progress} label="Loading team progress…">
                {(p) => <ProgressTable progress={p} modules={modules.data ?? []} />}
              </Async>
            </section>
            <section class="card" aria-labelledby="h-analytics">
              <h2 id="h-analytics">Choice analytics</h2>
              <p class="muted">
                For each scenario step, in course order: the share of members counted as taking each choice on their first attempt,
                with the recommended move marked. Scenarios finished by fewer than {analytics.data?.min_group ?? 3} members are hidden.
                Each scenario has a printable coaching brief for your one-to-ones.
              </p>
              <p class="noise-note" data-testid="analytics-noise">
                <strong>Counts include deliberate noise to protect individuals.</strong> Each member&rsquo;s answer is counted as given only
                some of the time, otherwise as a random choice that stays the same for them, so no one&rsquo;s choice can be worked out,
                even by comparing teams. Read the percentages as team tendencies.
              </p>
              <Async res={analytics} label="Loading analytics…">
                {(a) => <AnalyticsView data={a} teamId={t.id} />}
              </Async>
            </section>
          </>
        )}
      </Async>
    </div>
  );
}

function CsvButton({ teamId, name }: { teamId: string; name: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function download() {
    setBusy(true);
    setError(null);
    try {
      const slug = name.replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '') || 'team';
      // The CSV's times in the manager's own zone, which its headers name.
      const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
      const query = tz ? `?tz=${encodeURIComponent(tz)}` : '';
      await downloadFile(`/api/teams/${encodeURIComponent(teamId)}/progress.csv${query}`, `${slug}-progress.csv`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="csv">
      <button type="button" class="btn btn-secondary" onClick={download} disabled={busy}>
        <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
          <path d="M8 2v8m0 0l-3-3m3 3l3-3M3 13h10" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" />
        </svg>
        {busy ? 'Preparing…' : 'Download CSV'}
      </button>
      <ErrorBox error={error} title="Download failed" />
    </div>
  );
}

function InviteCard({ team, onChange }: { team: TeamDetail; onChange: (t: TeamDetail) => void }) {
  const [status, setStatus] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const codeId = useId('code');

  async function copy() {
    setStatus('');
    try {
      await navigator.clipboard.writeText(team.invite_code);
      setStatus('Copied to the clipboard.');
    } catch {
      const el = document.getElementById(codeId);
      if (el) {
        const range = document.createRange();
        range.selectNodeContents(el);
        const sel = window.getSelection();
        sel?.removeAllRanges();
        sel?.addRange(range);
      }
      setStatus('Copy is blocked in this browser: the code is selected, press Ctrl+C to copy it.');
    }
  }
  async function regenerate() {
    setBusy(true);
    setError(null);
    try {
      const t = await post<TeamDetail>(`/api/teams/${encodeURIComponent(team.id)}/invite-code`);
      onChange(t);
      setStatus('New code ready. The old one no longer works.');
      setConfirming(false);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card invite" aria-labelledby="h-invite">
      <h2 id="h-invite">Invite code</h2>
      <p class="muted small">Learners enter this code on their course page to join.</p>
      <p class="invite-code" id={codeId} data-testid="invite-code">
        {team.invite_code}
      </p>
      <div class="actions">
        <button type="button" class="btn btn-primary btn-sm" onClick={copy}>
          Copy code
        </button>
        {!confirming ? (
          <button type="button" class="btn btn-ghost btn-sm" onClick={() => setConfirming(true)}>
            Regenerate
          </button>
        ) : (
          <>
            <button type="button" class="btn btn-danger btn-sm" onClick={regenerate} disabled={busy}>
              {busy ? 'Regenerating…' : 'Yes, replace the code'}
            </button>
            <button type="button" class="btn btn-ghost btn-sm" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </>
        )}
      </div>
      {confirming && <p class="small warning-text">The current code will stop working.</p>}
      <p class="small success-text" aria-live="polite">
        {status}
      </p>
      <ErrorBox error={error} />
    </section>
  );
}

function defaultDue(): string {
  const d = new Date(Date.now() + 14 * 86400000);
  d.setHours(17, 0, 0, 0);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** datetime-local (local wall time) to RFC 3339 UTC. */
export function localToRFC3339(v: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v)) return null;
  const d = new Date(v);
  return isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function AssignCard({
  teamId,
  members,
  modules,
  onDone,
  disabled,
}: {
  teamId: string;
  members: Member[];
  modules: Resource<Module[]>;
  onDone: () => void;
  disabled: boolean;
}) {
  const [mod, setMod] = useState('');
  const [due, setDue] = useState(defaultDue);
  const [who, setWho] = useState<'team' | 'chosen'>('team');
  const [chosen, setChosen] = useState<string[]>([]);
  const [warnPast, setWarnPast] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const selId = useId('mod');
  const dueId = useId('due');
  const fields = error instanceof ApiError ? error.fields : {};

  function assign(e: Event) {
    e.preventDefault();
    void send(false);
  }
  // send posts the assignment; a past date is allowed (the assignment is
  // overdue at once), but only once the manager said so (pastOk).
  async function send(pastOk: boolean) {
    const slug = mod || modules.data?.[0]?.slug || '';
    const dueAt = localToRFC3339(due);
    setDone('');
    if (!slug) return setError(new Error('Choose a module.'));
    if (!dueAt) return setError(new ApiError({ type: 'local', title: 'Invalid', status: 422, detail: 'Enter a due date and time.', errors: [{ field: 'due_at', message: 'Enter a due date and time.' }] }));
    if (who === 'chosen' && chosen.length === 0) return setError(new Error('Choose at least one member, or assign to the whole team.'));
    if (isPast(dueAt) && !pastOk) {
      setWarnPast(true);
      return;
    }
    setWarnPast(false);
    setBusy(true);
    setError(null);
    try {
      const target = who === 'team' ? { team_id: teamId } : { user_ids: chosen };
      const r = await post<{ assignments: Assignment[] }>('/api/assignments', { module: slug, due_at: dueAt, ...target });
      const title = modules.data?.find((m) => m.slug === slug)?.title ?? slug;
      setDone(`Assigned “${title}” to ${r.assignments.length} member${r.assignments.length === 1 ? '' : 's'}, due ${formatDate(dueAt)}. They have been told.`);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  const toggle = (id: string, on: boolean) => setChosen((c) => (on ? [...c.filter((x) => x !== id), id] : c.filter((x) => x !== id)));

  return (
    <section class="card" aria-labelledby="h-assign">
      <h2 id="h-assign">Assign a module</h2>
      {modules.error ? (
        <ErrorBox error={modules.error} onRetry={modules.reload} />
      ) : !modules.data ? (
        <Loading label="Loading modules…" />
      ) : (
        <form onSubmit={assign} class="stack" noValidate data-testid="assign-form">
          <div class={`field${fields.module ? ' has-error' : ''}`}>
            <label for={selId}>Module</label>
            <select id={selId} name="module" value={mod || modules.data[0]?.slug} onChange={(e) => setMod((e.currentTarget as HTMLSelectElement).value)}>
              {modules.data.map((m) => (
                <option key={m.slug} value={m.slug}>
                  {m.position}. {m.title}
                </option>
              ))}
            </select>
            {fields.module && <p class="field-error">{fields.module}</p>}
          </div>
          <div class={`field${fields.due_at ? ' has-error' : ''}`}>
            <label for={dueId}>Due (your local time)</label>
            <input
              id={dueId}
              name="due_at"
              type="datetime-local"
              value={due}
              onInput={(e) => {
                setDue((e.currentTarget as HTMLInputElement).value);
                setWarnPast(false);
              }}
              aria-invalid={fields.due_at ? 'true' : undefined}
              aria-describedby={fields.due_at ? `${dueId}-err` : undefined}
            />
            {fields.due_at && (
              <p class="field-error" id={`${dueId}-err`}>
                {fields.due_at}
              </p>
            )}
          </div>
          <fieldset class="assign-who">
            <legend>Assign to</legend>
            <label class="check">
              <input type="radio" name="assign_who" value="team" checked={who === 'team'} onChange={() => setWho('team')} /> The whole team (and later joiners)
            </label>
            <label class="check">
              <input type="radio" name="assign_who" value="chosen" checked={who === 'chosen'} onChange={() => setWho('chosen')} /> Chosen members
            </label>
            {who === 'chosen' && (
              <ul class="assign-members" data-testid="assign-members">
                {members.map((m) => (
                  <li key={m.id}>
                    <label class="check">
                      <input type="checkbox" name="user_ids" value={m.id} checked={chosen.includes(m.id)} onChange={(e) => toggle(m.id, (e.currentTarget as HTMLInputElement).checked)} />{' '}
                      {m.name}
                    </label>
                  </li>
                ))}
              </ul>
            )}
          </fieldset>
          {warnPast ? (
            <PastDateWarning
              onConfirm={() => void send(true)}
              onCancel={() => {
                setWarnPast(false);
                document.getElementById(dueId)?.focus();
              }}
              confirmLabel="Assign anyway"
            />
          ) : (
            <button type="submit" class="btn btn-primary" disabled={busy || disabled}>
              {busy ? 'Assigning…' : who === 'team' ? 'Assign to the whole team' : `Assign to ${chosen.length} member${chosen.length === 1 ? '' : 's'}`}
            </button>
          )}
          {disabled && <p class="small muted">No members yet: invite people or share the invite code; later joiners also get open team assignments.</p>}
        </form>
      )}
      {error !== null && !(error instanceof ApiError && Object.keys(error.fields).length) && <ErrorBox error={error} title="Not assigned" />}
      <p class="small success-text" aria-live="polite">
        {done}
      </p>
    </section>
  );
}

function MembersCard({ team, onChange }: { team: TeamDetail; onChange: () => void }) {
  const [email, setEmail] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [confirm, setConfirm] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const invitations = useApi<SentInvitation[]>(`/api/teams/${encodeURIComponent(team.id)}/invitations`);

  // The answer is the same whether or not the address has an account, so
  // the page can only say the invitation went out.
  async function invite(e: Event) {
    e.preventDefault();
    const to = email.trim();
    if (!to) return setError(new Error('Enter the email address of the person to invite.'));
    setBusy(true);
    setError(null);
    setStatus('');
    try {
      await post(`/api/teams/${encodeURIComponent(team.id)}/members`, { email: to });
      setEmail('');
      setStatus(`Invitation sent to ${to}. They join the team once they accept.`);
      invitations.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  async function withdraw(inv: SentInvitation) {
    setError(null);
    setStatus('');
    try {
      await del(`/api/teams/${encodeURIComponent(team.id)}/invitations/${encodeURIComponent(inv.id)}`);
      setStatus(`Withdrew the invitation to ${inv.email}.`);
      invitations.reload();
    } catch (err) {
      setError(err);
      invitations.reload();
    }
  }
  async function remove(m: Member) {
    setError(null);
    try {
      await del(`/api/teams/${encodeURIComponent(team.id)}/members/${encodeURIComponent(m.id)}`);
      setConfirm(null);
      setStatus(`Removed ${m.name}; their open assignments from this team ended.`);
      onChange();
    } catch (err) {
      setError(err);
    }
  }
  const emailErr = error ? (error instanceof ApiError && error.fields.email) || errorMessage(error) : undefined;

  return (
    <section class="card members" aria-labelledby="h-members">
      <h2 id="h-members">Members</h2>
      <form onSubmit={invite} class="inline-form" noValidate>
        <Field label="Invite by email" name="member_email" type="email" value={email} onInput={setEmail} error={emailErr || undefined} autoComplete="off" />
        <button type="submit" class="btn btn-secondary" disabled={busy}>
          {busy ? 'Inviting…' : 'Invite'}
        </button>
      </form>
      <p class="small muted">People join only by accepting; until then you see nothing of them.</p>
      <p class="small success-text" aria-live="polite" data-testid="invite-status">
        {status}
      </p>
      {invitations.data && invitations.data.length > 0 && (
        <>
          <h3 class="small-heading">Invitations waiting for an answer</h3>
          <ul class="member-list pending-list">
            {invitations.data.map((inv) => (
              <li key={inv.id}>
                <div class="member-who">
                  <span class="meta">{inv.email}</span>
                  <span class="meta">
                    invited <Time iso={inv.created_at} />
                  </span>
                </div>
                <button type="button" class="btn btn-link btn-sm" onClick={() => withdraw(inv)}>
                  Withdraw<span class="visually-hidden"> the invitation to {inv.email}</span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {invitations.error !== null && !invitations.data && <ErrorBox error={invitations.error} onRetry={invitations.reload} />}
      {team.members.length === 0 ? (
        <Empty>No members yet. Share the invite code or invite people by email.</Empty>
      ) : (
        <ul class="member-list">
          {team.members.map((m) => (
            <li key={m.id}>
              <div class="member-who">
                <a class="member-name" href={memberPath(team.id, m.id)}>
                  {m.name}
                </a>
                <span class="meta">{m.email}</span>
                <LookalikeWarning lookalike={m.lookalike} />
              </div>
              {confirm === m.id ? (
                <span class="confirm">
                  <span class="small warning-text" data-testid="remove-warning">
                    {m.name}&rsquo;s open assignments from this team end, and you stop seeing their progress.
                  </span>
                  <button type="button" class="btn btn-danger btn-sm" onClick={() => remove(m)}>
                    Remove<span class="visually-hidden"> {m.name}</span>
                  </button>
                  <button type="button" class="btn btn-ghost btn-sm" onClick={() => setConfirm(null)}>
                    Cancel
                  </button>
                </span>
              ) : (
                <button type="button" class="btn btn-link btn-sm" onClick={() => setConfirm(m.id)}>
                  Remove<span class="visually-hidden"> {m.name}</span>
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function bucket(p: number): string {
  if (p >= 100) return 'h5';
  if (p >= 75) return 'h4';
  if (p >= 50) return 'h3';
  if (p >= 25) return 'h2';
  if (p > 0) return 'h1';
  return 'h0';
}

const sortLabels: Record<SortKey, string> = {
  overdue: 'Overdue first',
  name: 'Name',
  completion: 'Completion',
  vision: 'Vision',
  alignment: 'Alignment',
  inspiration: 'Inspiration',
};

export function ProgressTable({ progress, modules }: { progress: TeamProgress; modules: Module[] }) {
  const [sort, setSort] = useState<SortKey>('overdue');
  const [filter, setFilter] = useState<Filter>('all');
  const sortId = useId('sort');
  const filterId = useId('filter');
  if (progress.members.length === 0) return <Empty>No members yet, so no progress to show.</Empty>;
  const slugs = modules.length ? modules.map((m) => m.slug) : progress.members[0].modules.map((m) => m.slug);
  const modTitle = (s: string) => modules.find((m) => m.slug === s)?.title ?? s;
  const rows = sortMembers(filterMembers(progress.members, filter), sort);
  return (
    <>
      <div class="table-controls">
        <div class="field">
          <label for={sortId}>Sort by</label>
          <select id={sortId} name="sort" value={sort} onChange={(e) => setSort((e.currentTarget as HTMLSelectElement).value as SortKey)}>
            {(Object.keys(sortLabels) as SortKey[]).map((k) => (
              <option key={k} value={k}>
                {sortLabels[k]}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={filterId}>Show</label>
          <select id={filterId} name="filter" value={filter} onChange={(e) => setFilter((e.currentTarget as HTMLSelectElement).value as Filter)}>
            <option value="all">All members</option>
            <option value="overdue">Overdue only</option>
            <option value="not_started">Not started</option>
          </select>
        </div>
        <p class="small muted" aria-live="polite" data-testid="progress-count">
          {rows.length} of {progress.members.length} member{progress.members.length === 1 ? '' : 's'} shown
        </p>
      </div>
      <div class="table-wrap heatmap-wrap" tabIndex={0} role="region" aria-label="Team progress by member and module">
        <table class="heatmap" data-testid="team-progress">
          <thead>
            <tr>
              <th scope="col" class="sticky-col" aria-sort={sort === 'name' ? 'ascending' : undefined}>
                Member
              </th>
              {slugs.map((s, i) => (
                <th scope="col" key={s} title={modTitle(s)}>
                  <span class="col-num" aria-hidden="true">
                    M{i + 1}
                  </span>
                  <span class="col-title">{modTitle(s)}</span>
                </th>
              ))}
              <th scope="col">
                Skills <abbr title="Vision · Alignment · Inspiration">(V · A · I)</abbr>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={slugs.length + 2} class="muted">
                  No member matches this filter.
                </td>
              </tr>
            )}
            {rows.map((m) => (
              <tr key={m.user.id}>
                <th scope="row" class="sticky-col">
                  <a class="member-name" href={memberPath(progress.team.id, m.user.id)}>
                    {m.user.name}
                  </a>
                  <span class="meta">{m.user.email}</span>
                  <LookalikeWarning lookalike={m.user.lookalike} />
                </th>
                {slugs.map((s) => {
                  const mm = m.modules.find((x) => x.slug === s);
                  const a = m.assignments.find((x) => x.module === s);
                  const p = mm?.percent ?? 0;
                  return (
                    <td key={s} class={`cell ${bucket(p)}${a?.overdue ? ' overdue' : ''}${a ? ' assigned' : ''}`} data-module={s}>
                      <span class="cell-pct">
                        {mm?.completed ? '✓ ' : ''}
                        {p}%
                      </span>
                      {mm?.best_percent != null && <span class="cell-sub">best {mm.best_percent}%</span>}
                      {a && (
                        <span class={`cell-tag${a.overdue ? ' tag-overdue' : ''}`}>
                          {a.overdue ? 'Overdue' : statusLabel(a.status)} · {formatDate(a.due_at)}
                        </span>
                      )}
                      <span class="visually-hidden">{mm?.completed ? ', completed' : ''}</span>
                    </td>
                  );
                })}
                <td class="skills-cell" data-testid="skills-cell">
                  {hasSkills(m) ? (
                    <>
                      {m.skills.vision} · {m.skills.alignment} · {m.skills.inspiration}
                      <span class="visually-hidden">
                        {' '}
                        (vision {m.skills.vision}, alignment {m.skills.alignment}, inspiration {m.skills.inspiration})
                      </span>
                    </>
                  ) : (
                    <>
                      <span aria-hidden="true">—</span>
                      <span class="visually-hidden">no scenario finished yet</span>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ul class="heat-legend" aria-label="Legend" data-testid="heat-legend">
        <li>
          <span class="sw h0" aria-hidden="true" />0% (not started)
        </li>
        <li>
          <span class="sw h1" aria-hidden="true" />
          1–24%
        </li>
        <li>
          <span class="sw h2" aria-hidden="true" />
          25–49%
        </li>
        <li>
          <span class="sw h3" aria-hidden="true" />
          50–74%
        </li>
        <li>
          <span class="sw h4" aria-hidden="true" />
          75–99%
        </li>
        <li>
          <span class="sw h5" aria-hidden="true" />
          Completed module (100%)
        </li>
        <li>
          <span class="sw overdue-sw" aria-hidden="true" />
          Overdue assignment
        </li>
      </ul>
      <p class="small muted" data-testid="skills-legend">
        <strong>Skills (V · A · I)</strong>: Vision, Alignment and Inspiration, 0–100, from each scenario&rsquo;s latest finished attempt. “—” means
        no scenario finished yet; “0” is a real score of zero.
      </p>
      <section class="card" aria-labelledby="h-practice-notes" data-testid="practice-notes">
        <h3 id="h-practice-notes">Tried at work</h3>
        {progress.members.every((m) => !m.practice || m.practice.length === 0) ? (
          <p class="muted">No shared notes yet. Members can share what they tried from each module's job aid.</p>
        ) : (
          <ul class="practice-notes">
            {progress.members.flatMap((m) =>
              (m.practice ?? []).map((n) => (
                <li key={`${m.user.id}-${n.module}`}>
                  <strong>{m.user.name}</strong> · {modTitle(n.module)} · {formatDate(n.done_at)}
                  <p>{n.note || '(no note)'}</p>
                </li>
              )),
            )}
          </ul>
        )}
      </section>
    </>
  );
}

function AnalyticsView({ data, teamId }: { data: Analytics; teamId: string }) {
  if (data.scenarios.length === 0) return <Empty>No scenario data yet.</Empty>;
  const checks = (data.quick_checks ?? []).filter((c) => !c.suppressed);
  return (
    <div class="analytics">
      {checks.length > 0 && (
        <section class="card" aria-labelledby="h-qc-analytics" data-testid="check-analytics">
          <h3 id="h-qc-analytics">Quick checks, first answers</h3>
          <ul>
            {checks.map((c) => (
              <li key={`${c.lesson}-${c.check_id}`}>
                {c.question}{' '}
                <span class="meta">
                  · {c.first_correct} of {c.members_answered} counted right first time
                  {c.first_correct_percent !== null && <> (about {c.first_correct_percent}% once corrected for the noise)</>}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
      {data.scenarios.map((s) => {
        const shown = s.steps.filter((st) => !st.suppressed);
        const title = s.variant?.title ? `${s.title}: ${s.variant.title}` : s.title;
        return (
          <details key={`${s.slug}-${s.variant?.id ?? ''}`} class="analytics-scenario" open={shown.length > 0}>
            <summary>
              <span class="an-title">{title}</span>
              <span class="meta">
                {s.suppressed ? 'too few members yet' : `${shown.length} of ${s.steps.length} steps shown`}
              </span>
            </summary>
            {s.suppressed ? (
              <p class="suppressed-note">
                Fewer than {data.min_group} members have finished this scenario yet ({s.members}), so nothing is shown.
              </p>
            ) : (
              <p class="suppressed-note">{s.members} members finished their first attempt.</p>
            )}
            <p class="an-brief-link">
              <a href={`/teams/${encodeURIComponent(teamId)}/coaching/${encodeURIComponent(s.slug)}`} data-testid="coaching-link">
                Coaching brief<span class="visually-hidden">: {s.title}</span>
              </a>
            </p>
            {!s.suppressed &&
              s.steps.map((st) =>
                st.suppressed ? (
                  <div class="an-step suppressed" key={st.step_id}>
                    <p class="an-step-text">{st.text}</p>
                    <p class="suppressed-note">Fewer than {data.min_group} members are counted as answering this step; hidden.</p>
                  </div>
                ) : (
                  <StepChart key={st.step_id} step={st} members={s.members} />
                ),
              )}
          </details>
        );
      })}
    </div>
  );
}

function StepChart({ step, members }: { step: Analytics['scenarios'][number]['steps'][number]; members: number }) {
  // Shares of the variant's members (every member is counted at every
  // step, "did not answer" included), not raw counts.
  const share = (n: number) => (members > 0 ? Math.round((100 * n) / members) : 0);
  return (
    <div class="an-step">
      <p class="an-step-text">{step.text}</p>
      <p class="meta">{share(step.members_answered)}% of members counted as answering</p>
      <ul class="an-choices">
        {step.choices.map((c) => (
          <li key={c.id} data-recommended={c.recommended ? 'true' : undefined}>
            <p class="an-choice">
              {c.recommended && <span class="an-choice-rec">✓ Recommended move:</span>} {c.text}
            </p>
            <div class="an-bars">
              <div class="an-bar-row">
                <span class="an-bar-label">First</span>
                <span class="an-bar-track">
                  <span class={`an-bar ${c.recommended ? 'rec' : 'first'}`} style={{ width: `${share(c.first_attempt)}%` }} />
                </span>
                <span class="an-bar-val">{share(c.first_attempt)}%</span>
              </div>
              {c.estimated_percent !== null && (
                <p class="meta an-estimate">About {c.estimated_percent}% of members, once corrected for the noise</p>
              )}
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}
