/**
 * A run's journal as a timeline: one entry per event, with what an operator asks about each —
 * routing candidates and their per-signal scores against the threshold, model tokens and latency,
 * tool arguments and results, retries, denials, approvals, delegations and memory loads.
 */
import type { ReactNode } from 'react';
import { formatPair } from '../../src/routing/format.ts';
import { fmt, type JournalEvent } from './api.ts';

interface Candidate {
  name: string;
  scores: Record<string, number>;
  fused: number;
}

const json = (v: unknown): string => JSON.stringify(v, null, 2) ?? 'undefined';

function Json(props: { value: unknown; summary: string; open?: boolean }) {
  return (
    <details open={props.open}>
      <summary>{props.summary}</summary>
      <pre>{json(props.value)}</pre>
    </details>
  );
}

function Candidates(props: {
  list: Candidate[];
  chosen?: string[];
  threshold?: number | undefined;
  caption: string;
}) {
  const signals = [...new Set(props.list.flatMap((c) => Object.keys(c.scores)))];
  return (
    <table className="scores">
      <caption>
        {props.caption}
        {props.threshold !== undefined ? ` (threshold ${props.threshold.toFixed(2)})` : ''}
      </caption>
      <thead>
        <tr>
          <th scope="col">candidate</th>
          {signals.map((s) => (
            <th scope="col" key={s}>
              {s}
            </th>
          ))}
          <th scope="col">fused</th>
        </tr>
      </thead>
      <tbody>
        {props.list.map((c) => {
          const chosen = props.chosen?.includes(c.name);
          return (
            <tr key={c.name} className={chosen ? 'chosen' : undefined}>
              <th scope="row">
                {c.name}
                {chosen ? ' ✓' : ''}
              </th>
              {signals.map((s) => (
                <td key={s}>{c.scores[s] === undefined ? '–' : c.scores[s].toFixed(3)}</td>
              ))}
              <td>{c.fused.toFixed(3)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The one-line title and the details of an event. */
export function describe(e: JournalEvent): { title: string; tone: string; body?: ReactNode } {
  switch (e.type) {
    case 'run.submitted':
      return {
        title: `Submitted by ${e.data.actorId} via ${e.data.channel}`,
        tone: 'info',
        body: (
          <>
            <blockquote>{e.data.input}</blockquote>
            <p className="muted">
              session {e.data.sessionId} · depth {e.data.depth}
              {e.data.parentRunId ? ` · parent ${e.data.parentRunId}` : ''}
            </p>
          </>
        ),
      };
    case 'route.decided':
      return {
        title: `Routed to ${e.data.agent} (${e.data.method}, confidence ${formatPair(e.data.confidence, e.data.threshold ?? e.data.confidence)[0]})`,
        tone: 'route',
        body: (
          <>
            <p>{e.data.reason}</p>
            {e.data.candidates.length > 0 && (
              <Candidates
                list={e.data.candidates}
                chosen={[e.data.agent]}
                threshold={e.data.threshold}
                caption="Agent candidates"
              />
            )}
          </>
        ),
      };
    case 'route.escalated':
      return {
        title: `Escalated by the router: confidence ${formatPair(e.data.confidence, e.data.threshold).join(' < ')}`,
        tone: 'warn',
        body: (
          <>
            <p>{e.data.reason}</p>
            <Candidates list={e.data.candidates} threshold={e.data.threshold} caption="Agent candidates" />
          </>
        ),
      };
    case 'agent.started':
      return {
        title: `Agent ${e.data.agent} started (version ${e.data.version.slice(0, 12)})`,
        tone: 'info',
      };
    case 'memory.loaded':
      return {
        title: `Memory loaded: ${e.data.turns} turns, ${e.data.tokens} tokens (${e.data.status})`,
        tone: 'info',
      };
    case 'memory.persisted':
      return { title: `Memory persisted: ${e.data.messages} messages`, tone: 'info' };
    case 'memory.failed':
      return { title: `Memory failed: ${e.data.error.message}`, tone: 'bad' };
    case 'tools.retrieved':
      return {
        title: `Tools shown: ${e.data.shown.join(', ') || 'none'} (of ${e.data.totalAvailable})`,
        tone: 'route',
        body: (
          <>
            <Candidates
              list={e.data.candidates}
              chosen={e.data.shown}
              threshold={e.data.threshold}
              caption="Tool candidates"
            />
            {e.data.linked?.length ? (
              <ul className="linked" aria-label="Linked tools">
                {e.data.linked.map((l) => (
                  <li key={`${l.name ?? ''}:${l.from}:${l.via}`}>
                    {l.name} ← {l.from} ({l.via}
                    {l.argument ? ` ${l.argument}` : ''})
                  </li>
                ))}
              </ul>
            ) : null}
          </>
        ),
      };
    case 'model.requested': {
      // What fitting the prompt to the model's context left out (runtime/context-budget.ts).
      const c = e.data.context;
      const trimmed = c
        ? [
            c.droppedMemoryTurns ? `${c.droppedMemoryTurns} memory turns left out` : '',
            ...(c.truncated ?? []).map(
              (t) =>
                `${t.tool} result of ${t.callId} cut to ${fmt.int(t.keptChars)} of ${fmt.int(t.chars)} characters`,
            ),
          ].filter(Boolean)
        : [];
      return {
        title: `Model call to ${e.data.modelId}: ${e.data.messages} messages, tools ${e.data.tools.join(', ') || 'none'}${c ? `, ${fmt.int(c.tokens)} of ${fmt.int(c.limit)} prompt tokens` : ''}`,
        tone: 'model',
        ...(trimmed.length ? { body: <p className="trimmed">Trimmed to fit: {trimmed.join('; ')}</p> } : {}),
      };
    }
    case 'model.responded':
      return {
        title: `Model answered: ${fmt.int(e.data.usage.inputTokens)} in / ${fmt.int(e.data.usage.outputTokens)} out tokens, ${fmt.ms(e.data.latencyMs)}, ${e.data.finishReason}`,
        tone: 'model',
        body: (
          <>
            {e.data.text && <blockquote>{e.data.text}</blockquote>}
            {e.data.toolCalls.map((c) => (
              <Json key={c.callId} value={c.input} summary={`asks for ${c.toolName}`} />
            ))}
          </>
        ),
      };
    case 'tool.started':
      return {
        title: `Tool ${e.data.tool} started (attempt ${e.data.attempt})${e.data.recovery ? `, ${e.data.recovery}` : ''}`,
        tone: 'tool',
        body: (
          <>
            <Json value={e.data.args} summary="arguments" open />
            <p className="muted">idempotency key {e.data.idempotencyKey}</p>
          </>
        ),
      };
    case 'tool.succeeded':
      return {
        title: `Tool ${e.data.tool} succeeded (attempt ${e.data.attempt})`,
        tone: 'ok',
        body: <Json value={e.data.result} summary="result" />,
      };
    case 'tool.failed':
      return {
        title:
          e.data.nextAttemptAt !== undefined
            ? `Tool ${e.data.tool} failed (attempt ${e.data.attempt}): retry at ${fmt.time(e.data.nextAttemptAt)}`
            : `Tool ${e.data.tool} failed (attempt ${e.data.attempt}), final`,
        tone: e.data.nextAttemptAt !== undefined ? 'warn' : 'bad',
        body: <p>{`${e.data.error.code}: ${e.data.error.message}`}</p>,
      };
    case 'tool.denied':
      return {
        title: `Tool ${e.data.tool} denied: ${e.data.reason}`,
        tone: 'bad',
        body: <p>{e.data.message}</p>,
      };
    case 'approval.requested':
      return {
        title: `Approval requested for ${e.data.tool} (${e.data.approvalId})`,
        tone: 'human',
        body: (
          <>
            <ul>
              {e.data.reasons.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
            <Json value={e.data.args} summary="arguments" open />
            <p className="muted">expires {new Date(e.data.expiresAt).toLocaleString()}</p>
          </>
        ),
      };
    case 'approval.decided':
      return {
        title: `Approval ${e.data.decision} by ${e.data.approver}`,
        tone: e.data.decision === 'approved' ? 'ok' : 'bad',
        ...(e.data.comment ? { body: <blockquote>{e.data.comment}</blockquote> } : {}),
      };
    case 'approval.refused':
      return { title: `Approval attempt refused (${e.data.by}): ${e.data.reason}`, tone: 'warn' };
    case 'run.escalated':
      return {
        title: `Escalated to people by ${e.data.by}: ${e.data.reason}`,
        tone: 'warn',
        body: <p>{e.data.summary}</p>,
      };
    case 'run.reopened':
      return { title: `Reopened by ${e.data.by}${e.data.agent ? ` for ${e.data.agent}` : ''}`, tone: 'info' };
    case 'delegation.requested':
      return {
        title: `Delegated to ${e.data.agent}`,
        tone: 'route',
        body: (
          <>
            <p>
              {e.data.task} — child run <a href={`#/runs/${e.data.childRunId}`}>{e.data.childRunId}</a>
            </p>
            <Json value={e.data.context} summary="context shared with the child" />
          </>
        ),
      };
    case 'delegation.completed':
      return {
        title: `Delegation ${e.data.status}`,
        tone: e.data.status === 'completed' ? 'ok' : 'bad',
        ...(e.data.output ? { body: <blockquote>{e.data.output}</blockquote> } : {}),
      };
    case 'run.needs_attention':
      return {
        title: e.data.error
          ? `Needs attention: advancing kept failing (${e.data.error.message})`
          : `Needs attention: ${e.data.tool} is in doubt`,
        tone: 'bad',
        body: <p>{e.data.reason}</p>,
      };
    case 'run.resumed':
      return { title: `Resumed by ${e.data.by}: ${e.data.resolution}`, tone: 'info' };
    case 'progress':
      return { title: `Progress: ${e.data.message}`, tone: 'progress' };
    case 'run.completed':
      return {
        title: `Completed: ${e.data.totals.steps} steps, ${fmt.int(e.data.totals.inputTokens + e.data.totals.outputTokens)} tokens, ${fmt.usd(e.data.totals.costUsd)}, ${fmt.ms(e.data.totals.durationMs)}`,
        tone: 'ok',
        body: <blockquote>{e.data.output}</blockquote>,
      };
    case 'run.failed':
      return { title: `Failed: ${e.data.error.message}`, tone: 'bad' };
    case 'run.cancelled':
      return { title: `Cancelled by ${e.data.by}: ${e.data.reason}`, tone: 'bad' };
    default: {
      const other = e as { type: string; data: unknown };
      return { title: other.type, tone: 'info', body: <Json value={other.data} summary="data" /> };
    }
  }
}

export function Timeline(props: { events: readonly JournalEvent[]; highlight: Set<number> | null }) {
  const start = props.events[0]?.at ?? 0;
  // When an event happened (events riding in a later commit record it), else its commit time.
  const at = (e: JournalEvent): number =>
    'occurredAt' in e.data && typeof e.data.occurredAt === 'number' ? e.data.occurredAt : e.at;
  const shown = props.highlight ? props.events.filter((e) => props.highlight!.has(e.seq)) : props.events;
  return (
    <ol className="timeline" aria-label="Journal events">
      {shown.map((e) => {
        const d = describe(e);
        return (
          <li key={e.seq} id={`event-${e.seq}`} className={`tone-${d.tone}`} data-type={e.type}>
            <div className="event-head">
              <span className="seq">#{e.seq}</span>
              <span className="etype">{e.type}</span>
              <span className="title">{d.title}</span>
              <span className="at">+{fmt.ms(at(e) - start)}</span>
            </div>
            {d.body && <div className="event-body">{d.body}</div>}
          </li>
        );
      })}
    </ol>
  );
}
