/** `switchboard trace`: a readable timeline of one run's journal. */
import type { ContextFitData, JournalEvent } from '../core/events.ts';
import { formatPair } from '../routing/format.ts';

const short = (v: unknown, max = 100): string => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

const scores = (c: { name: string; scores: Record<string, number>; fused: number }): string =>
  `${c.name} ${c.fused.toFixed(2)} (${Object.entries(c.scores)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ')})`;

/** One line (sometimes a few) per event: what happened, in words. */
export function describeEvent(e: JournalEvent): string {
  switch (e.type) {
    case 'run.submitted':
      return `submitted by ${e.data.actorId} in session ${e.data.sessionId}${e.data.parentRunId ? ` (delegated by ${e.data.parentRunId})` : ''}: ${short(e.data.input)}`;
    case 'route.decided': {
      // Printed with enough decimals for "confidence ≥ threshold" to read true.
      const [confidence, threshold] =
        e.data.threshold !== undefined
          ? formatPair(e.data.confidence, e.data.threshold)
          : [e.data.confidence.toFixed(2), ''];
      const lines = [
        `routed to ${e.data.agent} by ${e.data.method}, confidence ${confidence}${e.data.threshold !== undefined ? ` (threshold ${threshold})` : ''}: ${e.data.reason}`,
      ];
      for (const c of e.data.candidates.slice(0, 5)) lines.push(`    candidate ${scores(c)}`);
      return lines.join('\n');
    }
    case 'route.escalated': {
      const [confidence, threshold] = formatPair(e.data.confidence, e.data.threshold);
      const lines = [`escalated (confidence ${confidence} < ${threshold}): ${e.data.reason}`];
      for (const c of e.data.candidates.slice(0, 5)) lines.push(`    candidate ${scores(c)}`);
      return lines.join('\n');
    }
    case 'agent.started':
      return `agent ${e.data.agent} started (version ${e.data.version})`;
    case 'memory.loaded': {
      const lines = [
        `memory loaded: ${e.data.turns} turns, ${e.data.tokens} tokens (${e.data.status}${e.data.k !== undefined ? `, last ${e.data.k}` : ''})`,
      ];
      for (const t of e.data.context?.turns ?? []) lines.push(`    ${t.role}: ${short(t.text, 90)}`);
      for (const x of e.data.context?.workingState.entities ?? [])
        lines.push(`    state ${x.key}=${x.value} (from ${x.from})`);
      for (const l of e.data.context?.workingState.lists ?? [])
        lines.push(`    list from ${l.from}: ${l.ids.join(', ')}`);
      for (const f of e.data.context?.facts ?? [])
        lines.push(
          `    fact ${f.namespace}/${f.key}=${short(f.value, 60)}${f.trusted ? '' : ' (untrusted)'}`,
        );
      return lines.join('\n');
    }
    case 'run.redacted':
      return `content redacted by ${e.data.by} (${e.data.reason}), ${e.data.events} events`;
    case 'memory.persisted':
      return `memory persisted: ${e.data.messages} messages`;
    case 'memory.failed':
      return `memory failed: ${e.data.error.message} (continuing stateless)`;
    case 'tools.retrieved': {
      const lines = [
        `tools shown: ${e.data.shown.join(', ') || '(none)'} of ${e.data.totalAvailable} (threshold ${e.data.threshold.toFixed(2)})`,
      ];
      for (const c of e.data.candidates.slice(0, 6)) lines.push(`    candidate ${scores(c)}`);
      // Why a tool the request never named is there: the candidate that pulled it in, and how.
      for (const l of e.data.linked ?? [])
        lines.push(
          `    linked ${l.name ?? '?'} ← ${l.from} (${l.via}${l.argument ? ` ${l.argument}` : ''}${l.score !== undefined ? `, ${l.score.toFixed(2)}` : ''})`,
        );
      return lines.join('\n');
    }
    case 'breaker.changed':
      return `circuit breaker of ${e.data.tool} ${e.data.state} after ${e.data.failures} consecutive failures${e.data.until ? ` until ${new Date(e.data.until).toISOString()}` : ''}`;
    case 'model.retried':
      return `model call failed (${e.data.status ?? 'no status'}: ${e.data.error.message}); attempt ${e.data.attempt}${e.data.latencyMs !== undefined ? ` took ${e.data.latencyMs} ms,` : ''} retried after ${e.data.delayMs} ms${e.data.retryAfter ? ' (retry-after)' : ''}`;
    case 'model.requested':
      return `model ${e.data.provider}:${e.data.modelId} called with ${e.data.messages} messages, tools [${e.data.tools.join(', ')}]${contextLines(e.data.context)}`;
    case 'model.responded': {
      const calls = e.data.toolCalls.map((c) => `${c.toolName}(${short(c.input, 60)})`).join(', ');
      const attempt = e.data.attempts
        ? ` (attempt ${e.data.attempts} took ${e.data.attemptLatencyMs} ms)`
        : '';
      return `model answered in ${e.data.latencyMs} ms${attempt}, ${e.data.usage.inputTokens}+${e.data.usage.outputTokens} tokens, ${e.data.finishReason}${calls ? `: calls ${calls}` : ''}${e.data.text ? `: "${short(e.data.text, 80)}"` : ''}`;
    }
    case 'tool.started':
      return `tool ${e.data.tool} started, attempt ${e.data.attempt}${e.data.recovery ? ` (${e.data.recovery})` : ''}, key ${e.data.idempotencyKey}, args ${short(e.data.args, 80)}`;
    case 'tool.succeeded':
      return `tool ${e.data.tool} succeeded${e.data.reconciled ? ' (reconciled)' : ''}: ${short(e.data.result)}`;
    case 'tool.failed':
      return `tool ${e.data.tool} failed, attempt ${e.data.attempt}: ${e.data.error.message}${e.data.nextAttemptAt !== undefined ? ` — retry at ${new Date(e.data.nextAttemptAt).toISOString()}` : ' — final'}`;
    case 'tool.denied':
      return `tool call ${e.data.tool} denied (${e.data.reason}): ${e.data.message}`;
    case 'approval.requested':
      return `approval ${e.data.approvalId} requested for ${e.data.tool}: ${e.data.reasons.join('; ')}`;
    case 'approval.decided':
      return `approval ${e.data.approvalId} ${e.data.decision} by ${e.data.approver}${e.data.comment ? `: ${e.data.comment}` : ''}`;
    case 'delegation.requested':
      return `delegated to ${e.data.agent} as run ${e.data.childRunId}: ${short(e.data.task)}${Object.keys(e.data.context).length ? ` with context ${short(e.data.context, 60)}` : ''}`;
    case 'delegation.completed':
      return `delegation ${e.data.childRunId} ${e.data.status}${e.data.output !== undefined ? `: ${short(e.data.output)}` : ''}${e.data.error ? `: ${e.data.error.message}` : ''}`;
    case 'run.needs_attention':
      return `NEEDS ATTENTION: ${e.data.reason}`;
    case 'run.resumed':
      return `resumed by ${e.data.by}: call ${e.data.callId} resolved as ${e.data.resolution}`;
    case 'progress':
      return `progress: ${e.data.message}`;
    case 'run.completed':
      return `completed in ${e.data.totals.durationMs} ms (${e.data.totals.steps} steps, ${e.data.totals.toolCalls} tool calls, ${e.data.totals.inputTokens + e.data.totals.outputTokens} tokens): ${short(e.data.output, 200)}`;
    case 'run.failed':
      return `failed: ${e.data.error.name}: ${e.data.error.message}`;
    case 'run.cancelled':
      return `cancelled by ${e.data.by}: ${e.data.reason}`;
    case 'approval.refused':
      return `approval ${e.data.approvalId}: decision by ${e.data.by} refused: ${e.data.reason}`;
    case 'run.escalated':
      return `escalated to people by ${e.data.by}${e.data.agent ? ` (${e.data.agent})` : ''}: ${e.data.reason} — ${e.data.summary}`;
    case 'run.reopened':
      return `reopened by ${e.data.by}${e.data.agent ? ` for ${e.data.agent}` : ''}${e.data.note ? `: ${e.data.note}` : ''}`;
  }
}

