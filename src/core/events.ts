/**
 * The run journal's event union: closed and versioned. Every fact about a run is one of these,
 * appended in order with a dense `seq` from 1. Bump {@link EVENT_SCHEMA_VERSION} when a payload
 * changes shape, and keep the fold able to read every earlier version (test/fixtures holds a corpus).
 */
import type { Budget } from './budget.ts';

export const EVENT_SCHEMA_VERSION = 1;

export interface CandidateScoreData {
  name: string;
  scores: Record<string, number>;
  fused: number;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
}

export interface ToolCallData {
  /** Unique within the run (the idempotency key is `runId:callId`). */
  callId: string;
  /** The id the model gave the call, echoed back with its result. */
  modelCallId: string;
  toolName: string;
  /** Parsed JSON arguments, or the raw string when the model emitted invalid JSON. */
  input: unknown;
  /** Set when `input` is raw text that is not JSON: `cut-off` when the answer hit its output cap. */
  argumentsError?: 'not-json' | 'cut-off';
}

export interface ErrorData {
  name: string;
  code: string;
  message: string;
  /** Typed fields of the error (e.g. budget, limit, used). */
  details?: Record<string, unknown>;
}

export interface Totals {
  steps: number;
  modelCalls: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  durationMs: number;
}

export type DenialReason =
  | 'not-permitted'
  | 'invalid-arguments'
  | 'delegation-cycle'
  | 'delegation-not-declared'
  | 'policy-denied'
  | 'approval-void'
  /** A shadow run's call that its live run did not make: not executed (runtime/shadow.ts). */
  | 'shadow-divergent';

/** What short-term and long-term memory put in front of the model at an agent's start. */
export interface MemoryContextData {
  turns: { role: 'user' | 'assistant'; text: string; runId: string }[];
  /** Ids and lists from earlier tool results that later requests refer to ("the same order"). */
  workingState: {
    entities: { key: string; value: string; from: string }[];
    lists: { from: string; ids: string[] }[];
  };
  facts: { namespace: string; key: string; value: string; trusted: boolean }[];
}

/** How a prompt was fitted to the model's context window (runtime/context-budget.ts). */
export interface ContextFitData {
  contextTokens: number;
  /** Tokens the prompt may use. */
  limit: number;
  /** Tokens of the prompt sent, as counted before sending. */
  tokens: number;
  /** Earlier turns of the session left out, oldest first. */
  droppedMemoryTurns?: number;
  /** Tool results cut, with their full and kept sizes; the journal holds the whole result. */
  truncated?: { callId: string; tool: string; chars: number; keptChars: number }[];
}

/**
 * When an event happened (ms since epoch, store clock), for events that ride in a later commit
 * than the moment they record: `at` is the commit time.
 */
export interface Timed {
  occurredAt?: number;
}

