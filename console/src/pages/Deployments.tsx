/**
 * Deployments (operators and admins): the live split of each alias as a weights bar, each agent's
 * versions with their figures side by side, the deployments, and one deployment's timeline — every
 * step with its decision, the reason and the figures behind it — plus the shadow report of a shadow
 * deployment and promote / pause / resume / rollback while it is active. Everything comes from
 * `GET /v1/aliases`, `GET /v1/deployments[/:id]`, `GET /v1/agents/:name/versions` and
 * `POST /v1/deployments/:id/<action>` (docs/deployments.md).
 */
import { useState } from 'react';
import {
  ApiError,
  fmt,
  type AliasView,
  type Api,
  type DeploymentStepView,
  type DeploymentView,
  type ShadowReport,
  type VersionFigures,
  type VersionFiguresRow,
} from '../api.ts';
import { usePoll } from '../hooks.ts';

const PALETTE = ['#0b57d0', '#c05600', '#146c2e', '#6b4bc8', '#00796b', '#8a5300'];

const statusClass = (s: string): string =>
  s === 'succeeded'
    ? 'status-completed'
    : s === 'in_progress'
      ? 'status-running'
      : s === 'paused'
        ? 'status-waiting'
        : 'status-failed';

const toneOf = (decision: string): string =>
  ['alarm', 'validation_failed', 'rolled_back', 'failed'].includes(decision)
    ? 'tone-bad'
    : decision === 'paused'
      ? 'tone-warn'
      : decision === 'shifted'
        ? 'tone-route'
        : 'tone-ok';

/** A figure as people read it: rates in percent, latencies in ms, costs in dollars. */
function figure(key: string, value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (typeof value !== 'number') return typeof value === 'string' ? value : JSON.stringify(value);
  if (/rate$/i.test(key)) return fmt.pct(value);
  if (/ms$/i.test(key)) return fmt.ms(value);
  if (/cost|usd/i.test(key)) return fmt.usd(value);
  if (/ratio$/i.test(key)) return `×${value.toFixed(2)}`;
  return Number.isInteger(value) ? fmt.int(value) : value.toFixed(3);
}

const FIGURES: [keyof VersionFigures, string][] = [
  ['runs', 'Runs'],
  ['finished', 'Finished'],
  ['completed', 'Completed'],
  ['failed', 'Failed'],
  ['escalated', 'Escalated'],
  ['errorRate', 'Error rate'],
  ['toolErrorRate', 'Tool error rate'],
  ['escalationRate', 'Escalation rate'],
  ['denialRate', 'Denial rate'],
  ['p95LatencyMs', 'p95 latency'],
  ['costPerRun', 'Cost per run'],
  ['tokensPerRun', 'Tokens per run'],
];

/** The versions of a split in a stable order, each with its color. */
const colorOf = (versions: readonly string[], v: string): string =>
  PALETTE[Math.max(0, versions.indexOf(v)) % PALETTE.length] ?? '#8b95a3';

function WeightsBar(props: { weights: Record<string, number>; label: string }) {
  const entries = Object.entries(props.weights).sort(([a], [b]) => a.localeCompare(b));
  const versions = entries.map(([v]) => v);
  const text = entries.map(([v, w]) => `${v} ${w}%`).join(', ');
  return (
    <div className="weights" role="img" aria-label={`${props.label}: ${text}`} data-testid="weights">
      {entries
        .filter(([, w]) => w > 0)
        .map(([v, w]) => (
          <span
            key={v}
            className="weight"
            data-version={v}
            data-weight={w}
            style={{ width: `${w}%`, background: colorOf(versions, v) }}
          >
            {v} {w}%
          </span>
        ))}
    </div>
  );
}

