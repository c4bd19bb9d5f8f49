import { useEffect, useRef, useState } from 'preact/hooks';
import { logout } from './api';
import { OutageBanner } from './components/OutageBanner';
import { SignInDialog } from './components/SignInDialog';
import { TodayBar } from './components/Today';
import { Loading } from './components/ui';
import { VerifyBanner } from './components/VerifyBanner';
import { AccountPage } from './pages/Account';
import { ForgotPasswordPage, ResetPasswordPage, SsoLinkPage, VerifyEmailPage } from './pages/AccountLinks';
import { AdminUsersPage } from './pages/AdminUsers';
import { AidPage } from './pages/AidPage';
import { CoachingBriefPage } from './pages/CoachingBrief';
import { DeepLinkPickerPage } from './pages/DeepLinkPicker';
import { AttemptPage, PracticePage, ReplayPage } from './pages/AttemptPage';
import { LoginPage, SignupPage } from './pages/Auth';
import { HomePage } from './pages/Home';
import { LessonPage } from './pages/LessonPage';
import { ModulePage, NotFoundBlock } from './pages/ModulePage';
import { ProgressPage } from './pages/ProgressPage';
import { QuizPage } from './pages/QuizPage';
import { TeamPage } from './pages/TeamPage';
import { MemberPage } from './pages/MemberPage';
import { TeamsPage } from './pages/Teams';
import { match, navigate, useLocation } from './router';
import { isManager, useSession } from './session';
import type { User } from './types';

// public: for the signed-out (the signed-in are sent on); link: opened from
// an email, whoever is signed in or not.
type Guard = 'public' | 'link' | 'user' | 'manager' | 'admin';
interface RouteDef {
  pattern: string;
  guard: Guard;
  view: (p: Record<string, string>) => preact.JSX.Element;
}

const routes: RouteDef[] = [
  { pattern: '/login', guard: 'public', view: () => <LoginPage /> },
  { pattern: '/signup', guard: 'public', view: () => <SignupPage /> },
  { pattern: '/forgot-password', guard: 'public', view: () => <ForgotPasswordPage /> },
  { pattern: '/reset-password', guard: 'link', view: () => <ResetPasswordPage /> },
  { pattern: '/verify-email', guard: 'link', view: () => <VerifyEmailPage /> },
  { pattern: '/sso/link', guard: 'link', view: () => <SsoLinkPage /> },
  { pattern: '/account', guard: 'user', view: () => <AccountPage /> },
  { pattern: '/', guard: 'user', view: () => <HomePage /> },
  { pattern: '/modules/:slug', guard: 'user', view: (p) => <ModulePage key={p.slug} slug={p.slug} /> },
  { pattern: '/lessons/:slug', guard: 'user', view: (p) => <LessonPage key={p.slug} slug={p.slug} /> },
  { pattern: '/quizzes/:slug', guard: 'user', view: (p) => <QuizPage key={p.slug} slug={p.slug} /> },
  { pattern: '/attempts/:id', guard: 'user', view: (p) => <AttemptPage key={p.id} id={p.id} /> },
  { pattern: '/attempts/:id/replay', guard: 'user', view: (p) => <ReplayPage key={p.id} id={p.id} /> },
  { pattern: '/practice/:id', guard: 'user', view: (p) => <PracticePage key={p.id} id={p.id} /> },
  { pattern: '/job-aids/:module', guard: 'user', view: (p) => <AidPage key={p.module} module={p.module} /> },
  { pattern: '/progress', guard: 'user', view: () => <ProgressPage /> },
  { pattern: '/teams', guard: 'manager', view: () => <TeamsPage /> },
  { pattern: '/teams/:id', guard: 'manager', view: (p) => <TeamPage key={p.id} id={p.id} /> },
  { pattern: '/teams/:id/members/:user_id', guard: 'manager', view: (p) => <MemberPage key={p.user_id} teamId={p.id} userId={p.user_id} /> },
  {
    pattern: '/teams/:id/coaching/:scenario',
    guard: 'manager',
    view: (p) => <CoachingBriefPage key={`${p.id}/${p.scenario}`} id={p.id} scenario={p.scenario} />,
  },
  { pattern: '/admin/users', guard: 'admin', view: () => <AdminUsersPage /> },
  { pattern: '/lti/deep-links/:id', guard: 'user', view: (p) => <DeepLinkPickerPage key={p.id} id={p.id} /> },
];

// The learner pages that open with the one-line Today bar. Not home (the
// full strip is there), not a practice run, and on an attempt only once its
// result shows (the decisions need the learner's whole attention); not the
// account, team or admin pages.
const todayBarPages = new Set(['/modules/:slug', '/lessons/:slug', '/quizzes/:slug', '/attempts/:id', '/attempts/:id/replay', '/job-aids/:module', '/progress']);

function resolve(path: string): { route: RouteDef | null; params: Record<string, string> } {
  const clean = path.length > 1 ? path.replace(/\/+$/, '') : path;
  for (const r of routes) {
    const params = match(r.pattern, clean);
    if (params) return { route: r, params };
  }
  return { route: null, params: {} };
}

