/**
 * Replay: re-execute a recorded run with the engine's own pure decision function (`decide`) over
 * the fold of its journal, serving model and tool outputs from the recording — no model call, no
 * tool effect — and check at every step that the code would take the step the journal recorded:
 * the same route, the same tools shown, the same prompt shape, the same tool checks, the same end.
 *
 * With changed agents (`live`), agents whose version differs from the recording are asked again
 * (their model sees the rebuilt prompt), and the replay stops at the first divergence: which agent,
 * which tool, which arguments.
 */
import type { LanguageModelV4FunctionTool } from '@ai-sdk/provider';
import type { AgentRouter, ToolRetrieverLike } from '../core/routing-port.ts';
import type { JournalEvent, ToolCallData } from '../core/events.ts';
import { applyEvent, decide, initialState, type RunState } from '../core/run-state.ts';
import { delegationInput, type AgentRuntime } from '../runtime/agents.ts';
import { buildPrompt, legacyMessageCount, wireMessageCount } from '../runtime/prompt.ts';

/** What the replay runs against: the code's agents and routing (e.g. `replayConfigOf(system)`). */
export interface ReplayConfig {
  agents: ReadonlyMap<string, AgentRuntime>;
  router?: AgentRouter | undefined;
  retrievers?: ReadonlyMap<string, ToolRetrieverLike> | undefined;
  defaultAgent?: string | undefined;
  /**
   * Ask the model again for agents whose version differs from the recording (a changed
   * instruction, model or tool set). Off: every model output is served from the journal.
   */
  live?: boolean;
}

export type DivergenceKind =
  'route' | 'agent' | 'tools-shown' | 'model-request' | 'model-response' | 'tool-call' | 'decision' | 'child';

export interface Divergence {
  runId: string;
  /** The recorded event at which the code would do something else. */
  seq: number;
  /** The agent step (model call number) where it happens; 0 before the first model call. */
  step: number;
  kind: DivergenceKind;
  agent: string | null;
  recorded: unknown;
  replayed: unknown;
  message: string;
}

export interface RunReplay {
  runId: string;
  agent: string | null;
  status: string;
  eventsReplayed: number;
  eventsTotal: number;
  decisions: number;
  modelOutputsServed: number;
  modelCallsMade: number;
  toolOutputsServed: number;
  notes: string[];
  divergence: Divergence | null;
  children: RunReplay[];
}

/** Source of recorded journals (a store's journal, or a fixture's runs). */
export type JournalSource = (runId: string) => Promise<readonly JournalEvent[]>;

/** The replay configuration of a running system: its agents, router and retrievers. */
export function replayConfigOf(system: {
  agents: ReadonlyMap<string, AgentRuntime>;
  routing: {
    router?: AgentRouter;
    retrievers?: ReadonlyMap<string, ToolRetrieverLike>;
    defaultAgent?: string;
  };
}): ReplayConfig {
  return {
    agents: system.agents,
    router: system.routing.router,
    retrievers: system.routing.retrievers,
    defaultAgent: system.routing.defaultAgent,
  };
}

/** JSON with sorted keys: argument comparison independent of key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

/** The text the engine gives the tool retriever: the conversation so far (as runtime/engine.ts). */
function retrievalQuery(state: RunState): string {
  return state.turns
    .map((t) => (t.role === 'tool' ? `${t.toolName} ${JSON.stringify(t.output)}` : t.text))
    .join('\n');
}

/** Events that arrive from outside the run's own worker (other runs, people, operators). */
const EXTERNAL = new Set(['delegation.completed', 'approval.decided', 'run.resumed', 'run.cancelled']);
const INFORMATIONAL = new Set(['progress', 'memory.loaded', 'memory.persisted', 'memory.failed']);

class Divergent extends Error {
  readonly divergence: Divergence;
  constructor(d: Divergence) {
    super(d.message);
    this.divergence = d;
  }
}

/**
 * Replay one run and, recursively, the runs it delegated to.
 * @example
 * const report = await replayRun((id) => store.journal.read(id), runId, replayConfigOf(system));
 * if (report.divergence) console.log(formatReplay(report));
 */
