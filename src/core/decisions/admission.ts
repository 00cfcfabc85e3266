/**
 * Whether a model-emitted call may go ahead, decided once for the engine and for replay. Every call
 * — the agent's tools, `delegate_to_*` and `escalate_to_human` alike — passes the same admission,
 * in this order: ownership (the agent has the tool), shown (only tools shown at this step may run:
 * retrieval narrows permission, not just the prompt), argument validation, an approval's binding to
 * its exact arguments, policies and the tool's own approval rule, then the delegation limits.
 *
 * Policies over history need the policy ledger (I/O): the caller passes a lookup that reserves (the
 * engine) or serves the recorded verdict (replay). Everything else is a function of its inputs.
 */
import type { ZodType } from 'zod';
import { prettifyError } from 'zod';
import { ESCALATE_TOOL } from '../agent.ts';
import { argsDigest } from '../audit.ts';
import type { DenialReason, ToolCallData } from '../events.ts';
import { evaluatePolicies, type PolicyDecision, type PolicyRule, type PolicySubject } from '../policy.ts';
import type { RunState } from '../run-state.ts';
import type { AnyTool } from '../tool.ts';
import { argumentsDenial } from './output.ts';

/** The arguments of a delegation (`delegate_to_<agent>`). */
export interface DelegationArgs {
  task: string;
  context?: Record<string, unknown> | undefined;
}

/** The arguments of an escalation (`escalate_to_human`). */
export interface EscalationArgs {
  summary: string;
  reason: string;
}

/** The input schemas of the built-in tools (runtime/agents.ts declares them). */
export interface BuiltinInputs {
  delegation: ZodType;
  escalation: ZodType;
}

/** What admission sees of an agent (an `AgentRuntime` is one). */
export interface AdmissionAgent {
  name: string;
  tools: ReadonlyMap<string, AnyTool>;
  /** Tool name → delegation target agent. */
  delegates: ReadonlyMap<string, string>;
  def: { escalation?: boolean | undefined };
}

/** The governed view of a call: built-in tools have no effect of their own and are governed as `read`. */
export type GovernedTool = Pick<AnyTool, 'name' | 'risk' | 'requiresApproval' | 'policyArgs'>;

/** What a call is, once admitted. */
export type Admitted =
  | { kind: 'tool'; tool: AnyTool; args: unknown }
  | { kind: 'delegate'; target: string; args: DelegationArgs }
  | { kind: 'escalate'; args: EscalationArgs };

/** A call that is refused, with the reason journaled in `tool.denied` and told to the model. */
export interface Denied {
  kind: 'deny';
  reason: DenialReason;
  message: string;
}

/**
 * Ownership, shown and validation.
 * @example
 * admitCall(agent, call, state.shownTools, { delegation: delegationInput, escalation: escalationInput });
 */
export function admitCall(
  agent: AdmissionAgent,
  call: ToolCallData,
  shown: readonly string[] | undefined,
  builtins: BuiltinInputs,
): Admitted | Denied {
  const name = call.toolName;
  const visible = !shown || shown.includes(name);
  const target = agent.delegates.get(name);
  const tool = agent.tools.get(name);
  const owned =
    tool !== undefined || target !== undefined || (name === ESCALATE_TOOL && agent.def.escalation === true);
  if (!owned || !visible) {
    const available = (shown ?? [...agent.tools.keys(), ...agent.delegates.keys()]).join(', ');
    const why = owned ? 'was not shown at this step' : `is not available to agent "${agent.name}"`;
    return {
      kind: 'deny',
      reason: 'not-permitted',
      message: `Tool "${name}" ${why}. Available: ${available}.`,
    };
  }
  if (call.argumentsError)
    return { kind: 'deny', reason: 'invalid-arguments', message: argumentsDenial(call, call.argumentsError) };
  const schema = tool ? tool.input : target !== undefined ? builtins.delegation : builtins.escalation;
  const parsed = schema.safeParse(call.input);
  if (!parsed.success) {
    return {
      kind: 'deny',
      reason: 'invalid-arguments',
      message: `Invalid arguments for ${name}: ${prettifyError(parsed.error)}`,
    };
  }
  if (tool) return { kind: 'tool', tool, args: parsed.data };
  if (target !== undefined) return { kind: 'delegate', target, args: parsed.data as DelegationArgs };
  return { kind: 'escalate', args: parsed.data as EscalationArgs };
}

/** The governed view of an admitted call: its name, risk and the tool's own approval rule. */
export function governedOf(name: string, a: Admitted): GovernedTool {
  return a.kind === 'tool' ? a.tool : { name, risk: 'read' };
}

/** What a run contributes to a policy subject. */
export type SubjectState = Pick<RunState, 'submitted' | 'agent' | 'routeConfidence'>;

/** What policies see of a call: the tool, the agent, the arguments (with the tool's facts) and the run's facts. */
export function policySubject(state: SubjectState, tool: GovernedTool, args: unknown): PolicySubject {
  const sub = state.submitted;
  const facts = tool.policyArgs?.(args);
  return {
    tool: tool.name,
    risk: tool.risk,
    agent: state.agent ?? '',
    args: facts && args !== null && typeof args === 'object' ? { ...args, ...facts } : args,
    actorId: sub.actorId,
    ...(sub.role !== undefined ? { role: sub.role } : {}),
    ...(state.routeConfidence !== undefined ? { routingConfidence: state.routeConfidence } : {}),
  };
}

