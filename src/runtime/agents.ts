/**
 * The runtime's view of an agent: its definition plus everything derived once at start-up — the
 * JSON Schemas the model sees, the delegation tools, its content digest, its version and queue.
 * Several definitions with one name and distinct `version` labels are versions of one agent: each
 * gets its own runtime (key `name@label`, queue `agent:name@label`); the first declared is the
 * primary, which routing, budgets and memory settings use.
 */
import { createHash } from 'node:crypto';
import type { JSONSchema7, LanguageModelV4, LanguageModelV4FunctionTool } from '@ai-sdk/provider';
import { z } from 'zod';
import { delegateToolName, ESCALATE_TOOL, type AgentDefinition } from '../core/agent.ts';
import { ConfigError } from '../core/errors.ts';
import type { AnyTool } from '../core/tool.ts';
import type { PolicyRule } from '../core/policy.ts';
import { agentQueue, ROUTER_QUEUE, versionKey } from '../core/queues.ts';

/** Queue and version names live in core/queues.ts (telemetry reads them too); re-exported for the runtime. */
export { agentQueue, ROUTER_QUEUE, versionKey };

/**
 * The queue a run of `agent` waits on: its version's, or the agent's own for an unlabeled agent.
 * A run with no version of an agent whose primary is labeled (submitted before the labels) runs on
 * the primary, like `VersionSelection.agentOf` (runtime/versions.ts).
 */
export function queueFor(
  agents: ReadonlyMap<string, AgentRuntime>,
  agent: string | undefined,
  version?: string,
): string {
  if (!agent) return ROUTER_QUEUE;
  if (version) return agentQueue(agent, version);
  return agents.get(agent)?.queue ?? agentQueue(agent);
}

/** Input of every `delegate_to_<agent>` tool. */
export const delegationInput = z.object({
  task: z.string().min(1).describe('What the other agent should do, in plain words'),
  context: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Facts the other agent needs (ids, amounts)'),
});

/** Input of the built-in `escalate_to_human` tool. */
export const escalationInput = z.object({
  summary: z.string().min(1).describe('What the person needs to know to take over'),
  reason: z.string().min(1).describe('Why a person is needed'),
});

export interface AgentRuntime {
  def: AgentDefinition;
  name: string;
  /** `agentQueue(name, label)` for a labeled version, `agentQueue(name)` otherwise. */
  queue: string;
  /** The label, or the digest of an unlabeled agent. */
  version: string;
  /** sha256-12 of what the agent is: instructions, model, tools and schemas, policies, routing text, budget. */
  digest: string;
  /** True when the definition has a `version` label: only those take weighted traffic. */
  labeled: boolean;
  /** `name@label` for a labeled version, `name` otherwise. */
  key: string;
  model: LanguageModelV4;
  /** Sent as the output cap of every model call (`max_tokens`): the agent's own, else the system's. */
  maxOutputTokens: number;
  tools: Map<string, AnyTool>;
  /** Tool name → delegation target agent. */
  delegates: Map<string, string>;
  /** Every tool the model may be shown, delegation tools included, in declaration order. */
  specs: LanguageModelV4FunctionTool[];
}

function toJsonSchema(schema: z.ZodType, where: string): JSONSchema7 {
  try {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
    return rest;
  } catch (error) {
    throw new ConfigError(where, `input schema cannot be expressed as JSON Schema: ${String(error)}`);
  }
}

/** Every configured version by key, and the primary (first declared) version per name. */
export interface AgentSet {
  agents: Map<string, AgentRuntime>;
  versions: Map<string, AgentRuntime>;
}

/** Validate the agent set and derive each agent's runtime view (the primary version per name). */
export function buildAgents(
  defs: readonly AgentDefinition[],
  defaultModel: LanguageModelV4 | undefined,
  defaultMaxOutputTokens = 4096,
  policies: readonly PolicyRule[] = [],
): Map<string, AgentRuntime> {
  return buildAgentSet(defs, defaultModel, defaultMaxOutputTokens, policies).agents;
}

/**
 * One name twice must be two versions: both labeled, with different labels. Throws the
 * {@link ConfigError} (`agents.<name>`) otherwise; returns the first definition per name.
 */