/** Each version's figures in a column of its own, so they read side by side. */
function FiguresTable(props: { agent: string; rows: readonly VersionFiguresRow[] }) {
  if (props.rows.length === 0) return <p className="muted">No runs of {props.agent} yet.</p>;
  return (
    <div className="table-scroll">
      <table aria-label={`Figures of ${props.agent} by version`} className="figures">
        <thead>
          <tr>
            <th scope="col">Figure</th>
            {props.rows.map((r) => (
              <th scope="col" key={r.version} data-version={r.version}>
                {r.version.length > 16 ? `${r.version.slice(0, 12)}…` : r.version}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {FIGURES.map(([key, label]) => (
            <tr key={key} data-figure={key}>
              <th scope="row">{label}</th>
              {props.rows.map((r) => (
                <td key={r.version}>{figure(key, r.figures[key])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AgentSplit(props: { api: Api; agent: string; aliases: readonly AliasView[] }) {
  const figures = usePoll(
    (signal) =>
      props.api.get<{ agent: string; versions: VersionFiguresRow[] }>(
        `/v1/agents/${encodeURIComponent(props.agent)}/versions`,
        signal,
      ),
    5000,
    [props.agent],
  );
  return (
    <article className="split" data-agent={props.agent} aria-labelledby={`split-${props.agent}`}>
      <h2 id={`split-${props.agent}`}>{props.agent}</h2>
      {props.aliases.map((a) => (
        <div key={a.alias} className="alias" data-alias={a.alias}>
          <p>
            <strong>{a.alias}</strong>{' '}
            <span className="muted">
              {a.implicit
                ? 'implicit (the first published version)'
                : `set ${a.updatedAt ? new Date(a.updatedAt).toLocaleString() : ''} by ${a.updatedBy ?? '?'}`}
            </span>
          </p>
          <WeightsBar weights={a.weights} label={`${props.agent} ${a.alias}`} />
        </div>
      ))}
      {figures.error && (
        <p role="alert" className="error">
          {figures.error}
        </p>
      )}
      {figures.data && <FiguresTable agent={props.agent} rows={figures.data.versions} />}
    </article>
  );
}

/**
 * A step's figures: nested objects (new vs old, by version) become the columns of one table,
 * plain values a line of their own.
 */
function StepMetrics(props: { metrics: unknown }) {
  const m = props.metrics;
  if (m === null || m === undefined) return null;
  if (typeof m !== 'object' || Array.isArray(m)) return <code>{JSON.stringify(m)}</code>;
  const entries = Object.entries(m as Record<string, unknown>);
  const columns = entries.filter(
    (e): e is [string, Record<string, unknown>] =>
      typeof e[1] === 'object' && e[1] !== null && !Array.isArray(e[1]),
  );
  // An empty list (no divergent runs) says nothing the counts beside it do not: it is left out.
  const plain = entries.filter(
    ([, v]) => typeof v !== 'object' || v === null || (Array.isArray(v) && v.length > 0),
  );
  const rows = [...new Set(columns.flatMap(([, v]) => Object.keys(v)))];
  return (
    <div className="step-metrics" data-testid="step-metrics">
      {plain.length > 0 && (
        <p className="muted">
          {plain.map(([k, v]) => (
            <span key={k} className="metric">
              {k} <strong>{figure(k, v)}</strong>
            </span>
          ))}
        </p>
      )}
      {columns.length > 0 && (
        <table className="figures" aria-label="Figures behind the decision">
          <thead>
            <tr>
              <th scope="col">Figure</th>
              {columns.map(([c]) => (
                <th scope="col" key={c}>
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r}>
                <th scope="row">{r}</th>
                {columns.map(([c, v]) => (
                  <td key={c}>{figure(r, v[r])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Steps(props: { steps: readonly DeploymentStepView[] }) {
  return (
    <ol className="timeline" aria-label="Deployment steps">
      {props.steps.map((s, i) => (
        <li key={i} className={toneOf(s.decision)} data-decision={s.decision} data-step={i}>
          <div className="event-head">
            <span className="etype">{s.decision}</span>
            <span className="title" data-testid="step-reason">
              {s.reason}
            </span>
            <span className="at">{new Date(s.at).toLocaleTimeString()}</span>
          </div>
          <div className="event-body">
            <WeightsBar weights={s.weights} label={`weights after step ${i + 1}`} />
            <StepMetrics metrics={s.metrics} />
          </div>
        </li>
      ))}
    </ol>
  );
}

const runLink = (runId: string) => <a href={`#/runs/${encodeURIComponent(runId)}`}>{runId}</a>;

function ShadowReportView(props: { report: ShadowReport }) {
  const r = props.report;
  return (
    <section aria-labelledby="shadow-h" data-testid="shadow-report">
      <h3 id="shadow-h">Shadow report</h3>
      <p>
        {r.runs} shadowed runs · <strong>{r.divergent}</strong> with divergent tool calls · {r.answersDiffer}{' '}
        with a different answer
      </p>
      {r.runsReport.length > 0 && (
        <div className="table-scroll">
          <table aria-label="Shadowed runs">
            <thead>
              <tr>
                <th scope="col">Live run</th>
                <th scope="col">Shadow run</th>
                <th scope="col">Live tools</th>
                <th scope="col">Shadow tools</th>
                <th scope="col">Divergent steps</th>
                <th scope="col">Answer</th>
                <th scope="col">Approvals / escalation</th>
              </tr>
            </thead>
            <tbody>
              {r.runsReport.map((x) => (
                <tr key={x.shadowRunId} data-shadow-run={x.shadowRunId}>
                  <td>{runLink(x.liveRunId)}</td>
                  <td>
                    {runLink(x.shadowRunId)} <span className="muted">{x.status}</span>
                  </td>
                  <td className="mono">{x.liveTools.join(', ') || '—'}</td>
                  <td className="mono">{x.shadowTools.join(', ') || '—'}</td>
                  <td>
                    {x.divergentSteps.length === 0 ? (
                      '—'
                    ) : (
                      <ul className="reasons">
                        {x.divergentSteps.map((d, i) => (
                          <li key={i}>
                            step {d.step}: <span className="mono">{d.tool}</span> {JSON.stringify(d.args)} —{' '}
                            {d.reason}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td>{x.answersEqual ? 'same' : <span title={x.shadowAnswer ?? ''}>differs</span>}</td>
                  <td>
                    live {String(x.liveApprovals)} / shadow {String(x.shadowApprovalsNeeded)}
                    {x.liveEscalated || x.shadowEscalated
                      ? ` · escalated: live ${x.liveEscalated ? 'yes' : 'no'}, shadow ${x.shadowEscalated ? 'yes' : 'no'}`
                      : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

type Action = 'promote' | 'pause' | 'resume' | 'rollback';

/** The actions a deployment in this status takes (the gateway refuses the others anyway). */
const actionsFor = (status: string): Action[] =>
  status === 'in_progress'
    ? ['promote', 'pause', 'rollback']
    : status === 'paused'
      ? ['promote', 'resume', 'rollback']
      : [];

function DeploymentDetail(props: { api: Api; id: string; operate: boolean; onChange: () => void }) {
  const d = usePoll(
    (signal) => props.api.get<DeploymentView>(`/v1/deployments/${encodeURIComponent(props.id)}`, signal),
    2000,
    [props.id],
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const act = async (action: Action): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      const after = await props.api.post<DeploymentView>(
        `/v1/deployments/${encodeURIComponent(props.id)}/${action}`,
        {},
      );
      setNotice(`${action}: now ${after.status}`);
      d.reload();
      props.onChange();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const v = d.data;
  return (
    <section aria-labelledby="deployment-h" data-deployment={props.id}>
      <h2 id="deployment-h">
        {props.id}{' '}
        {v && (
          <span className={`badge ${statusClass(v.status)}`} data-testid="deployment-status">
            {v.status}
          </span>
        )}
      </h2>
      {d.error && (
        <p role="alert" className="error">
          {d.error}
        </p>
      )}
      {v && (
        <>
          <p className="muted">
            {v.agent} ({v.alias}): {v.from} → {v.to} · <code>{v.strategy}</code> · by {v.createdBy} · started{' '}
            {new Date(v.createdAt).toLocaleString()}
          </p>
          {props.operate && actionsFor(v.status).length > 0 && (
            <div className="actions">
              {actionsFor(v.status).map((a) => (
                <button
                  key={a}
                  type="button"
                  disabled={busy}
                  className={a === 'rollback' ? 'reject' : a === 'promote' ? 'approve' : undefined}
                  onClick={() => void act(a)}
                >
                  {a[0]?.toUpperCase()}
                  {a.slice(1)}
                </button>
              ))}
            </div>
          )}
          {notice && (
            <p role="status" className="notice">
              {notice}
            </p>
          )}
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <h3>Timeline</h3>
          <Steps steps={v.steps} />
          {v.shadow && <ShadowReportView report={v.shadow} />}
        </>
      )}
    </section>
  );
}

function DeploymentList(props: { deployments: readonly DeploymentView[]; selected: string | null }) {
  return (
    <div className="table-scroll">
      <table aria-label="Deployments">
        <thead>
          <tr>
            <th scope="col">Deployment</th>
            <th scope="col">Agent</th>
            <th scope="col">From → to</th>
            <th scope="col">Strategy</th>
            <th scope="col">Status</th>
            <th scope="col">Last step</th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {props.deployments.map((d) => {
            const last = d.steps[d.steps.length - 1];
            return (
              <tr
                key={d.deploymentId}
                data-deployment-row={d.deploymentId}
                aria-selected={props.selected === d.deploymentId}
              >
                <td>
                  <a href={`#/deployments/${encodeURIComponent(d.deploymentId)}`}>{d.deploymentId}</a>
                </td>
                <td>
                  {d.agent} <span className="muted">({d.alias})</span>
                </td>
                <td>
                  {d.from} → {d.to}
                </td>
                <td>
                  <code>{d.strategy}</code>
                </td>
                <td>
                  <span className={`badge ${statusClass(d.status)}`}>{d.status}</span>
                </td>
                <td>{last ? `${last.decision}: ${last.reason}` : '—'}</td>
                <td>{new Date(d.createdAt).toLocaleString()}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function DeploymentsPage(props: { api: Api; operate: boolean; selected: string | null }) {
  const aliases = usePoll(
    (signal) => props.api.get<{ aliases: AliasView[] }>('/v1/aliases', signal),
    3000,
    [],
  );
  const list = usePoll(
    (signal) => props.api.get<{ deployments: DeploymentView[] }>('/v1/deployments', signal),
    3000,
    [],
  );
  const byAgent = new Map<string, AliasView[]>();
  for (const a of aliases.data?.aliases ?? []) byAgent.set(a.agent, [...(byAgent.get(a.agent) ?? []), a]);
  const deployments = list.data?.deployments ?? [];
  // Newest first: without a selection the newest deployment is shown.
  const selected = props.selected ?? deployments[0]?.deploymentId ?? null;
  return (
    <section aria-labelledby="deployments-h">
      <h1 id="deployments-h">Deployments</h1>
      {[aliases.error, list.error].filter(Boolean).map((e) => (
        <p role="alert" className="error" key={e}>
          {e}
        </p>
      ))}
      <h2>Live split</h2>
      {aliases.data && byAgent.size === 0 && (
        <p className="muted">
          No aliases yet: give an agent a <code>version</code> label in switchboard.config.ts and start it.
        </p>
      )}
      <div className="split-grid">
        {[...byAgent].map(([agent, as]) => (
          <AgentSplit key={agent} api={props.api} agent={agent} aliases={as} />
        ))}
      </div>
      <h2>Deployments</h2>
      {list.data && deployments.length === 0 && (
        <p className="muted">
          No deployments yet (
          <code>switchboard deploy &lt;agent&gt; --to &lt;version&gt; --strategy canary:10:5m</code>).
        </p>
      )}
      {deployments.length > 0 && <DeploymentList deployments={deployments} selected={selected} />}
      {selected && (
        <DeploymentDetail
          key={selected}
          api={props.api}
          id={selected}
          operate={props.operate}
          onChange={() => {
            list.reload();
            aliases.reload();
          }}
        />
      )}
    </section>
  );
}