export async function replayRun(
  source: JournalSource,
  runId: string,
  config: ReplayConfig,
): Promise<RunReplay> {
  const events = await source(runId);
  const first = events[0];
  if (!first) throw new Error(`run ${runId} has no journal`);
  const state = initialState(first);
  const report: RunReplay = {
    runId,
    agent: null,
    status: state.status,
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
  const changed = new Set<string>();
  let i = 1;
  const peek = (): JournalEvent | undefined => events[i];
  const apply = (e: JournalEvent): void => {
    applyEvent(state, e);
    report.eventsReplayed += 1;
    i += 1;
  };
  const diverge = (
    e: JournalEvent | undefined,
    kind: DivergenceKind,
    recorded: unknown,
    replayed: unknown,
    message: string,
  ): never => {
    throw new Divergent({
      runId,
      seq: e?.seq ?? state.seq + 1,
      step:
        state.steps +
        (kind === 'model-response' || kind === 'model-request' || kind === 'tools-shown' ? 1 : 0),
      kind,
      agent: state.agent ?? null,
      recorded,
      replayed,
      message,
    });
  };
  const expect = (types: string[], what: string): JournalEvent => {
    const e = peek();
    if (!e || !types.includes(e.type))
      return diverge(
        e,
        'decision',
        e?.type ?? '(end of journal)',
        what,
        `the code would ${what}; the journal recorded ${e?.type ?? 'nothing more'}`,
      );
    return e;
  };
  /** Apply the recorded events of a call up to and including its outcome (tool outputs are served). */
  const serveCall = (callId: string): void => {
    for (let e = peek(); e; e = peek()) {
      apply(e);
      if (
        (e.type === 'tool.succeeded' ||
          e.type === 'tool.denied' ||
          e.type === 'delegation.requested' ||
          e.type === 'approval.requested' ||
          e.type === 'run.needs_attention') &&
        e.data.callId === callId
      ) {
        if (e.type === 'tool.succeeded') report.toolOutputsServed += 1;
        return;
      }
      if (e.type === 'tool.failed' && e.data.callId === callId) {
        report.toolOutputsServed += 1;
        return;
      }
      if (e.type === 'run.failed') return;
    }
  };

  try {
    while (i < events.length) {
      const next = peek();
      if (!next) break;
      if (EXTERNAL.has(next.type) || INFORMATIONAL.has(next.type)) {
        apply(next);
        continue;
      }
      const action = decide(state, next.at, state.submitted.budget);
      report.decisions += 1;
      switch (action.kind) {
        case 'none':
          diverge(
            next,
            'decision',
            next.type,
            `wait (${action.reason})`,
            `the code would wait (${action.reason}); the journal recorded ${next.type}`,
          );
          break;
        case 'sleep':
          diverge(
            next,
            'decision',
            next.type,
            `sleep until ${action.until}`,
            `the code would wait for a retry until ${new Date(action.until).toISOString()}`,
          );
          break;
        case 'route': {
          const e = expect(['route.decided', 'route.escalated'], 'route the run');
          const recorded = e.type === 'route.decided' ? e.data.agent : null;
          const replayed = routeOf(config, state);
          if (replayed !== recorded)
            diverge(
              e,
              'route',
              recorded,
              replayed,
              `routed to ${replayed ?? '(escalation)'} instead of ${recorded ?? '(escalation)'}`,
            );
          apply(e);
          break;
        }
        case 'start-agent': {
          const e = expect(['agent.started', 'run.failed'], `start agent ${state.agent}`);
          const agent = config.agents.get(state.agent ?? '');
          if (e.type === 'run.failed') {
            if (agent) diverge(e, 'agent', 'unknown agent', state.agent, `agent ${state.agent} exists now`);
            apply(e);
            break;
          }
          if (e.type !== 'agent.started') break;
          if (!agent) diverge(e, 'agent', e.data.agent, null, `agent ${e.data.agent} no longer exists`);
          else if (agent.version !== e.data.version) {
            changed.add(agent.name);
            report.notes.push(
              `agent ${agent.name} changed since the recording (version ${e.data.version} → ${agent.version})`,
            );
          }
          apply(e);
          break;
        }
        case 'model':
          await replayModelStep(state, config, changed, report, peek, apply, diverge, expect);
          break;
        case 'call': {
          const call = action.call.call;
          const expected = expectedCallOutcome(state, config, call);
          const e = peek();
          const recordedKind =
            e?.type === 'tool.started'
              ? 'run'
              : e?.type === 'tool.denied'
                ? `deny:${e.data.reason}`
                : e?.type === 'delegation.requested'
                  ? 'delegate'
                  : e?.type === 'approval.requested'
                    ? 'approval'
                    : (e?.type ?? 'end');
          if (e?.type === 'approval.requested') {
            report.notes.push(
              `approval ${e.data.approvalId} served from the journal (policies are not re-evaluated)`,
            );
          } else if (recordedKind !== expected.kind) {
            diverge(
              e,
              'tool-call',
              { call: call.toolName, outcome: recordedKind },
              { call: call.toolName, outcome: expected.kind },
              `call ${call.callId} (${call.toolName}) would ${expected.kind} instead of ${recordedKind}`,
            );
          }
          if (e?.type === 'tool.started') {
            if (e.data.attempt !== action.attempt)
              diverge(
                e,
                'decision',
                `attempt ${e.data.attempt}`,
                `attempt ${action.attempt}`,
                `attempt numbers differ`,
              );
            if (expected.args !== undefined && canonical(expected.args) !== canonical(e.data.args))
              diverge(e, 'tool-call', e.data.args, expected.args, `arguments of ${call.toolName} differ`);
          }
          if (e?.type === 'delegation.requested' && expected.target !== e.data.agent)
            diverge(e, 'tool-call', e.data.agent, expected.target, `delegation target differs`);
          serveCall(call.callId);
          const last = events[i - 1];
          if (last?.type === 'delegation.requested') {
            const child = await replayRun(source, last.data.childRunId, config).catch((error: unknown) => {
              report.notes.push(
                `child run ${last.data.childRunId} not replayed: ${error instanceof Error ? error.message : String(error)}`,
              );
              return null;
            });
            if (child) {
              report.children.push(child);
              const d = firstDivergence(child);
              if (d) throw new Divergent(d);
            }
          }
          break;
        }
        case 'in-doubt': {
          const e = expect(
            ['tool.started', 'tool.succeeded', 'run.needs_attention'],
            `recover in-doubt call ${action.call.call.callId}`,
          );
          report.notes.push(`in-doubt call ${action.call.call.callId} recovered as recorded (${e.type})`);
          serveCall(action.call.call.callId);
          break;
        }
        case 'complete': {
          const e = expect(['run.completed'], 'complete the run');
          if (e.type === 'run.completed' && e.data.output !== action.output)
            diverge(e, 'decision', e.data.output, action.output, 'the final answer differs');
          apply(e);
          break;
        }
        case 'escalate':
          apply(expect(['run.escalated'], 'escalate the run, as its delegated run did'));
          break;
        case 'fail': {
          const e = expect(['run.failed'], `fail the run (${action.error.code})`);
          if (e.type === 'run.failed' && e.data.error.code !== action.error.code)
            diverge(e, 'decision', e.data.error.code, action.error.code, 'the failure differs');
          apply(e);
          break;
        }
      }
    }
  } catch (error) {
    if (!(error instanceof Divergent)) throw error;
    report.divergence = error.divergence;
  }
  report.agent = state.agent ?? null;
  report.status = state.status;
  return report;
}

/** The first divergence in a replay tree (depth-first, in the order runs were delegated). */
export function firstDivergence(r: RunReplay): Divergence | null {
  if (r.divergence) return r.divergence;
  for (const c of r.children) {
    const d = firstDivergence(c);
    if (d) return d;
  }
  return null;
}

/** Totals over a replay tree. */
export function replayTotals(r: RunReplay): {
  runs: number;
  divergences: number;
  modelCallsMade: number;
  modelOutputsServed: number;
  toolOutputsServed: number;
  decisions: number;
} {
  const t = {
    runs: 1,
    divergences: r.divergence ? 1 : 0,
    modelCallsMade: r.modelCallsMade,
    modelOutputsServed: r.modelOutputsServed,
    toolOutputsServed: r.toolOutputsServed,
    decisions: r.decisions,
  };
  for (const c of r.children) {
    const ct = replayTotals(c);
    t.runs += ct.runs;
    t.divergences += ct.divergences;
    t.modelCallsMade += ct.modelCallsMade;
    t.modelOutputsServed += ct.modelOutputsServed;
    t.toolOutputsServed += ct.toolOutputsServed;
    t.decisions += ct.decisions;
  }
  return t;
}

/** The agent the code would route to (null: escalate), mirroring the engine's routing order. */
function routeOf(config: ReplayConfig, state: RunState): string | null {
  const sub = state.submitted;
  if (sub.agent) return sub.agent;
  if (config.router) {
    const d = config.router.route(sub.input);
    return d.choice !== null && config.agents.has(d.choice) ? d.choice : null;
  }
  const names = [...config.agents.keys()];
  return config.defaultAgent ?? (names.length === 1 ? (names[0] ?? null) : null);
}

/** What the engine's tool-call checks would do with a model-emitted call. */
function expectedCallOutcome(
  state: RunState,
  config: ReplayConfig,
  call: ToolCallData,
): { kind: string; args?: unknown; target?: string } {
  const agent = config.agents.get(state.agent ?? '');
  if (!agent) return { kind: 'deny:not-permitted' };
  const target = agent.delegates.get(call.toolName);
  if (target !== undefined) {
    if (!delegationInput.safeParse(call.input).success) return { kind: 'deny:invalid-arguments' };
    if ([...state.submitted.lineage, state.agent ?? ''].includes(target))
      return { kind: 'deny:delegation-cycle' };
    if (state.submitted.depth + 1 > state.submitted.budget.maxDelegationDepth) return { kind: 'run.failed' };
    return { kind: 'delegate', target };
  }
  const tool = agent.tools.get(call.toolName);
  if (!tool) return { kind: 'deny:not-permitted' };
  const parsed = tool.input.safeParse(call.input);
  if (!parsed.success) return { kind: 'deny:invalid-arguments' };
  return { kind: 'run', args: parsed.data };
}

async function replayModelStep(
  state: RunState,
  config: ReplayConfig,
  changed: ReadonlySet<string>,
  report: RunReplay,
  peek: () => JournalEvent | undefined,
  apply: (e: JournalEvent) => void,
  diverge: (
    e: JournalEvent | undefined,
    kind: DivergenceKind,
    recorded: unknown,
    replayed: unknown,
    message: string,
  ) => never,
  expect: (types: string[], what: string) => JournalEvent,
): Promise<void> {
  const agent = config.agents.get(state.agent ?? '');
  if (!agent) return diverge(peek(), 'agent', state.agent, null, `agent ${state.agent} no longer exists`);
  let specs: LanguageModelV4FunctionTool[] = agent.specs;
  const retriever = config.retrievers?.get(agent.name);
  const retrieval = agent.def.toolRetrieval;
  const first = expect(['tools.retrieved', 'model.requested'], `call the model of ${agent.name}`);
  if (retriever && retrieval?.enabled) {
    const r = retriever.retrieve(retrievalQuery(state), {
      permitted: new Set(specs.map((s) => s.name)),
      topK: retrieval.topK,
      pinned: retrieval.pinned,
    });
    if (first.type !== 'tools.retrieved')
      return diverge(
        first,
        'tools-shown',
        '(no retrieval)',
        r.shown,
        'the code retrieves tools; the recording did not',
      );
    if (canonical(first.data.shown) !== canonical(r.shown))
      return diverge(first, 'tools-shown', first.data.shown, r.shown, `tools shown to ${agent.name} differ`);
    apply(first);
    const order = new Map(r.shown.map((n, k) => [n, k]));
    specs = specs
      .filter((s) => order.has(s.name))
      .sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  } else if (first.type === 'tools.retrieved') {
    // Retrieval is off now: compare against the full tool list below.
    apply(first);
  }
  const requested = expect(['model.requested'], `call the model of ${agent.name}`);
  if (requested.type !== 'model.requested') return;
  const prompt = buildPrompt(state, agent);
  const tools = specs.map((s) => s.name);
  if (canonical(requested.data.tools) !== canonical(tools))
    return diverge(
      requested,
      'model-request',
      requested.data.tools,
      tools,
      `the model of ${agent.name} would be shown other tools`,
    );
  // Wire messages now; SDK prompt parts (one system message per section) in older journals.
  const sent = wireMessageCount(prompt, agent.model.provider);
  if (requested.data.messages !== sent && requested.data.messages !== legacyMessageCount(state, prompt))
    return diverge(
      requested,
      'model-request',
      `${requested.data.messages} messages`,
      `${sent} messages`,
      'the prompt has another shape',
    );
  apply(requested);
  const outcome = expect(['model.responded', 'run.failed'], `receive the model's answer`);
  if (outcome.type === 'model.responded' && config.live && changed.has(agent.name)) {
    report.modelCallsMade += 1;
    const result = await agent.model.doGenerate({ prompt, tools: specs });
    let text = '';
    const calls: { toolName: string; input: unknown }[] = [];
    for (const part of result.content) {
      if (part.type === 'text') text += part.text;
      else if (part.type === 'tool-call') {
        let input: unknown = part.input;
        try {
          input = part.input === '' ? {} : JSON.parse(part.input);
        } catch {
          // Kept raw, as the engine does.
        }
        calls.push({ toolName: part.toolName, input });
      }
    }
    const recorded = {
      text: outcome.data.text,
      toolCalls: outcome.data.toolCalls.map((c) => ({ toolName: c.toolName, input: c.input })),
    };
    const replayed = { text, toolCalls: calls };
    if (
      canonical(recorded.toolCalls) !== canonical(replayed.toolCalls) ||
      (calls.length === 0 && text !== outcome.data.text)
    )
      return diverge(
        outcome,
        'model-response',
        recorded,
        replayed,
        `${agent.name} would answer differently at step ${state.steps + 1}`,
      );
  } else if (outcome.type === 'model.responded') {
    report.modelOutputsServed += 1;
  }
  apply(outcome);
}
