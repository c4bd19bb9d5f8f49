import { useState } from 'preact/hooks';
import { ApiError, errorMessage, post } from '../api';
import { navigate } from '../router';
import { Async, Empty, Field, Time, useApi, useTitle } from '../components/ui';
import type { TeamSummary } from '../types';

export function TeamsPage() {
  useTitle('Teams');
  const teams = useApi<TeamSummary[]>('/api/teams');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function create(e: Event) {
    e.preventDefault();
    if (!name.trim()) {
      setError(new Error('Give the team a name.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const t = await post<{ id: string }>('/api/teams', { name: name.trim() });
      navigate(`/teams/${t.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  const nameErr = error ? (error instanceof ApiError && error.fields.name) || errorMessage(error) : undefined;

  return (
    <div class="page">
      <header class="page-header">
        <p class="eyebrow">Manage</p>
        <h1 tabIndex={-1}>Teams</h1>
        <p class="lead">Create a team, share its invite code, assign modules and follow progress.</p>
      </header>
      <div class="layout-2col">
        <section class="col-main card" aria-labelledby="h-your-teams">
          <h2 id="h-your-teams">Your teams</h2>
          <Async res={teams} label="Loading teams…">
            {(ts) =>
              ts.length === 0 ? (
                <Empty>No teams yet. Create your first one.</Empty>
              ) : (
                <ul class="team-list">
                  {ts.map((t) => (
                    <li key={t.id}>
                      <a href={`/teams/${t.id}`} class="team-name">
                        {t.name}
                      </a>
                      <span class="meta">
                        {t.members} member{t.members === 1 ? '' : 's'} · invite code <code>{t.invite_code}</code> · created <Time iso={t.created_at} />
                      </span>
                    </li>
                  ))}
                </ul>
              )
            }
          </Async>
        </section>
        <section class="col-side card" aria-labelledby="h-new-team">
          <h2 id="h-new-team">New team</h2>
          <form onSubmit={create} noValidate class="stack">
            <Field label="Team name" name="team_name" value={name} onInput={setName} maxLength={100} required error={nameErr || undefined} />
            <button type="submit" class="btn btn-primary" disabled={busy}>
              {busy ? 'Creating…' : 'Create team'}
            </button>
          </form>
        </section>
      </div>
    </div>
  );
}
