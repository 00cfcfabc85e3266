/**
 * The run page's replay: re-execute the run from its journal on the gateway (model and tool outputs
 * served from the recording — no model call, no side effect) and show the verdict, the first
 * divergence with its step, and the side-by-side diff.
 */
import { useEffect, useState } from 'react';
import { fmt, type Api, type ReplayResult } from './api.ts';

export function ReplayPanel(props: { api: Api; runId: string }) {
  const { api, runId } = props;
  const [result, setResult] = useState<ReplayResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setResult(null);
    setError(null);
  }, [runId]);

  const replay = (): void => {
    setBusy(true);
    setError(null);
    api
      .post<ReplayResult>(`/v1/runs/${encodeURIComponent(runId)}/replay`, {})
      .then(setResult, (e: unknown) => {
        setResult(null);
        setError(e instanceof Error ? e.message : String(e));
      })
      .finally(() => setBusy(false));
  };

  const t = result?.totals;
  const d = result?.divergence;
  return (
    <section className="replay" aria-labelledby="replay-h">
      <h2 id="replay-h">Replay</h2>
      <p className="muted" id="replay-help">
        Re-executes the run with today&apos;s code over its journal: model and tool outputs are served from
        the recording, so nothing is called and nothing changes.
      </p>
      <button type="button" onClick={replay} disabled={busy} aria-describedby="replay-help">
        {busy ? 'Replaying…' : result ? 'Replay again' : 'Replay'}
      </button>
      <div aria-live="polite" aria-busy={busy} data-testid="replay-verdict" className="replay-result">
        {error && <p className="error">Replay failed: {error}</p>}
        {result && t && (
          <>
            {d ? (
              <p className="verdict verdict-diverged">
                <strong>Diverges at step {d.step}</strong> (event #{d.seq}
                {d.runId !== result.runId && (
                  <>
                    {' '}
                    of delegated run <a href={`#/runs/${encodeURIComponent(d.runId)}`}>{d.runId}</a>
                  </>
                )}
                , agent {d.agent ?? '–'}, {d.kind}): {d.message}
              </p>
            ) : (
              <p className="verdict verdict-matches">
                <strong>✔ Replay matches the recording</strong>
              </p>
            )}
            <p className="muted">
              {fmt.int(t.runs)} run(s), {fmt.int(t.decisions)} decisions checked,{' '}
              {fmt.int(t.modelOutputsServed)} model outputs and {fmt.int(t.toolOutputsServed)} tool outputs
              served from the journal, {fmt.int(t.modelCallsMade)} model calls, 0 tool executions.
            </p>
            {result.notes.length > 0 && (
              <ul className="replay-notes">
                {result.notes.map((n) => (
                  <li key={n}>{n}</li>
                ))}
              </ul>
            )}
            {d && (
              <>
                <h3 id="replay-diff-h">Recorded vs replayed</h3>
                <pre className="replay-diff" aria-labelledby="replay-diff-h" tabIndex={0}>
                  {d.diff}
                </pre>
              </>
            )}
            <details>
              <summary>Full report</summary>
              <pre className="replay-diff" tabIndex={0}>
                {result.report}
              </pre>
            </details>
          </>
        )}
      </div>
    </section>
  );
}
