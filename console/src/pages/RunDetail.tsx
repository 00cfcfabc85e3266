/**
 * One run: its status and totals, a replay button (verdict and diff), the orchestration graph
 * (nodes filter the timeline to their events) and the journal timeline, both live while the run
 * works (SSE).
 */
import { useEffect, useMemo, useState } from 'react';
import { fmt, type Api, type JournalEvent, type Run } from '../api.ts';
import { eventsOfNode, loadRunGraph, type OrchestrationGraph } from '../derive.ts';
import { Graph } from '../Graph.tsx';
import { ReplayPanel } from '../Replay.tsx';
import { Timeline } from '../Timeline.tsx';

const TERMINAL = new Set(['run.completed', 'run.failed', 'run.cancelled']);

export function RunDetailPage(props: { api: Api; runId: string }) {
  const { api, runId } = props;
  const [run, setRun] = useState<Run | null>(null);
  const [events, setEvents] = useState<JournalEvent[]>([]);
  const [graph, setGraph] = useState<OrchestrationGraph | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(false);

  useEffect(() => {
    const ctl = new AbortController();
    setEvents([]);
    setRun(null);
    setGraph(null);
    setSelected(null);
    setError(null);
    const refresh = (): void => {
      api.get<Run>(`/v1/runs/${encodeURIComponent(runId)}`, ctl.signal).then(setRun, (e: unknown) => {
        if (!ctl.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      });
    };
    refresh();
    setLive(true);
    api
      .follow(
        runId,
        0,
        (e) => {
          setEvents((list) => (list.some((x) => x.seq === e.seq) ? list : [...list, e]));
          // The run's projection changes with its state: re-read it on the events that move it.
          if (TERMINAL.has(e.type) || e.type.startsWith('approval.') || e.type === 'route.decided') refresh();
        },
        ctl.signal,
      )
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      })
      .finally(() => {
        if (!ctl.signal.aborted) {
          setLive(false);
          refresh();
        }
      });
    return () => ctl.abort();
  }, [api, runId]);

  // Rebuild the graph when the journal grows (debounced: a burst of events is one rebuild).
  useEffect(() => {
    if (events.length === 0) return;
    let cancelled = false;
    const t = setTimeout(() => {
      loadRunGraph(api, runId, events).then(
        (g) => !cancelled && setGraph(g),
        (e: unknown) => !cancelled && setError(e instanceof Error ? e.message : String(e)),
      );
    }, 150);
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
  }, [api, runId, events]);

  const highlight = useMemo(() => (selected ? eventsOfNode(selected, events) : null), [selected, events]);
  const progress = events.filter((e) => e.type === 'progress');
  const lastProgress = progress[progress.length - 1];
  const t = run?.totals;

  return (
    <section aria-labelledby="run-h">
      <p>
        <a href="#/runs">← Runs</a>
      </p>
      <h1 id="run-h">
        Run <span className="mono">{runId}</span>
      </h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="cards" aria-live="polite">
        <div className="card">
          <div className="card-k">Status</div>
          <div className="card-v">
            <span className={`badge status-${run?.status ?? 'unknown'}`} data-testid="run-status">
              {run?.status ?? '…'}
            </span>
            {live && <span className="live"> ● live</span>}
          </div>
        </div>
        <div className="card">
          <div className="card-k">Agent</div>
          <div className="card-v">{run?.agent ?? '–'}</div>
        </div>
        <div className="card">
          <div className="card-k">Tokens</div>
          <div className="card-v">
            {t ? `${fmt.int(t.inputTokens)} in / ${fmt.int(t.outputTokens)} out` : '–'}
          </div>
        </div>
        <div className="card">
          <div className="card-k">Cost</div>
          <div className="card-v">{fmt.usd(t?.costUsd)}</div>
        </div>
        <div className="card">
          <div className="card-k">Steps · model · tools</div>
          <div className="card-v">{t ? `${t.steps} · ${t.modelCalls} · ${t.toolCalls}` : '–'}</div>
        </div>
        <div className="card">
          <div className="card-k">Duration</div>
          <div className="card-v">
            {fmt.ms(t?.durationMs || (run ? run.updatedAt - run.createdAt : null))}
          </div>
        </div>
      </div>
      {lastProgress?.type === 'progress' && run?.status !== 'completed' && (
        <p className="progress-line">{lastProgress.data.message}</p>
      )}
      {run?.output && (
        <div className="output">
          <h2>Answer</h2>
          <blockquote>{run.output}</blockquote>
        </div>
      )}
      {run?.error && <p className="error">{`${run.error.code}: ${run.error.message}`}</p>}
      {run?.status === 'escalated' && run.escalation && (
        <p className="progress-line" data-testid="run-escalation">
          {`A person now owns this run (escalated by ${run.escalation.by}): ${run.escalation.reason}${run.escalation.summary ? ` — ${run.escalation.summary}` : ''}`}
        </p>
      )}
      {run && <ReplayPanel api={api} runId={runId} />}
      <h2 id="graph-h">Orchestration graph</h2>
      <p className="muted">Select a node to show only its events in the timeline.</p>
      {graph ? (
        <Graph
          graph={graph}
          selected={selected}
          onSelect={setSelected}
          label="Orchestration graph of the run"
        />
      ) : (
        <p className="muted">Loading graph…</p>
      )}
      <h2>
        Timeline{' '}
        {selected && (
          <button type="button" className="link" onClick={() => setSelected(null)}>
            showing {selected} — show all
          </button>
        )}
      </h2>
      <Timeline events={events} highlight={highlight} />
    </section>
  );
}
