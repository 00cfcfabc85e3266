/** Usage: tokens and cost by agent, model or actor over a window, as a bar chart and a table. */
import { useState } from 'react';
import { ApiError, fmt, type Api, type JournalEvent, type RunSummary } from '../api.ts';
import { usageOf, type UsageRow } from '../derive.ts';
import { usePoll } from '../hooks.ts';

const WINDOWS: Record<string, number> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 604_800_000 };

function Bars(props: { rows: UsageRow[]; by: string }) {
  const max = Math.max(1, ...props.rows.map((r) => r.inputTokens + r.outputTokens));
  const rowH = 30;
  const labelW = 150;
  const width = 640;
  const barW = width - labelW - 150;
  return (
    <svg
      className="bars"
      width={width}
      height={props.rows.length * rowH + 24}
      role="img"
      aria-label={`Tokens by ${props.by}: ${props.rows.map((r) => `${r.key} ${r.inputTokens + r.outputTokens}`).join(', ')}`}
    >
      {props.rows.map((r, i) => {
        const wi = (r.inputTokens / max) * barW;
        const wo = (r.outputTokens / max) * barW;
        const y = i * rowH + 4;
        return (
          <g key={r.key}>
            <text x={labelW - 8} y={y + 16} textAnchor="end">
              {r.key}
            </text>
            <rect x={labelW} y={y} width={wi} height={20} className="bar-in" />
            <rect x={labelW + wi} y={y} width={wo} height={20} className="bar-out" />
            <text x={labelW + wi + wo + 6} y={y + 15}>
              {fmt.int(r.inputTokens + r.outputTokens)} tok · {fmt.usd(r.costUsd)}
            </text>
          </g>
        );
      })}
      <g transform={`translate(${labelW},${props.rows.length * rowH + 8})`}>
        <rect width={12} height={10} className="bar-in" />
        <text x={16} y={10}>
          input
        </text>
        <rect x={70} width={12} height={10} className="bar-out" />
        <text x={86} y={10}>
          output
        </text>
      </g>
    </svg>
  );
}

export function UsagePage(props: { api: Api }) {
  const [by, setBy] = useState<'agent' | 'model' | 'actor'>('agent');
  const [since, setSince] = useState('24h');
  const usage = usePoll(
    async (signal) => {
      try {
        const r = await props.api.get<{ rows: UsageRow[] }>(`/v1/usage?by=${by}&since=${since}`, signal);
        return { rows: r.rows, scope: 'every actor' };
      } catch (e) {
        if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 403)) throw e;
      }
      // No system-wide usage for this key: add up the caller's own runs.
      const { runs } = await props.api.get<{ runs: RunSummary[] }>('/v1/runs?limit=200', signal);
      const sinceMs = Date.now() - (WINDOWS[since] ?? 86_400_000);
      const journals = await Promise.all(
        runs
          .filter((r) => r.updatedAt >= sinceMs)
          .map((r) =>
            props.api.get<JournalEvent[]>(`/v1/runs/${encodeURIComponent(r.runId)}/events`, signal),
          ),
      );
      return { rows: usageOf(journals, by, sinceMs), scope: 'your runs' };
    },
    10_000,
    [by, since],
  );
  const rows = usage.data?.rows ?? [];
  return (
    <section aria-labelledby="usage-h">
      <h1 id="usage-h">Usage</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Group by
          <select value={by} onChange={(e) => setBy(e.target.value as typeof by)}>
            <option value="agent">agent</option>
            <option value="model">model</option>
            <option value="actor">actor</option>
          </select>
        </label>
        <label>
          Window
          <select value={since} onChange={(e) => setSince(e.target.value)}>
            {Object.keys(WINDOWS).map((w) => (
              <option key={w}>{w}</option>
            ))}
          </select>
        </label>
      </form>
      {usage.error && (
        <p role="alert" className="error">
          {usage.error}
        </p>
      )}
      <p className="muted">{usage.data ? `Scope: ${usage.data.scope}` : 'Loading…'}</p>
      {rows.length > 0 ? <Bars rows={rows} by={by} /> : usage.data && <p>No model calls in this window.</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">{by}</th>
            <th scope="col">Runs</th>
            <th scope="col">Model calls</th>
            <th scope="col">Input tokens</th>
            <th scope="col">Output tokens</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key}>
              <th scope="row">{r.key}</th>
              <td>{r.runs}</td>
              <td>{r.modelCalls}</td>
              <td>{fmt.int(r.inputTokens)}</td>
              <td>{fmt.int(r.outputTokens)}</td>
              <td>{fmt.usd(r.costUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
