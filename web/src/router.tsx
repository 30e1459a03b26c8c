import type { AnchorHTMLAttributes, ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** The dashboard's pages by URL (history API; the server answers index.html for each of these paths). */
export type Route =
  | { page: 'overview' }
  | { page: 'timeline' }
  | { page: 'issue'; id: string }
  | { page: 'release'; version: string }
  | { page: 'search' }
  | { page: 'sign-in' }
  | { page: 'not-found' };

export function matchRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '') return { page: 'overview' };
  if (pathname === '/timeline') return { page: 'timeline' };
  if (pathname === '/search') return { page: 'search' };
  if (pathname === '/sign-in') return { page: 'sign-in' };
  const issue = /^\/issues\/([^/]+)$/.exec(pathname);
  if (issue) return { page: 'issue', id: decodeURIComponent(issue[1]) };
  // Versions may hold slashes (monorepo tags) when encoded; take the rest of the path.
  const release = /^\/releases\/(.+)$/.exec(pathname);
  if (release) return { page: 'release', version: decodeURIComponent(release[1]) };
  return { page: 'not-found' };
}

export const issuePath = (id: string) => `/issues/${encodeURIComponent(id)}`;
export const releasePath = (version: string) => `/releases/${encodeURIComponent(version)}`;

const NAVIGATED = 'dashboard:navigate';

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  dispatchEvent(new Event(NAVIGATED));
}

/** The current location (path and query), re-rendering on every navigation, back and forward included. */
export function useLocation(): { pathname: string; search: URLSearchParams } {
  const [href, setHref] = useState(location.href);
  useEffect(() => {
    const update = () => setHref(location.href);
    addEventListener('popstate', update);
    addEventListener(NAVIGATED, update);
    return () => {
      removeEventListener('popstate', update);
      removeEventListener(NAVIGATED, update);
    };
  }, []);
  const url = new URL(href);
  return { pathname: url.pathname, search: url.searchParams };
}

/** A real link (open in a new tab works); a plain click navigates in the page. */
export function Link(props: { href: string; children: ComponentChildren } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const { href, children, ...rest } = props;
  const onClick = (event: MouseEvent) => {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return;
    event.preventDefault();
    navigate(href);
  };
  return (
    <a {...rest} href={href} onClick={onClick}>
      {children}
    </a>
  );
}
