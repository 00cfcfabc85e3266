/**
 * The replay of one run, step by step: the engine's decisions (core/run-state.ts `decide` and
 * core/decisions) over the fold of the journal, with model and tool outputs served from the
 * recording. Each step compares what the code would do with the event the journal recorded.
 */
import { chooseRoute } from '../core/decisions/route.ts';
import { retrieverOf, stepTools } from '../core/decisions/retrieval.ts';
import { decideCall, type CallDecision } from '../core/decisions/admission.ts';
import { canonical, parseModelOutput } from '../core/decisions/output.ts';
import type { JournalEvent } from '../core/events.ts';
import { historyChecks, type PolicySubject } from '../core/policy.ts';
import {
  applyEvent,
  decide,
  initialState,
  type CallState,
  type NextAction,
  type RunState,
} from '../core/run-state.ts';
import type { AgentRuntime } from '../runtime/agents.ts';
import { buildPrompt, legacyMessageCount, wireMessageCount } from '../runtime/prompt.ts';
import { BUILTIN_INPUTS } from '../runtime/tools.ts';
import type { Divergence, DivergenceKind, JournalSource, ReplayConfig, RunReplay } from './types.ts';

/** Events that arrive from outside the run's own worker (other runs, people, operators). */
const EXTERNAL = new Set(['delegation.completed', 'approval.decided', 'run.resumed', 'run.cancelled']);
const INFORMATIONAL = new Set(['progress', 'memory.loaded', 'memory.persisted', 'memory.failed']);
/** Events that say what became of a call (a circuit breaker's change and milestones only accompany it). */
const CALL_OUTCOMES = new Set([
  'tool.started',
  'tool.failed',
  'tool.denied',
  'delegation.requested',
  'approval.requested',
  'run.escalated',
  'run.failed',
]);

/** A divergence, thrown to end the replay of the run at the step where it happens. */
export class Divergent extends Error {
  readonly divergence: Divergence;
  constructor(d: Divergence) {
    super(d.message);
    this.divergence = d;
  }
}

/** The outcome of a call, as a word both sides can be compared by. */
function decisionKind(d: CallDecision): string {
  if (d.kind === 'deny') return `deny:${d.reason}`;
  if (d.kind === 'require-approval') return 'approval';
  if (d.kind === 'fail') return 'run.failed';
  return d.kind;
}

function recordedKind(e: JournalEvent | undefined): string {
  if (!e) return 'end';
  if (e.type === 'tool.started' || e.type === 'tool.failed') return 'run';
  if (e.type === 'tool.denied') return `deny:${e.data.reason}`;
  if (e.type === 'delegation.requested') return 'delegate';
  if (e.type === 'approval.requested') return 'approval';
  if (e.type === 'run.escalated') return 'escalate';
  return e.type;
}

export class Replayer {
  readonly report: RunReplay;
  readonly #events: readonly JournalEvent[];
  readonly #state: RunState;
  readonly #config: ReplayConfig;
  readonly #source: JournalSource;
  /** Agents whose version differs from the recording (their model is asked again when `live`). */
  readonly #changed = new Set<string>();
  #i = 1;

  constructor(source: JournalSource, events: readonly JournalEvent[], config: ReplayConfig) {
    const first = events[0];
    if (!first) throw new Error('a run without a journal cannot be replayed');
    this.#source = source;
    this.#events = events;
    this.#config = config;
    this.#state = initialState(first);
    this.report = {
      runId: first.runId,
      agent: null,
      status: this.#state.status,
      eventsReplayed: 1,
      eventsTotal: events.length,
      decisions: 0,
      modelOutputsServed: 0,
      modelCallsMade: 0,
      toolOutputsServed: 0,
      notes: [],
      divergence: null,
      children: [],
    };
  }

