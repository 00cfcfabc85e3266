/**
 * The console shell: sign-in with an API key (kept in session storage), navigation by role, and
 * hash routes (`#/runs`, `#/runs/<id>`, `#/approvals`, `#/agents`, `#/usage`, `#/schedules`, `#/deployments[/<id>]`, `#/batches[/<id>]`,
 * `#/chat`), so the
 * gateway needs no server-side routes for the app.
 */
import { StrictMode, useEffect, useMemo, useState, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';
import { Api, ApiError, storedKey, storeKey, type Abilities } from './api.ts';
import { AgentsPage } from './pages/Agents.tsx';
import { BatchesPage } from './pages/Batches.tsx';
import { ApprovalsPage } from './pages/Approvals.tsx';
import { ChatPage } from './pages/Chat.tsx';
import { DeploymentsPage } from './pages/Deployments.tsx';
import { RunDetailPage } from './pages/RunDetail.tsx';
import { RunsPage } from './pages/Runs.tsx';
import { SchedulesPage } from './pages/Schedules.tsx';
import { UsagePage } from './pages/Usage.tsx';
import './styles.css';

const useHash = (): string => {
  const [hash, setHash] = useState(location.hash || '#/runs');
  useEffect(() => {
    const on = (): void => setHash(location.hash || '#/runs');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
};

function SignIn(props: { onSignedIn: (key: string, abilities: Abilities) => void; error?: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(props.error ?? null);
  const [busy, setBusy] = useState(false);
  const submit = async (ev: FormEvent): Promise<void> => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const api = new Api(key.trim());
      props.onSignedIn(key.trim(), await api.abilities());
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="signin">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="signin-h">
        <h1 id="signin-h">Switchboard console</h1>
        <p className="muted">
          Sign in with an API key (<code>switchboard keys create --name you --role operator</code>, or one
          printed by <code>npm start</code>). It is kept in this tab only.
        </p>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          placeholder="sbk_…"
          required
          autoFocus
        />
        <button type="submit" disabled={busy || !key.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

interface ServerStatus {
  version: string;
  startedAt: number;
  source: string | null;
  reload: { generation: number; reason: string; at: number } | null;
}

/**
 * Under `switchboard dev` the serving process restarts when the project changes: poll its status
 * (every 10 s while the tab is visible) and say when it was reloaded and why.
 */
function ReloadNotice(props: { api: Api }) {
  const [status, setStatus] = useState<ServerStatus | null>(null);
  useEffect(() => {
    let stopped = false;
    const poll = (): void => {
      if (document.visibilityState !== 'visible') return;
      props.api.get<ServerStatus>('/v1/status').then(
        (s) => !stopped && setStatus(s),
        () => {},
      );
    };
    poll();
    const timer = setInterval(poll, 10_000);
    addEventListener('visibilitychange', poll);
    return () => {
      stopped = true;
      clearInterval(timer);
      removeEventListener('visibilitychange', poll);
    };
  }, [props.api]);
  const reload = status?.reload;
  return (
    <p role="status" aria-live="polite" className="reload muted" data-testid="reload">
      {reload && reload.generation > 1
        ? `Reloaded ${new Date(reload.at).toLocaleTimeString()}: ${reload.reason} (restart ${reload.generation - 1})`
        : reload
          ? `switchboard dev: serving ${status?.source ?? 'the project'}, reloads on save`
          : ''}
    </p>
  );
}

function App() {
  const [key, setKey] = useState<string | null>(storedKey());
  const [abilities, setAbilities] = useState<Abilities | null>(null);
  const [restoreError, setRestoreError] = useState<string | null>(null);
  const hash = useHash();
  const api = useMemo(() => (key ? new Api(key) : null), [key]);

  // A key restored from session storage is checked again (it may have been revoked).
  useEffect(() => {
    if (!api || abilities) return;
    api.abilities().then(setAbilities, (e: unknown) => {
      storeKey(null);
      setKey(null);
      setRestoreError(e instanceof Error ? e.message : String(e));
    });
  }, [api, abilities]);

  if (!api || !key) {
    return (
      <SignIn
        error={restoreError}
        onSignedIn={(k, a) => {
          storeKey(k);
          setAbilities(a);
          setKey(k);
        }}
      />
    );
  }
  if (!abilities) return <p className="muted">Signing in…</p>;

  const nav: [string, string, boolean][] = [
    ['#/runs', 'Runs', true],
    ['#/approvals', 'Approvals', abilities.approve],
    ['#/agents', 'Agents', true],
    ['#/usage', 'Usage', true],
    ['#/schedules', 'Schedules', abilities.operate],
    ['#/deployments', 'Deployments', abilities.operate],
    ['#/batches', 'Batches', true],
    ['#/chat', 'Chat', true],
  ];
  const path = hash.slice(1);
  const runMatch = /^\/runs\/([^/]+)$/.exec(path);
  const batchMatch = /^\/batches(?:\/([^/]+))?$/.exec(path);
  const deployMatch = /^\/deployments(?:\/([^/]+))?$/.exec(path);
  let page;
  if (runMatch) page = <RunDetailPage api={api} runId={decodeURIComponent(runMatch[1]!)} />;
  else if (path === '/approvals' && abilities.approve) page = <ApprovalsPage api={api} />;
  else if (path === '/agents') page = <AgentsPage api={api} operate={abilities.operate} />;
  else if (path === '/usage') page = <UsagePage api={api} />;
  else if (path === '/schedules' && abilities.operate) page = <SchedulesPage api={api} />;
  else if (path === '/chat') page = <ChatPage api={api} />;
  else if (deployMatch && abilities.operate)
    page = (
      <DeploymentsPage
        api={api}
        operate={abilities.operate}
        selected={deployMatch[1] ? decodeURIComponent(deployMatch[1]) : null}
      />
    );
  else if (batchMatch)
    page = <BatchesPage api={api} selected={batchMatch[1] ? decodeURIComponent(batchMatch[1]) : null} />;
  else page = <RunsPage api={api} />;
  const current = runMatch
    ? '#/runs'
    : batchMatch
      ? '#/batches'
      : deployMatch
        ? '#/deployments'
        : (nav.find(([h]) => h === hash)?.[0] ?? '#/runs');

  return (
    <>
      <a
        className="skip"
        href="#main"
        onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}
      >
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Switchboard</span>
        <nav aria-label="Console">
          <ul>
            {nav
              .filter(([, , show]) => show)
              .map(([h, label]) => (
                <li key={h}>
                  <a href={h} aria-current={current === h ? 'page' : undefined}>
                    {label}
                  </a>
                </li>
              ))}
          </ul>
        </nav>
        <span className="who">
          role <strong data-testid="role">{abilities.role}</strong>
          <button
            type="button"
            onClick={() => {
              storeKey(null);
              setAbilities(null);
              setKey(null);
              location.hash = '#/runs';
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <ReloadNotice api={api} />
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