/** Payloads by event type. */
export interface EventPayloads {
  'run.submitted': {
    actorId: string;
    sessionId: string;
    input: string;
    channel: string;
    clientMessageId?: string;
    /** Explicit agent requested by the caller; routing decides otherwise. */
    agent?: string;
    parentRunId?: string;
    parentCallId?: string;
    /** Agents from the root run down to this run's parent (cycle detection). */
    lineage: string[];
    depth: number;
    budget: Budget;
    /** W3C traceparent to continue (from the caller, or the delegating call for a child run). */
    traceparent?: string;
    /** The caller's role when the gateway authenticated one (policies may key on it); children inherit it. */
    role?: string;
    /** A caller-wide idempotency key (batch record, schedule slot, webhook event): one run per key. */
    idempotencyKey?: string;
    /** Caller's labels (a batch's record id, a schedule's slot…), kept with the run, never shown to the model. */
    metadata?: Record<string, string>;
    /** An operator's version pin (`commerce@v2`): routing takes it instead of the alias. */
    version?: string;
    /** A delegated child: its parent's version, so the child's end wakes the parent on its version queue. */
    parentVersion?: string;
    /** A shadow run of a deployment: the live run it mirrors (runtime/shadow.ts). */
    shadow?: { deploymentId: string; liveRunId: string };
  };
  'route.decided': {
    agent: string;
    method: string;
    confidence: number;
    threshold?: number;
    reason: string;
    candidates: CandidateScoreData[];
    /** The labeled version chosen (runtime/versions.ts); absent for an unlabeled agent. */
    version?: string;
    /** The alias whose weights chose it. */
    alias?: string;
    /** True when the session's earlier assignment was reused. */
    sticky?: boolean;
    /** True when the submission pinned the version. */
    pinned?: boolean;
  };
  'route.escalated': {
    reason: string;
    confidence: number;
    threshold: number;
    candidates: CandidateScoreData[];
  };
  /** `version`: the label, or the digest of an unlabeled agent; `digest`: the definition's content digest. */
  'agent.started': { agent: string; version: string; digest?: string } & Timed;
  'memory.loaded': {
    turns: number;
    tokens: number;
    status: 'ok' | 'disabled';
    /** The replay window (last k turns). */
    k?: number;
    /** Exactly what was injected: earlier turns, the working-state summary, long-term facts. */
    context?: MemoryContextData;
  };
  'memory.persisted': { messages: number };
  /** Content of this run was erased (forget / retention); structure and order are kept. */
  'run.redacted': { by: string; reason: string; events: number };
  'memory.failed': { error: ErrorData };
  'tools.retrieved': {
    candidates: CandidateScoreData[];
    shown: string[];
    totalAvailable: number;
    threshold: number;
    /** True when no tool reached the threshold (only pinned tools were shown). */
    abstained?: boolean;
    /**
     * Tools ranked up because a candidate needs an identifier they produce (`schema`, with the
     * `argument`), reads what a changing candidate changes (`reads`), or because completed runs
     * used them together (`co-usage`): why they were added.
     */
    linked?: {
      name?: string;
      via: 'schema' | 'reads' | 'co-usage';
      from: string;
      argument?: string;
      score?: number;
    }[];
  };
  /** A model call failed transiently and is being retried (429, 5xx, timeout), after `delayMs`. */
  'model.retried': {
    attempt: number;
    status?: number;
    delayMs: number;
    retryAfter: boolean;
    error: ErrorData;
    /** How long the failed attempt took. */
    latencyMs?: number;
  } & Timed;
  'model.requested': {
    modelId: string;
    provider: string;
    tools: string[];
    /** Messages sent over the wire (one per tool result for chat-completions providers). */
    messages: number;
    /** Set when the model has a known context size: what fitting the prompt did. */
    context?: ContextFitData;
  } & Timed;
  'model.responded': {
    modelId: string;
    text: string;
    toolCalls: ToolCallData[];
    usage: TokenUsage;
    latencyMs: number;
    finishReason: string;
    /** When earlier attempts failed (`model.retried`): which attempt answered, and how long it took. */
    attempts?: number;
    attemptLatencyMs?: number;
  } & Timed;
  'tool.started': {
    callId: string;
    tool: string;
    args: unknown;
    attempt: number;
    idempotencyKey: string;
    /** Set when this start re-runs a call whose earlier outcome was never recorded. */
    recovery?: 'in-doubt-rerun' | 'reconciled-not-applied' | 'operator-retry';
  } & Timed;
  'tool.succeeded': {
    callId: string;
    tool: string;
    attempt: number;
    result: unknown;
    reconciled?: boolean;
  } & Timed;
  'tool.failed': {
    callId: string;
    tool: string;
    attempt: number;
    error: ErrorData;
    retryable: boolean;
    /** When the next attempt is due (ms since epoch); absent when the failure is final. */
    nextAttemptAt?: number;
  } & Timed;
  /** A tool's circuit breaker changed state (opened after repeated failures, probing, closed). */
  'breaker.changed': {
    tool: string;
    state: 'open' | 'half-open' | 'closed';
    failures: number;
    until?: number;
  };
  'tool.denied': { callId: string; tool: string; reason: DenialReason; message: string };
  'approval.requested': {
    approvalId: string;
    callId: string;
    tool: string;
    agent: string;
    /** The validated arguments the approval is for; `argsDigest` binds the decision to them. */
    args: unknown;
    argsDigest: string;
    reasons: string[];
    /** Policy rule ids (and `tool:requiresApproval`) that asked for it. */
    rules: string[];
    requestedBy: string;
    expiresAt: number;
  };
  'approval.decided': {
    approvalId: string;
    callId: string;
    decision: 'approved' | 'rejected' | 'expired';
    /** For `expired`: the configured outcome applied. */
    outcome?: 'approved' | 'rejected';
    approver: string;
    comment?: string;
  };
  /** A decision attempt that was refused (self-approval, missing role, changed arguments, already decided). */
  'approval.refused': { approvalId: string; by: string; reason: string };
  /** The run was handed to people: by its agent, by the router on low confidence, or by policy. */
  'run.escalated': {
    by: 'agent' | 'router' | 'policy';
    agent?: string;
    /** The `escalate_to_human` call, when the agent escalated. */
    callId?: string;
    summary: string;
    reason: string;
  };
  /** An operator took an escalated run back: optionally naming the agent and adding a note. */
  'run.reopened': { by: string; agent?: string; note?: string };
  'delegation.requested': {
    callId: string;
    childRunId: string;
    agent: string;
    task: string;
    /** Exactly what the child sees of the parent: the task and the shared context. */
    context: Record<string, unknown>;
  };
  'delegation.completed': {
    callId: string;
    childRunId: string;
    status: 'completed' | 'failed' | 'cancelled';
    output?: string;
    error?: ErrorData;
  };
  /**
   * A started call's outcome was never recorded and the tool cannot say whether it took effect —
   * or advancing the run kept failing (`error`) or hit a budget while that call was in doubt.
   */
  'run.needs_attention': {
    callId: string;
    tool: string;
    idempotencyKey: string;
    reason: string;
    /** The error that made advancing fail the same way repeatedly (a poison run). */
    error?: ErrorData;
  };
  /** An operator resolved an in-doubt call. */
  'run.resumed': {
    callId: string;
    resolution: 'succeeded' | 'failed' | 'retry';
    by: string;
    result?: unknown;
    message?: string;
  };
  progress: { message: string; callId?: string };
  'run.completed': { output: string; totals: Totals };
  'run.failed': { error: ErrorData; totals: Totals };
  'run.cancelled': { reason: string; by: string; totals: Totals };
}

