import { render, type ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { currentSession, handleUnauthorized, signOut, type SignInReason } from './api';
import type { Session } from './api-types';
import { IssuePage } from './pages/issue';
import { OverviewPage } from './pages/overview';
import { ReleasePage } from './pages/release';
import { SearchPage } from './pages/search';
import { SignInPage } from './pages/sign-in';
import { TimelinePage } from './pages/timeline';
import { Link, matchRoute, navigate, useLocation, type Route } from './router';
import './styles.css';

function signInPath(reason: SignInReason, next: string) {
  const query = new URLSearchParams({ reason });
  if (next !== '/' && !next.startsWith('/sign-in')) query.set('next', next);
  return `/sign-in?${query}`;
}

function App() {
  const { pathname, search } = useLocation();
  const route = matchRoute(pathname);
  // undefined: not asked yet; null: signed out.
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    handleUnauthorized((reason) => {
      setSession(null);
      // Several requests of a page may be refused at once: the first one says where to come back to.
      if (location.pathname === '/sign-in') return;
      navigate(signInPath(reason, location.pathname + location.search), { replace: true });
    });
    currentSession().then(
      (found) => {
        setSession(found);
        if (!found && matchRoute(location.pathname).page !== 'sign-in')
          navigate(signInPath('signed-out', location.pathname + location.search), { replace: true });
      },
      (error: Error) => setFailure(error.message),
    );
  }, []);

  useEffect(() => {
    document.title = `${title(route)} · sentry-memory`;
  }, [pathname]);

  if (failure) return <Shell session={null}>{<p role="alert">{failure}</p>}</Shell>;
  if (session === undefined) return <Shell session={null}>{<p class="muted">Loading…</p>}</Shell>;
  if (route.page === 'sign-in' || !session) {
    return (
      <Shell session={null}>
        <SignInPage
          reason={search.get('reason')}
          onSignedIn={(signedIn) => {
            setSession(signedIn);
            const next = search.get('next');
            navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
          }}
        />
      </Shell>
    );
  }
  return (
    <Shell session={session}>
      <Page route={route} search={search} />
    </Shell>
  );
}

function title(route: Route): string {
  switch (route.page) {
    case 'overview':
      return 'Overview';
    case 'timeline':
      return 'Timeline';
    case 'issue':
      return `Issue ${route.id}`;
    case 'release':
      return `Release ${route.version}`;
    case 'search':
      return 'Search';
    case 'sign-in':
      return 'Sign in';
    case 'not-found':
      return 'Not found';
  }
}

function Page(props: { route: Route; search: URLSearchParams }) {
  const { route, search } = props;
  switch (route.page) {
    case 'overview':
      return <OverviewPage />;
    case 'timeline':
      return <TimelinePage search={search} />;
    case 'issue':
      return <IssuePage id={route.id} />;
    case 'release':
      return <ReleasePage version={route.version} />;
    case 'search':
      return <SearchPage search={search} />;
    default:
      return (
        <>
          <h1>Page not found</h1>
          <p>
            There is no page at this address. Go to the <Link href="/">overview</Link> or{' '}
            <Link href="/search">search</Link>.
          </p>
        </>
      );
  }
}

function Shell(props: { session: Session | null; children: ComponentChildren }) {
  const { pathname } = useLocation();
  const first = useRef(true);
  useEffect(() => {
    // After a navigation in the page, keyboard and screen-reader users start at the new content.
    if (first.current) first.current = false;
    else document.getElementById('main')?.focus();
  }, [pathname]);
  const current = (href: string) =>
    (href === '/' ? pathname === '/' : pathname.startsWith(href)) ? ('page' as const) : undefined;
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/" class="brand">
          sentry-memory
        </Link>
        {props.session && (
          <>
            <nav aria-label="Pages">
              <Link href="/" aria-current={current('/')}>
                Overview
              </Link>
              <Link href="/timeline" aria-current={current('/timeline')}>
                Timeline
              </Link>
              <Link href="/search" aria-current={current('/search')}>
                Search
              </Link>
            </nav>
            <div class="who">
              <span class="muted" title="Workspace">
                {props.session.workspaceId}
              </span>
              <button
                type="button"
                onClick={() => {
                  void signOut().finally(() => {
                    location.assign('/sign-in?reason=signed-out-now');
                  });
                }}
              >
                Sign out
              </button>
            </div>
          </>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
