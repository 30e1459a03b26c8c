import { useState } from 'preact/hooks';
import { ApiError, signIn } from '../api';
import type { Session } from '../api-types';

const REASONS: Record<string, string> = {
  'session-ended': 'Your session ended: it expired (sessions last 12 hours) or its API key was revoked. Sign in again.',
  'signed-out-now': 'You are signed out.',
};

/** Asks for an API key once; the server turns it into a session cookie the page cannot read. */
export function SignInPage(props: { reason: string | null; onSignedIn: (session: Session) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<{ message: string; refused: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      props.onSignedIn(await signIn(key.trim()));
    } catch (failure) {
      setError({
        message: failure instanceof Error ? failure.message : String(failure),
        refused: failure instanceof ApiError && failure.status === 401,
      });
      setBusy(false);
    }
  };
  const reason = props.reason ? REASONS[props.reason] : undefined;
  return (
    <div class="sign-in">
      <h1>Sign in</h1>
      {reason && (
        <p class="notice" role="status">
          {reason}
        </p>
      )}
      <p>
        Paste an API key of this memory. It is sent once and exchanged for a session; the page never keeps it. Make one
        with <code>sentry-memory apikey create --name "dashboard"</code>.
      </p>
      <form onSubmit={(event) => void submit(event)}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="apiKey"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          placeholder="smk_…"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          aria-describedby={error ? 'sign-in-error' : undefined}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {error && (
        <p id="sign-in-error" class="notice notice-error" role="alert">
          {error.message.replace(/\.?$/, '.')}{' '}
          {error.refused && (
            <>
              Check that you pasted the whole key, or make a new one with <code>sentry-memory apikey create</code>.
            </>
          )}
        </p>
      )}
    </div>
  );
}
