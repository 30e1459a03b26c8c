import type { ComponentChildren } from 'preact';
import type { ApiError, Loaded } from './api';

/** What a failed request means for the person looking, and what to do about it. */
export function Failure(props: { error: ApiError; what: string }) {
  const { error } = props;
  const hint =
    error.status === 404
      ? 'Check the address, or search for it. A key only sees its own workspace.'
      : error.status === 400
        ? 'Change the input as the message says.'
        : error.status === 0
          ? 'Start the server again and reload this page.'
          : 'Reload the page; if it persists, the server log says more.';
  return (
    <div class="notice notice-error" role="alert">
      <p>
        <strong>Could not load {props.what}.</strong> {error.message}
      </p>
      <p>{hint}</p>
    </div>
  );
}

/**
 * Renders `children` with the answer once it is there; a loading line or a failure meanwhile, under
 * `title` as the page's heading when the answer would have given it.
 */
export function Await<T>(props: {
  loaded: Loaded<T>;
  what: string;
  title?: string;
  children: (data: T) => ComponentChildren;
}) {
  const { loaded } = props;
  if (loaded.state === 'ready') return <>{props.children(loaded.data)}</>;
  return (
    <>
      {props.title && <h1>{props.title}</h1>}
      {loaded.state === 'failed' ? (
        <Failure error={loaded.error} what={props.what} />
      ) : (
        <p class="muted" aria-busy="true">
          Loading {props.what}…
        </p>
      )}
    </>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

export function Section(props: { title: string; id?: string; children: ComponentChildren }) {
  return (
    <section class="card" id={props.id} aria-labelledby={props.id && `${props.id}-title`}>
      <h2 id={props.id && `${props.id}-title`}>{props.title}</h2>
      {props.children}
    </section>
  );
}