/**
 * Policy rules plus the tool's own `requiresApproval`, evaluated outside the model. `historyHits`:
 * the history rules whose limit this call passes (the ledger refused the reservation), with why.
 */
export function governCall(
  policies: readonly PolicyRule[],
  tool: GovernedTool,
  subject: PolicySubject,
  args: unknown,
  historyHits: ReadonlyMap<string, string> = new Map(),
): PolicyDecision {
  const verdict = evaluatePolicies(policies, subject, historyHits);
  if (verdict.effect === 'deny') return verdict;
  const own = tool.requiresApproval?.(args, { actorId: subject.actorId ?? '', agent: subject.agent });
  if (!own) return verdict;
  const earlier = verdict.effect === 'require-approval' ? verdict : { reasons: [], rules: [] };
  return {
    effect: 'require-approval',
    reasons: [...earlier.reasons, typeof own === 'string' ? own : `${tool.name} requires approval`],
    rules: [...earlier.rules, 'tool:requiresApproval'],
  };
}

/** What the call's run state holds about it: the call, and an approver's decision bound to a digest. */
export interface CallSubject {
  call: ToolCallData;
  approved?: boolean | undefined;
  argsDigest?: string | undefined;
}

/** The history rules' verdict for a call: reserve (or record, when `approved`) and say which rules match. */
export type HistoryLookup = (
  subject: PolicySubject,
  approved: boolean,
) => ReadonlyMap<string, string> | Promise<ReadonlyMap<string, string>>;

/** Everything a call decision is made from. */
export interface CallInput {
  agent: AdmissionAgent;
  state: SubjectState & Pick<RunState, 'shownTools'>;
  call: CallSubject;
  policies: readonly PolicyRule[];
  builtins: BuiltinInputs;
}

/** What happens to a call. */
export type CallDecision =
  | Denied
  | { kind: 'require-approval'; tool: GovernedTool; args: unknown; verdict: PolicyDecision }
  /** A delegation past `maxDelegationDepth`: the run fails with `BudgetExceededError`. */
  | { kind: 'fail'; budget: 'maxDelegationDepth'; limit: number; used: number }
  | { kind: 'run'; tool: AnyTool; args: unknown }
  | { kind: 'delegate'; target: string; args: DelegationArgs; lineage: string[]; depth: number }
  | { kind: 'escalate'; args: EscalationArgs };

/**
 * Decide one call, in the engine's order (see the file comment). `policy-denied` and
 * `require-approval` mean the call does not go ahead now: the engine releases its history reservations.
 */
export async function decideCall(input: CallInput, history: HistoryLookup): Promise<CallDecision> {
  const { agent, state, call: c } = input;
  const name = c.call.toolName;
  const admitted = admitCall(agent, c.call, state.shownTools, input.builtins);
  if (admitted.kind === 'deny') return admitted;
  const governed = governedOf(name, admitted);
  const subject = policySubject(state, governed, admitted.args);
  if (c.approved === true) {
    // Bound to the exact arguments: if they would differ from what was approved, the approval is void.
    if (argsDigest(admitted.args) !== c.argsDigest)
      return {
        kind: 'deny',
        reason: 'approval-void',
        message: `The approval for ${name} was for different arguments; the call was not made.`,
      };
    // An approved call counts toward the history rules that cover it: recorded, not judged.
    await history(subject, true);
    return dispatchOf(state, admitted);
  }
  const verdict = governCall(input.policies, governed, subject, admitted.args, await history(subject, false));
  if (verdict.effect === 'deny')
    return {
      kind: 'deny',
      reason: 'policy-denied',
      message: `Policy refused ${name}: ${verdict.reasons.join('; ')}.`,
    };
  if (verdict.effect === 'require-approval')
    return { kind: 'require-approval', tool: governed, args: admitted.args, verdict };
  return dispatchOf(state, admitted);
}

/** An admitted, permitted call: a delegation is refused when it forms a cycle, failed past the depth. */
function dispatchOf(state: SubjectState, a: Admitted): CallDecision {
  if (a.kind === 'tool') return { kind: 'run', tool: a.tool, args: a.args };
  if (a.kind === 'escalate') return a;
  const sub = state.submitted;
  const lineage = [...sub.lineage, state.agent ?? ''];
  if (lineage.includes(a.target))
    return {
      kind: 'deny',
      reason: 'delegation-cycle',
      message: `Delegating to "${a.target}" would form a cycle (${[...lineage, a.target].join(' → ')}).`,
    };
  const depth = sub.depth + 1;
  const limit = sub.budget.maxDelegationDepth;
  if (depth > limit) return { kind: 'fail', budget: 'maxDelegationDepth', limit, used: depth };
  return { kind: 'delegate', target: a.target, args: a.args, lineage, depth };
}
