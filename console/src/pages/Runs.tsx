/** The runs list: live (polled), with status and agent filters and a search box. */
import { useMemo, useRef, useState } from 'react';
import { fmt, type Api, type Run, type RunSummary } from '../api.ts';
import { usePoll } from '../hooks.ts';
import { RUN_STATUSES } from '../../../src/core/run-state.ts';

/** Every run status, from the runtime's own list; '' is "any". */
const STATUSES = ['', ...RUN_STATUSES];

export function RunsPage(props: { api: Api }) {
  const [status, setStatus] = useState('');
  const [agent, setAgent] = useState('');
  const [q, setQ] = useState('');
  // Totals come from each run; refetched only when the run changed.
  const details = useRef(new Map<string, { updatedAt: number; run: Run }>());
  const { data, error } = usePoll(
    async (signal) => {
      const qs = new URLSearchParams({ limit: '100', ...(status ? { status } : {}) });
      const { runs } = await props.api.get<{ runs: RunSummary[] }>(`/v1/runs?${qs}`, signal);
      await Promise.all(
        runs.map(async (r) => {
          const known = details.current.get(r.runId);
          if (known && known.updatedAt === r.updatedAt) return;
          const run = await props.api.get<Run>(`/v1/runs/${encodeURIComponent(r.runId)}`, signal);
          details.current.set(r.runId, { updatedAt: r.updatedAt, run });
        }),
      );
      return runs;
    },
    2000,
    [status],
  );
  const agents = useMemo(
    () => [...new Set((data ?? []).map((r) => r.agent).filter((a): a is string => !!a))].sort(),
    [data],
  );
  const needle = q.trim().toLowerCase();
  const rows = (data ?? []).filter(
    (r) =>
      (!agent || r.agent === agent) &&
      (!needle ||
        [
          r.runId,
          r.agent ?? '',
          r.sessionId,
          details.current.get(r.runId)?.run.input ?? '',
          r.summary ?? '',
          r.actorId ?? '',
        ].some((s) => s.toLowerCase().includes(needle))),
  );
  return (
    <section aria-labelledby="runs-h">
      <h1 id="runs-h">Runs</h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || 'any'}
              </option>
            ))}
          </select>
        </label>
        <label>
          Agent
          <select value={agent} onChange={(e) => setAgent(e.target.value)}>
            <option value="">any</option>
            {agents.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </label>
        <label className="grow">
          Search
          <input
            type="search"
            value={q}
            placeholder="run id, session, agent, text…"
            onChange={(e) => setQ(e.target.value)}
          />
        </label>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <p className="muted" aria-live="polite">
        {data ? `${rows.length} of ${data.length} runs · updates every 2 s` : 'Loading…'}
      </p>
      <div className="table-scroll">
        <table className="runs">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Run</th>
              <th scope="col">Agent</th>
              <th scope="col">Request</th>
              <th scope="col">Outcome</th>
              <th scope="col">Session</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Tokens</th>
              <th scope="col">Cost</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const run = details.current.get(r.runId)?.run;
              const t = run?.totals;
              return (
                <tr key={r.runId} data-run-id={r.runId}>
                  <td>
                    <span className={`badge status-${r.status}`}>{r.status}</span>
                  </td>
                  <td>
                    <a href={`#/runs/${r.runId}`}>{r.runId}</a>
                    {r.parentRunId && <span className="muted"> (delegated)</span>}
                  </td>
                  <td>{r.agent ?? '–'}</td>
                  {/* The request as submitted (a waiting run has one too); the outcome beside it. */}
                  <td className="summary request">{run?.input ?? ''}</td>
                  <td className="summary">{r.summary ?? ''}</td>
                  <td className="mono">{r.sessionId}</td>
                  <td>{fmt.time(r.createdAt)}</td>
                  <td>{fmt.ms(t?.durationMs || r.updatedAt - r.createdAt)}</td>
                  <td>{t ? fmt.int(t.inputTokens + t.outputTokens) : '–'}</td>
                  <td>{t ? fmt.usd(t.costUsd) : '–'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
