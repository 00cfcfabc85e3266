/**
 * Journal → spans, as a pure state machine per run. Feed a run's events in seq order; each call
 * returns the spans that ended. Ids are derived from (runId, step) (see ids.ts), times from the
 * events' `at`, so replaying a journal prefix in another process rebuilds the same open spans and
 * the trace continues across a restart.
 *
 * Span tree of one run: `invoke_agent <agent>` (the run) → `route`, `step <n>` → `chat <model>`,
 * `execute_tool <tool>` → `approval`; a delegated run's root span sits under the delegating call.
 */
import type { CandidateScoreData, EventOf, JournalEvent } from '../core/events.ts';
import { costOf, type PriceTable } from './cost.ts';
import { spanIdOf } from './ids.ts';
import type { Redactor } from './redact.ts';

export type AttributeValue = string | number | boolean | string[] | number[];
export type Attributes = Record<string, AttributeValue>;

/** A finished span, independent of any OpenTelemetry SDK. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: 'internal' | 'client';
  startMs: number;
  endMs: number;
  attributes: Attributes;
  events: { name: string; timeMs: number; attributes: Attributes }[];
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
}

type OpenSpan = Omit<SpanRecord, 'endMs'>;

export interface SpanBuilderOptions {
  redactor: Redactor;
  /** Record message content (input, model text, tool arguments and results). Off by default. */
  captureContent?: boolean;
  prices?: PriceTable;
  /** Longest string attribute, in characters. */
  maxAttributeLength?: number;
}

/** Where a run's spans hang: its trace, and the parent of its root span. */
export interface RunPlacement {
  traceId: string;
  parentSpanId?: string;
}

const candidateAttrs = (prefix: string, candidates: CandidateScoreData[]): Attributes => ({
  [`${prefix}.names`]: candidates.map((c) => c.name),
  [`${prefix}.scores`]: candidates.map((c) => Math.round(c.fused * 1e4) / 1e4),
  [`${prefix}`]: JSON.stringify(
    candidates.slice(0, 10).map((c) => ({
      name: c.name,
      fused: Math.round(c.fused * 1e4) / 1e4,
      ...Object.fromEntries(Object.entries(c.scores).map(([k, v]) => [k, Math.round(v * 1e4) / 1e4])),
    })),
  ),
});

type NoteEvent = EventOf<
  'memory.loaded' | 'memory.persisted' | 'memory.failed' | 'run.needs_attention' | 'run.resumed' | 'progress'
>;

/** Span state of one run. */
export class RunSpans {
  readonly runId: string;
  readonly #o: SpanBuilderOptions;
  readonly #place: RunPlacement;
  #run: OpenSpan | undefined;
  #route: OpenSpan | undefined;
  #step: OpenSpan | undefined;
  #stepNo = 0;
  #model: OpenSpan | undefined;
  readonly #calls = new Map<string, OpenSpan>();
  readonly #callStep = new Map<string, string>();
  readonly #modelCallIds = new Map<string, string>();
  readonly #approvals = new Map<string, OpenSpan>();
  #agent: string | undefined;
  /** The labeled version routing chose, then the version `agent.started` records (label or digest). */
  #version: string | undefined;
  #ended = false;

  constructor(runId: string, place: RunPlacement, options: SpanBuilderOptions) {
    this.runId = runId;
    this.#place = place;
    this.#o = options;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The id of this run's root span. */
  get rootSpanId(): string {
    return spanIdOf(this.runId, 'run');
  }

  #open(
    key: string,
    name: string,
    startMs: number,
    parentSpanId: string | undefined,
    attributes: Attributes,
  ): OpenSpan {
    return {
      traceId: this.#place.traceId,
      spanId: spanIdOf(this.runId, key),
      ...(parentSpanId ? { parentSpanId } : {}),
      name,
      kind: 'internal',
      startMs,
      attributes: { 'switchboard.run.id': this.runId, ...attributes },
      events: [],
      status: { code: 'unset' },
    };
  }