export function primaryDefinitions(defs: readonly AgentDefinition[]): Map<string, AgentDefinition> {
  const byName = new Map<string, AgentDefinition>();
  const labels = new Map<string, Set<string>>();
  for (const d of defs) {
    const seen = labels.get(d.name) ?? new Set<string>();
    const first = byName.get(d.name);
    if (first && (first.version === undefined || d.version === undefined))
      throw new ConfigError(
        `agents.${d.name}`,
        'defined twice: give each definition a distinct version label (defineAgent({ version }))',
      );
    if (d.version !== undefined && seen.has(d.version))
      throw new ConfigError(`agents.${d.name}`, `version "${d.version}" is defined twice`);
    if (d.version !== undefined) seen.add(d.version);
    labels.set(d.name, seen);
    if (!first) byName.set(d.name, d);
  }
  return byName;
}

/** The content digest: what makes two definitions the same agent (docs/deployments.md). */
function digestOf(
  def: AgentDefinition,
  model: LanguageModelV4,
  specs: LanguageModelV4FunctionTool[],
  policies: readonly PolicyRule[],
): string {
  const named = policies.filter((r) => {
    const a = r.match.agent;
    return a !== undefined && (Array.isArray(a) ? a.includes(def.name) : a === def.name);
  });
  const parts = [
    def.instructions,
    model.provider,
    model.modelId,
    specs,
    def.budget ?? null,
    def.responsibility,
    def.examples,
    named,
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12);
}

/** Validate the agent set and derive the runtime view of every version. */
export function buildAgentSet(
  defs: readonly AgentDefinition[],
  defaultModel: LanguageModelV4 | undefined,
  defaultMaxOutputTokens = 4096,
  policies: readonly PolicyRule[] = [],
): AgentSet {
  const byName = primaryDefinitions(defs);
  const agents = new Map<string, AgentRuntime>();
  const versions = new Map<string, AgentRuntime>();
  for (const def of defs) {
    const model = def.model ?? defaultModel;
    if (!model)
      throw new ConfigError(`agents.${def.name}.model`, 'no model: set the agent model or the system model');
    const tools = new Map(def.tools.map((t) => [t.name, t]));
    const specs: LanguageModelV4FunctionTool[] = def.tools.map((t) => ({
      type: 'function',
      name: t.name,
      description: t.description,
      inputSchema: toJsonSchema(t.input, `agents.${def.name}.tools.${t.name}`),
    }));
    const delegates = new Map<string, string>();
    for (const target of def.delegates) {
      const to = byName.get(target);
      if (!to) throw new ConfigError(`agents.${def.name}.delegates`, `unknown agent "${target}"`);
      if (target === def.name)
        throw new ConfigError(`agents.${def.name}.delegates`, 'an agent cannot delegate to itself');
      const name = delegateToolName(target);
      if (tools.has(name))
        throw new ConfigError(`agents.${def.name}.tools.${name}`, 'name is reserved for delegation');
      delegates.set(name, target);
      specs.push({
        type: 'function',
        name,
        description: `Hand a task to the ${target} agent (${to.responsibility}) and get its answer back.`,
        inputSchema: toJsonSchema(delegationInput, `agents.${def.name}.delegates`),
      });
    }
    if (def.escalation) {
      if (tools.has(ESCALATE_TOOL))
        throw new ConfigError(`agents.${def.name}.tools.${ESCALATE_TOOL}`, 'name is reserved');
      specs.push({
        type: 'function',
        name: ESCALATE_TOOL,
        description:
          'Hand this request to a person when you cannot or should not handle it; give a summary for them.',
        inputSchema: toJsonSchema(escalationInput, `agents.${def.name}.escalation`),
      });
    }
    const digest = digestOf(def, model, specs, policies);
    const labeled = def.version !== undefined;
    const runtime: AgentRuntime = {
      def,
      name: def.name,
      queue: agentQueue(def.name, def.version),
      version: def.version ?? digest,
      digest,
      labeled,
      key: versionKey(def.name, def.version),
      model,
      maxOutputTokens: def.maxOutputTokens ?? defaultMaxOutputTokens,
      tools,
      delegates,
      specs,
    };
    versions.set(runtime.key, runtime);
    if (!agents.has(def.name)) agents.set(def.name, runtime);
  }
  return { agents, versions };
}