  /** Replay every recorded event; the report holds the first divergence, if any. */
  async run(): Promise<RunReplay> {
    try {
      for (let next = this.#peek(); next; next = this.#peek()) {
        if (EXTERNAL.has(next.type) || INFORMATIONAL.has(next.type)) {
          this.#apply(next);
          continue;
        }
        const action = decide(this.#state, next.at, this.#state.submitted.budget);
        this.report.decisions += 1;
        await this.#step(action, next);
      }
    } catch (error) {
      if (!(error instanceof Divergent)) throw error;
      this.report.divergence = error.divergence;
    }
    this.report.agent = this.#state.agent ?? null;
    this.report.status = this.#state.status;
    return this.report;
  }

  async #step(action: NextAction, next: JournalEvent): Promise<void> {
    switch (action.kind) {
      case 'none':
        return this.#diverge(
          next,
          'decision',
          next.type,
          `wait (${action.reason})`,
          `the code would wait (${action.reason}); the journal recorded ${next.type}`,
        );
      case 'sleep':
        return this.#diverge(
          next,
          'decision',
          next.type,
          `sleep until ${action.until}`,
          `the code would wait for a retry until ${new Date(action.until).toISOString()}`,
        );
      case 'expire-approval':
        return this.#apply(this.#expect(['approval.decided'], 'expire the approval'));
      case 'route':
        return this.#route();
      case 'start-agent':
        return this.#startAgent();
      case 'model':
        return this.#model();
      case 'call':
        return this.#call(action.call, action.attempt);
      case 'in-doubt': {
        const e = this.#expect(
          ['tool.started', 'tool.succeeded', 'run.needs_attention'],
          `recover in-doubt call ${action.call.call.callId}`,
        );
        this.report.notes.push(`in-doubt call ${action.call.call.callId} recovered as recorded (${e.type})`);
        return this.#serveCall(action.call.call.callId);
      }
      case 'complete': {
        const e = this.#expect(['run.completed'], 'complete the run');
        if (e.type === 'run.completed' && e.data.output !== action.output)
          this.#diverge(e, 'decision', e.data.output, action.output, 'the final answer differs');
        return this.#apply(e);
      }
      case 'escalate':
        return this.#apply(this.#expect(['run.escalated'], 'escalate the run, as its delegated run did'));
      case 'fail': {
        const e = this.#expect(['run.failed'], `fail the run (${action.error.code})`);
        if (e.type === 'run.failed' && e.data.error.code !== action.error.code)
          this.#diverge(e, 'decision', e.data.error.code, action.error.code, 'the failure differs');
        return this.#apply(e);
      }
    }
  }

  #peek(): JournalEvent | undefined {
    return this.#events[this.#i];
  }

  #apply(e: JournalEvent): void {
    applyEvent(this.#state, e);
    this.report.eventsReplayed += 1;
    this.#i += 1;
  }

  #diverge(
    e: JournalEvent | undefined,
    kind: DivergenceKind,
    recorded: unknown,
    replayed: unknown,
    message: string,
  ): never {
    const s = this.#state;
    const modelStep = kind === 'model-response' || kind === 'model-request' || kind === 'tools-shown';
    throw new Divergent({
      runId: this.report.runId,
      seq: e?.seq ?? s.seq + 1,
      step: s.steps + (modelStep ? 1 : 0),
      kind,
      agent: s.agent ?? null,
      recorded,
      replayed,
      message,
    });
  }

  #expect(types: string[], what: string): JournalEvent {
    const e = this.#peek();
    if (!e || !types.includes(e.type))
      return this.#diverge(
        e,
        'decision',
        e?.type ?? '(end of journal)',
        what,
        `the code would ${what}; the journal recorded ${e?.type ?? 'nothing more'}`,
      );
    return e;
  }

  /** Apply the recorded events of a call up to and including its outcome (tool outputs are served). */
  #serveCall(callId: string): void {
    for (let e = this.#peek(); e; e = this.#peek()) {
      this.#apply(e);
      if (e.type === 'tool.succeeded' || e.type === 'tool.failed') {
        if (e.data.callId !== callId) continue;
        this.report.toolOutputsServed += 1;
        return;
      }
      if (
        (e.type === 'tool.denied' ||
          e.type === 'delegation.requested' ||
          e.type === 'approval.requested' ||
          e.type === 'run.needs_attention' ||
          e.type === 'run.escalated') &&
        e.data.callId === callId
      )
        return;
      if (e.type === 'run.failed') return;
    }
  }

  #agent(e: JournalEvent | undefined): AgentRuntime {
    const agent = this.#config.agents.get(this.#state.agent ?? '');
    if (!agent)
      return this.#diverge(
        e,
        'agent',
        this.#state.agent,
        null,
        `agent ${this.#state.agent} no longer exists`,
      );
    return agent;
  }

  #route(): void {
    const e = this.#expect(['route.decided', 'route.escalated'], 'route the run');
    const route = chooseRoute(this.#state.submitted, {
      agentNames: [...this.#config.agents.keys()],
      router: this.#config.router,
      defaultAgent: this.#config.defaultAgent,
    });
    const recorded = e.type === 'route.decided' ? e.data.agent : null;
    const replayed = route.kind === 'decided' ? route.decided.agent : null;
    if (replayed !== recorded)
      this.#diverge(
        e,
        'route',
        recorded,
        replayed,
        `routed to ${replayed ?? '(escalation)'} instead of ${recorded ?? '(escalation)'}`,
      );
    this.#apply(e);
  }

  #startAgent(): void {
    const e = this.#expect(['agent.started', 'run.failed'], `start agent ${this.#state.agent}`);
    const agent = this.#config.agents.get(this.#state.agent ?? '');
    if (e.type === 'run.failed') {
      if (agent)
        this.#diverge(
          e,
          'agent',
          'unknown agent',
          this.#state.agent,
          `agent ${this.#state.agent} exists now`,
        );
      return this.#apply(e);
    }
    if (e.type !== 'agent.started') return;
    if (!agent) this.#diverge(e, 'agent', e.data.agent, null, `agent ${e.data.agent} no longer exists`);
    if (agent.version !== e.data.version) {
      this.#changed.add(agent.name);
      this.report.notes.push(
        `agent ${agent.name} changed since the recording (version ${e.data.version} → ${agent.version})`,
      );
    }
    this.#apply(e);
  }

  /** One model step: the tools shown, the request's shape, then the answer (served, or asked again). */
  async #model(): Promise<void> {
    const agent = this.#agent(this.#peek());
    const state = this.#state;
    const first = this.#expect(['tools.retrieved', 'model.requested'], `call the model of ${agent.name}`);
    const { retrieved, specs } = stepTools(
      agent.specs,
      state.turns,
      retrieverOf(this.#config.retrievers, agent),
      agent.def.toolRetrieval,
    );
    if (retrieved) {
      if (first.type !== 'tools.retrieved')
        this.#diverge(
          first,
          'tools-shown',
          '(no retrieval)',
          retrieved.shown,
          'the code retrieves tools; the recording did not',
        );
      if (canonical(first.data.shown) !== canonical(retrieved.shown))
        this.#diverge(
          first,
          'tools-shown',
          first.data.shown,
          retrieved.shown,
          `tools shown to ${agent.name} differ`,
        );
    }
    // Retrieval off now: the recorded retrieval is applied and the full tool list compared below.
    if (first.type === 'tools.retrieved') this.#apply(first);
    const requested = this.#expect(['model.requested'], `call the model of ${agent.name}`);
    if (requested.type !== 'model.requested') return;
    const prompt = buildPrompt(state, agent);
    const tools = specs.map((s) => s.name);
    if (canonical(requested.data.tools) !== canonical(tools))
      this.#diverge(
        requested,
        'model-request',
        requested.data.tools,
        tools,
        `the model of ${agent.name} would be shown other tools`,
      );
    // Wire messages now; SDK prompt parts (one system message per section) in older journals.
    const sent = wireMessageCount(prompt, agent.model.provider);
    if (requested.data.messages !== sent && requested.data.messages !== legacyMessageCount(state, prompt))
      this.#diverge(
        requested,
        'model-request',
        `${requested.data.messages} messages`,
        `${sent} messages`,
        'the prompt has another shape',
      );
    this.#apply(requested);
    const outcome = this.#expect(['model.responded', 'run.failed'], `receive the model's answer`);
    if (outcome.type === 'model.responded' && this.#config.live && this.#changed.has(agent.name)) {
      this.report.modelCallsMade += 1;
      const result = await agent.model.doGenerate({ prompt, tools: specs });
      const answer = parseModelOutput(result.content, result.finishReason.unified, state.steps + 1);
      const callsOf = (calls: { toolName: string; input: unknown }[]) =>
        calls.map((c) => ({ toolName: c.toolName, input: c.input }));
      const recorded = { text: outcome.data.text, toolCalls: callsOf(outcome.data.toolCalls) };
      const replayed = { text: answer.text, toolCalls: callsOf(answer.toolCalls) };
      if (
        canonical(recorded.toolCalls) !== canonical(replayed.toolCalls) ||
        (answer.toolCalls.length === 0 && answer.text !== outcome.data.text)
      )
        this.#diverge(
          outcome,
          'model-response',
          recorded,
          replayed,
          `${agent.name} would answer differently at step ${state.steps + 1}`,
        );
    } else if (outcome.type === 'model.responded') {
      this.report.modelOutputsServed += 1;
    }
    this.#apply(outcome);
  }

  /** The recorded event that says what became of the next call (a breaker change or milestone may precede it). */
  #recordedOutcome(): JournalEvent | undefined {
    for (let k = this.#i; k < this.#events.length; k++) {
      const e = this.#events[k];
      if (e && CALL_OUTCOMES.has(e.type)) return e;
    }
    return undefined;
  }

  /**
   * The history rules' verdict, served from the recording like any outcome that depends on the
   * world outside the run (the policy ledger): the history rules a recorded approval names, or, for
   * a recorded policy denial, the deny rules over history that cover the call.
   */
  #recordedHistory(e: JournalEvent | undefined, subject: PolicySubject): Map<string, string> {
    const hits = new Map<string, string>();
    const rules = this.#config.policies ?? [];
    if (e?.type === 'approval.requested')
      for (const r of rules)
        if (r.match.history && e.data.rules.includes(r.id)) hits.set(r.id, 'as recorded');
    if (e?.type === 'tool.denied' && e.data.reason === 'policy-denied')
      for (const c of historyChecks(rules, subject))
        if (c.rule.effect === 'deny') hits.set(c.rule.id, 'as recorded');
    return hits;
  }

  /** A model-emitted call: the engine's admission decides, the recording says what happened. */
  async #call(c: CallState, attempt: number): Promise<void> {
    const agent = this.#agent(this.#peek());
    const e = this.#recordedOutcome();
    const d = await decideCall(
      { agent, state: this.#state, call: c, policies: this.#config.policies ?? [], builtins: BUILTIN_INPUTS },
      (subject, approved) => (approved ? new Map() : this.#recordedHistory(e, subject)),
    );
    const expected = decisionKind(d);
    const recorded = recordedKind(e);
    const unjudged =
      this.#config.policies === undefined &&
      (recorded === 'approval' || recorded === 'deny:policy-denied' || expected === 'approval');
    if (unjudged)
      this.report.notes.push(
        `call ${c.call.callId} (${c.call.toolName}): ${recorded} served from the journal (no policies given, none re-evaluated)`,
      );
    else if (recorded !== expected)
      this.#diverge(
        e,
        'tool-call',
        { call: c.call.toolName, outcome: recorded },
        { call: c.call.toolName, outcome: expected },
        `call ${c.call.callId} (${c.call.toolName}) would ${expected} instead of ${recorded}`,
      );
    if (e?.type === 'tool.started') {
      if (e.data.attempt !== attempt)
        this.#diverge(
          e,
          'decision',
          `attempt ${e.data.attempt}`,
          `attempt ${attempt}`,
          `attempt numbers differ`,
        );
      if (d.kind === 'run' && canonical(d.args) !== canonical(e.data.args))
        this.#diverge(e, 'tool-call', e.data.args, d.args, `arguments of ${c.call.toolName} differ`);
    }
    if (e?.type === 'delegation.requested' && d.kind === 'delegate' && d.target !== e.data.agent)
      this.#diverge(e, 'tool-call', e.data.agent, d.target, `delegation target differs`);
    this.#serveCall(c.call.callId);
    const last = this.#events[this.#i - 1];
    if (last?.type === 'delegation.requested') await this.#child(last.data.childRunId);
  }

  async #child(childRunId: string): Promise<void> {
    const child = await replayTree(this.#source, childRunId, this.#config).catch((error: unknown) => {
      this.report.notes.push(
        `child run ${childRunId} not replayed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return null;
    });
    if (!child) return;
    this.report.children.push(child);
    const d = firstOf(child);
    if (d) throw new Divergent(d);
  }
}

/** Replay a run and, recursively, the runs it delegated to. */
export async function replayTree(
  source: JournalSource,
  runId: string,
  config: ReplayConfig,
): Promise<RunReplay> {
  const events = await source(runId);
  if (events.length === 0) throw new Error(`run ${runId} has no journal`);
  return new Replayer(source, events, config).run();
}

function firstOf(r: RunReplay): Divergence | null {
  if (r.divergence) return r.divergence;
  for (const c of r.children) {
    const d = firstOf(c);
    if (d) return d;
  }
  return null;
}
