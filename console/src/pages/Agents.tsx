/** Agents: health over the last 15 minutes, queue depth, tools with their risk classes, and the system graph. */
import { ApiError, fmt, type AgentInfo, type Api } from '../api.ts';
import type { OrchestrationGraph } from '../derive.ts';
import { Graph } from '../Graph.tsx';
import { usePoll } from '../hooks.ts';

const healthOf = (a: AgentInfo) =>
  typeof a.health === 'string'
    ? {
        status: a.health,
        reasons: [] as string[],
        successRate: null,
        p50: null,
        p95: null,
        retryRate: null,
        denialRate: null,
      }
    : {
        status: a.health.status,
        reasons: a.health.reasons,
        successRate: a.health.successRate,
        p50: a.health.latencyMs.p50,
        p95: a.health.latencyMs.p95,
        retryRate: a.health.retryRate,
        denialRate: a.health.denialRate,
      };

export function AgentsPage(props: { api: Api; operate: boolean }) {
  const agents = usePoll((signal) => props.api.get<{ agents: AgentInfo[] }>('/v1/agents', signal), 5000, []);
  const graph = usePoll(
    async (signal) => {
      if (!props.operate) return null;
      try {
        return await props.api.get<OrchestrationGraph>('/v1/graph?since=24h', signal);
      } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 403)) return null;
        throw e;
      }
    },
    10_000,
    [props.operate],
  );
  return (
    <section aria-labelledby="agents-h">
      <h1 id="agents-h">Agents</h1>
      {agents.error && (
        <p role="alert" className="error">
          {agents.error}
        </p>
      )}
      <div className="agent-grid">
        {(agents.data?.agents ?? []).map((a) => {
          const h = healthOf(a);
          return (
            <article key={a.name} className="agent" data-agent={a.name} aria-labelledby={`agent-${a.name}`}>
              <h2 id={`agent-${a.name}`}>
                {a.name}{' '}
                <span className={`badge health-${h.status}`} data-testid="agent-health">
                  {h.status}
                </span>
              </h2>
              <p className="muted">{a.responsibility}</p>
              <dl className="stats">
                <div>
                  <dt>Success</dt>
                  <dd>{fmt.pct(h.successRate)}</dd>
                </div>
                <div>
                  <dt>p50 / p95</dt>
                  <dd>
                    {fmt.ms(h.p50)} / {fmt.ms(h.p95)}
                  </dd>
                </div>
                <div>
                  <dt>Retries</dt>
                  <dd>{fmt.pct(h.retryRate)}</dd>
                </div>
                <div>
                  <dt>Denials</dt>
                  <dd>{fmt.pct(h.denialRate)}</dd>
                </div>
                <div>
                  <dt>Queue</dt>
                  <dd>
                    {a.queueDepth} (×{a.concurrency})
                  </dd>
                </div>
              </dl>
              {h.reasons.length > 0 && (
                <ul className="reasons">
                  {h.reasons.map((r) => (
                    <li key={r}>{r}</li>
                  ))}
                </ul>
              )}
              <h3>Tools</h3>
              <ul className="tools">
                {(a.tools_detail ?? a.tools.map((name) => ({ name, risk: '', description: '' }))).map((t) => (
                  <li key={t.name} title={t.description}>
                    <span className="mono">{t.name}</span>
                    {t.risk && <span className={`badge risk-${t.risk}`}>{t.risk}</span>}
                  </li>
                ))}
              </ul>
              {a.delegates.length > 0 && <p className="muted">Delegates to: {a.delegates.join(', ')}</p>}
              <p className="muted mono">version {a.version.slice(0, 12)}</p>
            </article>
          );
        })}
      </div>
      {graph.data && (
        <>
          <h2>System graph, last 24 hours ({graph.data.runs} runs)</h2>
          <Graph graph={graph.data} label="Aggregate orchestration graph of the last 24 hours" />
        </>
      )}
    </section>
  );
}
