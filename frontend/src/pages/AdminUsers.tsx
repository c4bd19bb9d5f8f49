import { useEffect, useState } from 'preact/hooks';
import { errorMessage, patch } from '../api';
import { Async, Badge, Empty, useApi, useId, useTitle } from '../components/ui';
import { useSession } from '../session';
import { LookalikeWarning } from '../components/Lookalike';
import { LtiPlatformsSection } from './LtiPlatforms';
import { SsoDomainsSection } from './SsoDomains';
import type { ListedUser, Role, User } from '../types';

export function AdminUsersPage() {
  useTitle('Users');
  const [q, setQ] = useState('');
  const [term, setTerm] = useState('');
  useEffect(() => {
    const t = window.setTimeout(() => setTerm(q.trim()), 300);
    return () => window.clearTimeout(t);
  }, [q]);
  const users = useApi<ListedUser[]>(`/api/users${term ? `?q=${encodeURIComponent(term)}` : ''}`);
  const searchId = useId('search');

  return (
    <div class="page">
      <header class="page-header">
        <p class="eyebrow">Admin</p>
        <h1 tabIndex={-1}>Users and roles</h1>
        <p class="lead">Managers create teams and assign modules; admins can also change roles.</p>
      </header>
      <section class="card" aria-labelledby="h-users">
        <h2 id="h-users" class="visually-hidden">
          Users
        </h2>
        <form role="search" class="search" onSubmit={(e) => e.preventDefault()}>
          <label for={searchId}>Search by name or email</label>
          <input id={searchId} type="search" value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
        </form>
        <Async res={users} label="Loading users…">
          {(list) =>
            list.length === 0 ? (
              <Empty>No users match.</Empty>
            ) : (
              <div class="table-wrap" tabIndex={0} role="region" aria-label="Table of users">
                <table class="data-table users-table">
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Email</th>
                      <th scope="col">Role</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((u) => (
                      <UserRow key={u.id} user={u} onSaved={(nu) => users.setData(list.map((x) => (x.id === nu.id ? { ...x, ...nu } : x)))} />
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </Async>
      </section>
      <SsoDomainsSection />
      <LtiPlatformsSection />
    </div>
  );
}

function UserRow({ user, onSaved }: { user: ListedUser; onSaved: (u: User) => void }) {
  const session = useSession();
  const [role, setRole] = useState<Role>(user.role);
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState('');
  const [err, setErr] = useState('');
  const id = useId('role');
  const self = session.user?.id === user.id;

  async function save(e: Event) {
    e.preventDefault();
    setBusy(true);
    setMsg('');
    setErr('');
    try {
      const u = await patch<User>(`/api/users/${encodeURIComponent(user.id)}`, { role });
      onSaved(u);
      setMsg('Saved');
    } catch (e2) {
      setErr(errorMessage(e2));
      setRole(user.role);
    } finally {
      setBusy(false);
    }
  }

  return (
    <tr>
      <td>
        {user.name} {self && <Badge tone="info">You</Badge>}
      </td>
      <td>
        {user.email}
        <LookalikeWarning lookalike={user.lookalike} />
      </td>
      <td>
        <form class="role-form" onSubmit={save}>
          <label for={id} class="visually-hidden">
            Role for {user.name}
          </label>
          <select id={id} value={role} onChange={(e) => setRole((e.currentTarget as HTMLSelectElement).value as Role)}>
            <option value="learner">Learner</option>
            <option value="manager">Manager</option>
            <option value="admin">Admin</option>
          </select>
          <button type="submit" class="btn btn-secondary btn-sm" disabled={busy || role === user.role}>
            {busy ? 'Saving…' : 'Save'}
            <span class="visually-hidden"> role for {user.name}</span>
          </button>
          <span class="small" aria-live="polite">
            {err ? <span class="field-error">{err}</span> : msg ? <span class="success-text">{msg}</span> : null}
          </span>
        </form>
      </td>
    </tr>
  );
}