/** What fitting the prompt to the model's context did (runtime/context-budget.ts). */
function contextLines(c: ContextFitData | undefined): string {
  if (!c) return '';
  const lines = [`\n    context: ${c.tokens} of ${c.limit} prompt tokens (window ${c.contextTokens})`];
  if (c.droppedMemoryTurns) lines.push(`    trimmed: ${c.droppedMemoryTurns} oldest memory turns left out`);
  for (const t of c.truncated ?? [])
    lines.push(
      `    trimmed: ${t.tool} result of call ${t.callId} cut to ${t.keptChars} of ${t.chars} characters (full result in the journal)`,
    );
  return lines.join('\n');
}

/** When an event happened: `occurredAt` where the engine recorded it, else its commit time. */
const happened = (e: JournalEvent): number =>
  'occurredAt' in e.data && typeof e.data.occurredAt === 'number' ? e.data.occurredAt : e.at;

/**
 * The whole timeline, with times relative to submission: when each event happened, and its commit
 * time too where that was later (events that ride in the commit after a model call).
 */
export function formatTrace(events: readonly JournalEvent[]): string {
  const t0 = events[0]?.at ?? 0;
  return events
    .map((e) => {
      const t = happened(e);
      const committed = e.at !== t ? ` (committed +${e.at - t0}ms)` : '';
      // The commit time goes on the event's first line, before any detail lines.
      const [head, ...rest] = describeEvent(e).split('\n');
      return [
        `#${String(e.seq).padStart(3)} +${String(t - t0).padStart(6)}ms  ${e.type.padEnd(21)} ${head}${committed}`,
        ...rest,
      ].join('\n');
    })
    .join('\n');
}