  #close(span: OpenSpan | undefined, endMs: number, out: SpanRecord[]): void {
    if (!span) return;
    out.push({ ...span, endMs: Math.max(endMs, span.startMs) });
  }

  #text(value: string): string {
    const max = this.#o.maxAttributeLength ?? 4096;
    const s = this.#o.redactor.text(value);
    return s.length > max ? `${s.slice(0, max - 1)}…` : s;
  }

  #content(span: OpenSpan, key: string, value: unknown): void {
    if (!this.#o.captureContent) return;
    span.attributes[key] =
      typeof value === 'string'
        ? this.#text(value)
        : this.#o.redactor.json(value, this.#o.maxAttributeLength);
  }

  #agentAttrs(): Attributes {
    return {
      ...(this.#agent ? { 'gen_ai.agent.name': this.#agent } : {}),
      ...(this.#version ? { 'switchboard.agent.version': this.#version } : {}),
    };
  }

  #ensureStep(at: number): OpenSpan {
    if (!this.#step) {
      this.#stepNo += 1;
      this.#step = this.#open(`step:${this.#stepNo}`, `step ${this.#stepNo}`, at, this.rootSpanId, {
        'switchboard.step': this.#stepNo,
        ...this.#agentAttrs(),
      });
    }
    return this.#step;
  }

  #ensureCall(callId: string, tool: string, at: number): OpenSpan {
    let span = this.#calls.get(callId);
    if (!span) {
      span = this.#open(
        `call:${callId}`,
        `execute_tool ${tool}`,
        at,
        this.#callStep.get(callId) ?? this.#step?.spanId ?? this.rootSpanId,
        {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': tool,
          'gen_ai.tool.call.id': this.#modelCallIds.get(callId) ?? callId,
          'switchboard.call.id': callId,
          ...this.#agentAttrs(),
        },
      );
      this.#calls.set(callId, span);
    }
    return span;
  }

  #endCall(
    callId: string,
    at: number,
    out: SpanRecord[],
    status: SpanRecord['status'],
  ): OpenSpan | undefined {
    const span = this.#calls.get(callId);
    if (!span) return undefined;
    span.status = status;
    this.#calls.delete(callId);
    this.#close(span, at, out);
    return span;
  }

  /** Apply one event; returns the spans it ended. */
  apply(e: JournalEvent): SpanRecord[] {
    const out: SpanRecord[] = [];
    if (this.#ended) return out;
    // When it happened (events riding in a later commit record it), else when it was committed.
    const at = 'occurredAt' in e.data && typeof e.data.occurredAt === 'number' ? e.data.occurredAt : e.at;
    switch (e.type) {
      case 'run.submitted':
      case 'route.decided':
      case 'route.escalated':
      case 'agent.started':
      case 'run.completed':
      case 'run.failed':
      case 'run.cancelled':
        this.#applyRun(e, at, out);
        break;
      case 'memory.loaded':
      case 'memory.persisted':
      case 'memory.failed':
      case 'run.needs_attention':
      case 'run.resumed':
      case 'progress':
        this.#applyNote(e, at);
        break;
      case 'tools.retrieved':
      case 'model.requested':
      case 'model.responded':
        this.#applyStep(e, at, out);
        break;
      case 'tool.started':
      case 'tool.succeeded':
      case 'tool.failed':
      case 'tool.denied':
      case 'approval.requested':
      case 'approval.decided':
      case 'delegation.requested':
      case 'delegation.completed':
        this.#applyCall(e, at, out);
        break;
    }
    return out;
  }

  /** The run's root span and its route span: opened, named, ended. */
  #applyRun(
    e: EventOf<
      | 'run.submitted'
      | 'route.decided'
      | 'route.escalated'
      | 'agent.started'
      | 'run.completed'
      | 'run.failed'
      | 'run.cancelled'
    >,
    at: number,
    out: SpanRecord[],
  ): void {
    switch (e.type) {
      case 'run.submitted': {
        this.#run = this.#open('run', 'invoke_agent', at, this.#place.parentSpanId, {
          'gen_ai.operation.name': 'invoke_agent',
          'switchboard.actor.id': this.#text(e.data.actorId),
          'switchboard.session.id': this.#text(e.data.sessionId),
          'switchboard.channel': e.data.channel,
          'switchboard.delegation.depth': e.data.depth,
          ...(e.data.parentRunId ? { 'switchboard.parent_run.id': e.data.parentRunId } : {}),
          ...(e.data.version ? { 'switchboard.agent.version': e.data.version } : {}),
          ...(e.data.shadow
            ? {
                'switchboard.shadow.deployment.id': e.data.shadow.deploymentId,
                'switchboard.shadow.live_run.id': e.data.shadow.liveRunId,
              }
            : {}),
        });
        if (e.data.version) this.#version = e.data.version;
        this.#content(this.#run, 'switchboard.run.input', e.data.input);
        this.#route = this.#open('route', 'route', at, this.rootSpanId, {});
        break;
      }
      case 'route.decided': {
        if (this.#route) {
          Object.assign(this.#route.attributes, {
            'switchboard.route.agent': e.data.agent,
            'switchboard.route.method': e.data.method,
            'switchboard.route.confidence': e.data.confidence,
            ...(e.data.threshold !== undefined ? { 'switchboard.route.threshold': e.data.threshold } : {}),
            'switchboard.route.reason': this.#text(e.data.reason),
            ...(e.data.version ? { 'switchboard.route.version': e.data.version } : {}),
            ...(e.data.alias ? { 'switchboard.route.alias': e.data.alias } : {}),
            ...(e.data.sticky !== undefined ? { 'switchboard.route.sticky': e.data.sticky } : {}),
            ...(e.data.pinned !== undefined ? { 'switchboard.route.pinned': e.data.pinned } : {}),
            ...(e.data.candidates.length
              ? candidateAttrs('switchboard.route.candidates', e.data.candidates)
              : {}),
          });
          this.#route.status = { code: 'ok' };
        }
        this.#close(this.#route, at, out);
        this.#route = undefined;
        this.#setAgent(e.data.agent, e.data.version);
        break;
      }
      case 'route.escalated': {
        if (this.#route) {
          Object.assign(this.#route.attributes, {
            'switchboard.route.escalated': true,
            'switchboard.route.confidence': e.data.confidence,
            'switchboard.route.threshold': e.data.threshold,
            'switchboard.route.reason': this.#text(e.data.reason),
            ...(e.data.candidates.length
              ? candidateAttrs('switchboard.route.candidates', e.data.candidates)
              : {}),
          });
        }
        this.#end(at, out, 'escalated', { code: 'unset' });
        break;
      }
      case 'agent.started':
        this.#setAgent(e.data.agent, e.data.version);
        if (this.#run && e.data.digest) this.#run.attributes['switchboard.agent.digest'] = e.data.digest;
        break;
      case 'run.completed':
        this.#totals(e.data.totals);
        if (this.#run) this.#content(this.#run, 'switchboard.run.output', e.data.output);
        this.#end(at, out, 'completed', { code: 'ok' });
        break;
      case 'run.failed':
        this.#totals(e.data.totals);
        if (this.#run) this.#run.attributes['error.type'] = e.data.error.name;
        this.#end(at, out, 'failed', { code: 'error', message: this.#text(e.data.error.message) });
        break;
      case 'run.cancelled':
        this.#totals(e.data.totals);
        this.#end(at, out, 'cancelled', { code: 'unset' });
        break;
    }
  }

  /** Moments of the run recorded as events on its root span. */
  #applyNote(e: NoteEvent, at: number): void {
    this.#run?.events.push({ name: e.type, timeMs: at, attributes: this.#noteAttributes(e) });
  }

  #noteAttributes(e: NoteEvent): Attributes {
    switch (e.type) {
      case 'memory.loaded':
        return { turns: e.data.turns, status: e.data.status };
      case 'memory.persisted':
        return { messages: e.data.messages };
      case 'memory.failed':
        return { 'error.type': e.data.error.name };
      case 'run.needs_attention':
        return { 'switchboard.call.id': e.data.callId, 'gen_ai.tool.name': e.data.tool };
      case 'run.resumed':
        return { 'switchboard.call.id': e.data.callId, resolution: e.data.resolution };
      case 'progress':
        return this.#o.captureContent ? { message: this.#text(e.data.message) } : {};
    }
  }

  /** Step spans and the model call in each. */
  #applyStep(
    e: EventOf<'tools.retrieved' | 'model.requested' | 'model.responded'>,
    at: number,
    out: SpanRecord[],
  ): void {
    switch (e.type) {
      case 'tools.retrieved': {
        this.#closeStep(at, out);
        const step = this.#ensureStep(at);
        Object.assign(step.attributes, {
          'switchboard.tools.shown': e.data.shown,
          'switchboard.tools.available': e.data.totalAvailable,
          'switchboard.tools.threshold': e.data.threshold,
          ...(e.data.candidates.length
            ? candidateAttrs('switchboard.tools.candidates', e.data.candidates)
            : {}),
        });
        break;
      }
      case 'model.requested': {
        // A step opened by tool retrieval is continued; otherwise the previous step is over.
        if (this.#step && this.#step.attributes['switchboard.model.requested'] !== undefined)
          this.#closeStep(at, out);
        const step = this.#ensureStep(at);
        step.attributes['switchboard.model.requested'] = true;
        this.#model = this.#open(`model:${this.#stepNo}`, `chat ${e.data.modelId}`, at, step.spanId, {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': e.data.modelId,
          'gen_ai.provider.name': e.data.provider,
          'switchboard.model.tools': e.data.tools,
          'switchboard.model.messages': e.data.messages,
          ...this.#agentAttrs(),
        });
        this.#model.kind = 'client';
        break;
      }
      case 'model.responded': {
        const model = this.#model;
        if (model) {
          const cost = this.#o.prices ? costOf(this.#o.prices, e.data.modelId, e.data.usage) : undefined;
          Object.assign(model.attributes, {
            'gen_ai.response.model': e.data.modelId,
            'gen_ai.usage.input_tokens': e.data.usage.inputTokens,
            'gen_ai.usage.output_tokens': e.data.usage.outputTokens,
            'gen_ai.response.finish_reasons': [e.data.finishReason],
            'switchboard.model.latency_ms': e.data.latencyMs,
            'switchboard.model.tool_calls': e.data.toolCalls.map((c) => c.toolName),
            ...(cost !== undefined ? { 'switchboard.cost.usd': cost } : {}),
          });
          this.#content(model, 'switchboard.model.output', e.data.text);
          model.status = { code: 'ok' };
          this.#close(model, at, out);
          this.#model = undefined;
        }
        const step = this.#step;
        for (const c of e.data.toolCalls) {
          if (step) this.#callStep.set(c.callId, step.spanId);
          this.#modelCallIds.set(c.callId, c.modelCallId);
        }
        // An answer ends the step; a step with tool calls lasts until its calls are done.
        if (e.data.toolCalls.length === 0) this.#closeStep(at, out);
        break;
      }
    }
  }

  /** Tool-call spans, and the approval and delegation spans under them. */
  #applyCall(
    e: EventOf<
      | 'tool.started'
      | 'tool.succeeded'
      | 'tool.failed'
      | 'tool.denied'
      | 'approval.requested'
      | 'approval.decided'
      | 'delegation.requested'
      | 'delegation.completed'
    >,
    at: number,
    out: SpanRecord[],
  ): void {
    switch (e.type) {
      case 'tool.started': {
        const span = this.#ensureCall(e.data.callId, e.data.tool, at);
        span.attributes['switchboard.tool.attempts'] = e.data.attempt;
        span.attributes['switchboard.tool.idempotency_key'] = this.#text(e.data.idempotencyKey);
        span.events.push({
          name: 'tool.attempt',
          timeMs: at,
          attributes: { attempt: e.data.attempt, ...(e.data.recovery ? { recovery: e.data.recovery } : {}) },
        });
        if (e.data.attempt === 1 || span.attributes['switchboard.tool.arguments'] === undefined)
          this.#content(span, 'switchboard.tool.arguments', e.data.args);
        break;
      }
      case 'tool.succeeded': {
        const span = this.#ensureCall(e.data.callId, e.data.tool, at);
        if (e.data.reconciled) span.attributes['switchboard.tool.reconciled'] = true;
        this.#content(span, 'switchboard.tool.result', e.data.result);
        this.#endCall(e.data.callId, at, out, { code: 'ok' });
        break;
      }
      case 'tool.failed': {
        const span = this.#ensureCall(e.data.callId, e.data.tool, at);
        const retry = e.data.nextAttemptAt !== undefined;
        span.events.push({
          name: retry ? 'tool.retry' : 'tool.failed',
          timeMs: at,
          attributes: {
            attempt: e.data.attempt,
            'error.type': e.data.error.name,
            'switchboard.error.code': e.data.error.code,
            retryable: e.data.retryable,
            ...(retry ? { 'switchboard.retry.next_attempt_at': e.data.nextAttemptAt ?? 0 } : {}),
          },
        });
        if (!retry) {
          span.attributes['error.type'] = e.data.error.name;
          this.#endCall(e.data.callId, at, out, { code: 'error', message: this.#text(e.data.error.message) });
        }
        break;
      }
      case 'tool.denied': {
        const span = this.#ensureCall(e.data.callId, e.data.tool, at);
        span.attributes['switchboard.tool.denied'] = e.data.reason;
        span.attributes['error.type'] = 'denied';
        this.#endCall(e.data.callId, at, out, { code: 'error', message: `denied: ${e.data.reason}` });
        break;
      }
      case 'approval.requested': {
        const call = this.#ensureCall(e.data.callId, e.data.tool, at);
        const span = this.#open(`approval:${e.data.approvalId}`, `approval ${e.data.tool}`, at, call.spanId, {
          'switchboard.approval.id': e.data.approvalId,
          'switchboard.approval.reasons': e.data.reasons.map((r) => this.#text(r)),
          'switchboard.approval.requested_by': this.#text(e.data.requestedBy),
          'gen_ai.tool.name': e.data.tool,
        });
        this.#approvals.set(e.data.approvalId, span);
        break;
      }
      case 'approval.decided': {
        const span = this.#approvals.get(e.data.approvalId);
        if (span) {
          span.attributes['switchboard.approval.decision'] = e.data.decision;
          span.attributes['switchboard.approval.approver'] = this.#text(e.data.approver);
          span.status = e.data.decision === 'approved' ? { code: 'ok' } : { code: 'unset' };
          this.#approvals.delete(e.data.approvalId);
          this.#close(span, at, out);
        }
        break;
      }
      case 'delegation.requested': {
        const span = this.#ensureCall(e.data.callId, `delegate_to_${e.data.agent}`, at);
        Object.assign(span.attributes, {
          'switchboard.delegation.agent': e.data.agent,
          'switchboard.delegation.child_run.id': e.data.childRunId,
        });
        this.#content(span, 'switchboard.delegation.task', e.data.task);
        break;
      }
      case 'delegation.completed': {
        const span = this.#calls.get(e.data.callId);
        if (span) span.attributes['switchboard.delegation.status'] = e.data.status;
        this.#endCall(
          e.data.callId,
          at,
          out,
          e.data.status === 'completed'
            ? { code: 'ok' }
            : { code: 'error', message: `delegated run ${e.data.status}` },
        );
        break;
      }
    }
  }

  #setAgent(agent: string, version: string | undefined): void {
    this.#agent = agent;
    if (version) this.#version = version;
    if (this.#run) {
      this.#run.name = `invoke_agent ${agent}`;
      this.#run.attributes['gen_ai.agent.name'] = agent;
      if (this.#version) this.#run.attributes['switchboard.agent.version'] = this.#version;
    }
  }

  #totals(t: {
    inputTokens: number;
    outputTokens: number;
    steps: number;
    toolCalls: number;
    durationMs: number;
  }): void {
    if (!this.#run) return;
    Object.assign(this.#run.attributes, {
      'gen_ai.usage.input_tokens': t.inputTokens,
      'gen_ai.usage.output_tokens': t.outputTokens,
      'switchboard.run.steps': t.steps,
      'switchboard.run.tool_calls': t.toolCalls,
    });
  }

  #closeStep(at: number, out: SpanRecord[]): void {
    if (!this.#step) return;
    // Calls of the step that are still open end with it (a step never outlives its calls' parent).
    this.#close(this.#step, at, out);
    this.#step = undefined;
  }

  #end(at: number, out: SpanRecord[], status: string, code: SpanRecord['status']): void {
    for (const span of this.#approvals.values()) this.#close(span, at, out);
    this.#approvals.clear();
    for (const span of this.#calls.values()) this.#close(span, at, out);
    this.#calls.clear();
    this.#close(this.#model, at, out);
    this.#model = undefined;
    this.#close(this.#route, at, out);
    this.#route = undefined;
    this.#closeStep(at, out);
    if (this.#run) {
      this.#run.attributes['switchboard.run.status'] = status;
      this.#run.status = code;
    }
    this.#close(this.#run, at, out);
    this.#run = undefined;
    this.#ended = true;
  }
}