function allowed(guard: Guard, user: User | null): boolean {
  if (guard === 'public' || guard === 'link') return true;
  if (!user) return false;
  if (guard === 'manager') return isManager(user);
  if (guard === 'admin') return user.role === 'admin';
  return true;
}

export function App() {
  const session = useSession();
  const loc = useLocation();
  const { route, params } = resolve(loc.path);
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);

  // Redirects: signed-out users to sign-in, signed-in users away from it.
  useEffect(() => {
    if (session.status === 'loading') return;
    if (session.status === 'anon' && route && route.guard !== 'public' && route.guard !== 'link') {
      const next = loc.path + (loc.search.toString() ? `?${loc.search}` : '');
      navigate(next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`, { replace: true });
    } else if (session.status === 'authed' && route?.guard === 'public') {
      const n = loc.search.get('next');
      navigate(n && n.startsWith('/') && !n.startsWith('//') ? n : '/', { replace: true });
    }
  }, [session.status, loc.path]);

  // Move focus to the new page so keyboard and screen-reader users start at its top.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    mainRef.current?.focus({ preventScroll: true });
  }, [loc.path]);

  let content: preact.JSX.Element;
  if (session.status === 'loading') content = <Loading label="Restoring your session…" />;
  else if (!route) content = <NotFoundBlock />;
  else if (route.guard === 'link') content = route.view(params);
  else if (route.guard !== 'public' && session.status !== 'authed') content = <Loading label="Redirecting to sign in…" />;
  else if (route.guard === 'public' && session.status === 'authed') content = <Loading label="Signing you in…" />;
  else if (!allowed(route.guard, session.user))
    content = (
      <div class="page narrow">
        <h1 tabIndex={-1}>Not available</h1>
        <p>
          This page is for {route.guard === 'admin' ? 'admins' : 'managers'}. <a href="/">Back to your course</a>
        </p>
      </div>
    );
  else content = route.view(params);

  const bare = route?.guard === 'public' || (route?.guard === 'link' && session.status !== 'authed');
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <OutageBanner />
      <Header user={session.user} path={loc.path} bare={bare} />
      <main id="main" ref={mainRef} tabIndex={-1} class={bare ? 'main-bare' : ''}>
        {session.status === 'authed' && route && todayBarPages.has(route.pattern) && <TodayBar key={loc.path} afterResult={route.pattern === '/attempts/:id'} />}
        {session.user && !bare && route?.guard !== 'link' && <VerifyBanner userId={session.user.id} email={session.user.email} />}
        {content}
      </main>
      <footer class="site-footer">
        <p>Baton · lead through influence, not authority</p>
      </footer>
      <SignInDialog />
    </>
  );
}

function Header({ user, path, bare }: { user: User | null; path: string; bare: boolean }) {
  const link = (href: string, label: string) => {
    const active = href === '/' ? path === '/' || path.startsWith('/modules') || path.startsWith('/lessons') || path.startsWith('/quizzes') || path.startsWith('/attempts') || path.startsWith('/practice') : path.startsWith(href);
    return (
      <li>
        <a href={href} aria-current={active ? 'page' : undefined}>
          {label}
        </a>
      </li>
    );
  };
  // On a phone the nav and the account menu fold behind one button, so the
  // header stays one short row; a new page closes it.
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [path]);
  const signedIn = user && !bare;
  return (
    <header class={`site-header${open ? ' menu-open' : ''}`}>
      <div class="header-inner">
        <a href="/" class="brand">
          <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
            <rect width="32" height="32" rx="7" fill="#1f3a5f" />
            <path d="M9 24 23 8" stroke="#f2b84b" stroke-width="3.2" stroke-linecap="round" />
            <circle cx="9" cy="24" r="2.6" fill="#fff" />
          </svg>
          <span>Baton</span>
        </a>
        {signedIn && user.role !== 'learner' && (
          <span class="role-tag role-tag-compact" aria-hidden="true">
            {user.role}
          </span>
        )}
        {signedIn && (
          <button type="button" class="btn btn-ghost btn-sm menu-toggle" aria-expanded={open ? 'true' : 'false'} aria-controls="site-menu" onClick={() => setOpen(!open)}>
            {open ? 'Close menu' : 'Menu'}
          </button>
        )}
        {signedIn && (
          <div class="site-menu" id="site-menu">
            <nav class="main-nav" aria-label="Main">
              <ul>
                {link('/', 'Course')}
                {link('/progress', 'My progress')}
                {isManager(user) && link('/teams', 'Teams')}
                {user.role === 'admin' && link('/admin/users', 'Users')}
                {link('/account', 'Account')}
              </ul>
            </nav>
            <div class="user-menu">
              <span class="user-name" title={user.email}>
                {user.name}
                {user.role !== 'learner' && <span class="role-tag">{user.role}</span>}
              </span>
              <button
                type="button"
                class="btn btn-ghost btn-sm"
                onClick={async () => {
                  await logout();
                  navigate('/login', { replace: true });
                }}
              >
                Sign out
              </button>
            </div>
          </div>
        )}
      </div>
    </header>
  );
}