export type EventType = keyof EventPayloads;

/** An event before the journal gives it a place. */
export type NewEvent = { [T in EventType]: { type: T; data: EventPayloads[T] } }[EventType];

/** A journaled event. */
export type JournalEvent = {
  [T in EventType]: { runId: string; seq: number; at: number; v: number; type: T; data: EventPayloads[T] };
}[EventType];

export type EventOf<T extends EventType> = Extract<JournalEvent, { type: T }>;

/** Events after which a run does nothing more (an escalated run waits for a person, outside the run). */
export const TERMINAL_EVENTS: ReadonlySet<EventType> = new Set([
  'run.completed',
  'run.failed',
  'run.cancelled',
  'route.escalated',
  'run.escalated',
]);

/**
 * Events that close a run's journal: after one, every store refuses further appends except
 * {@link AFTER_CLOSE_EVENTS} (an escalated run is not closed: people may still reopen or close it).
 */
export const CLOSING_EVENTS: ReadonlySet<EventType> = new Set([
  'run.completed',
  'run.failed',
  'run.cancelled',
]);

/** What a closed journal still accepts: the record that its content was erased. */
export const AFTER_CLOSE_EVENTS: ReadonlySet<EventType> = new Set(['run.redacted']);

/** Build a typed event. */
export function event<T extends EventType>(type: T, data: EventPayloads[T]): NewEvent {
  return { type, data } as NewEvent;
}
