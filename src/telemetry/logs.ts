/**
 * Structured JSON logs (pino): one line per journal event at debug level with run id, trace id,
 * agent and step; warnings (retries, denials, escalations, in-doubt calls, memory failures) and
 * errors (failed runs) always. Lines carry no message content: ids, names, counts and error kinds.
 */
import { pino, type Logger } from 'pino';
import type { JournalEvent } from '../core/events.ts';
import type { Store } from '../store/ports.ts';
import { traceIdOf } from './ids.ts';
import { createRedactor, type RedactionOptions } from './redact.ts';
import { createScrubber } from '../core/scrub.ts';

export interface JournalLoggerOptions extends RedactionOptions {
  /** A pino logger; by default one writing JSON to stdout at `level`. */
  logger?: Logger;
  /** Level of the default logger (`telemetry.logLevel`, default info). */
  level?: string;
}

/** A content-free summary of an event and the level it is logged at. */
export function logLineOf(e: JournalEvent): {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown>;
} {
  switch (e.type) {
    case 'tool.failed':
      return e.data.nextAttemptAt !== undefined
        ? {
            level: 'warn',
            msg: 'tool attempt failed, retrying',
            fields: {
              tool: e.data.tool,
              attempt: e.data.attempt,
              errorKind: e.data.error.name,
              nextAttemptAt: e.data.nextAttemptAt,
            },
          }
        : {
            level: 'warn',
            msg: 'tool failed',
            fields: { tool: e.data.tool, attempt: e.data.attempt, errorKind: e.data.error.name },
          };
    case 'tool.denied':
      return { level: 'warn', msg: 'tool call denied', fields: { tool: e.data.tool, reason: e.data.reason } };
    case 'route.escalated':
      return {
        level: 'warn',
        msg: 'run escalated by the router',
        fields: { confidence: e.data.confidence, threshold: e.data.threshold },
      };
    case 'run.needs_attention':
      return {
        level: 'warn',
        msg: 'in-doubt call needs a person',
        fields: { tool: e.data.tool, callId: e.data.callId },
      };
    case 'memory.failed':
      return {
        level: 'warn',
        msg: 'memory failed, continuing stateless',
        fields: { errorKind: e.data.error.name },
      };
    case 'run.failed':
      return {
        level: 'error',
        msg: 'run failed',
        fields: { errorKind: e.data.error.name, errorCode: e.data.error.code, totals: e.data.totals },
      };
    case 'route.decided':
      return {
        level: 'debug',
        msg: 'routed',
        fields: { agent: e.data.agent, method: e.data.method, confidence: e.data.confidence },
      };
    case 'model.responded':
      return {
        level: 'debug',
        msg: 'model responded',
        fields: {
          model: e.data.modelId,
          inputTokens: e.data.usage.inputTokens,
          outputTokens: e.data.usage.outputTokens,
          latencyMs: e.data.latencyMs,
          toolCalls: e.data.toolCalls.map((c) => c.toolName),
        },
      };
    case 'tool.started':
      return {
        level: 'debug',
        msg: 'tool started',
        fields: { tool: e.data.tool, callId: e.data.callId, attempt: e.data.attempt },
      };
    case 'tool.succeeded':
      return {
        level: 'debug',
        msg: 'tool succeeded',
        fields: { tool: e.data.tool, callId: e.data.callId, attempt: e.data.attempt },
      };
    case 'delegation.requested':
      return {
        level: 'debug',
        msg: 'delegated',
        fields: { to: e.data.agent, childRunId: e.data.childRunId },
      };
    case 'run.completed':
      return { level: 'debug', msg: 'run completed', fields: { totals: e.data.totals } };
    default:
      return { level: 'debug', msg: e.type, fields: {} };
  }
}

/**
 * Log every appended event.
 * @example
 * const stop = attachJournalLogger(system.store, { logger: pino({ level: 'debug' }) });
 */
export function attachJournalLogger(store: Store, options: JournalLoggerOptions = {}): () => void {
  const logger = options.logger ?? pino({ level: options.level ?? 'info', base: { service: 'switchboard' } });
  const redactor = createRedactor(options);
  const scrubber = createScrubber(options.secrets ?? []);
  const agents = new Map<string, { agent?: string; traceId: string; step: number }>();
  return store.listen({
    appended(events) {
      for (const e of events) {
        let r = agents.get(e.runId);
        if (!r) {
          const parent = e.type === 'run.submitted' ? e.data.parentRunId : undefined;
          r = { traceId: (parent && agents.get(parent)?.traceId) || traceIdOf(e.runId), step: 0 };
          if (e.type === 'run.submitted' && e.data.agent) r.agent = e.data.agent;
          if (agents.size > 20_000) agents.clear();
          agents.set(e.runId, r);
        }
        if (e.type === 'route.decided' || e.type === 'agent.started') r.agent = e.data.agent;
        if (e.type === 'model.requested') r.step += 1;
        const line = logLineOf(e);
        if (!logger.isLevelEnabled(line.level)) continue;
        const fields = JSON.parse(redactor.json(scrubber.value({ ...line.fields }), 100_000)) as Record<
          string,
          unknown
        >;
        logger[line.level](
          {
            runId: e.runId,
            seq: e.seq,
            event: e.type,
            traceId: r.traceId,
            agent: r.agent,
            step: r.step,
            ...fields,
          },
          line.msg,
        );
        if (
          e.type === 'run.completed' ||
          e.type === 'run.failed' ||
          e.type === 'run.cancelled' ||
          e.type === 'route.escalated'
        )
          agents.delete(e.runId);
      }
    },
  });
}
