/**
 * The runtime's view of an agent: its definition plus everything derived once at start-up — the
 * JSON Schemas the model sees, the delegation tools, a version hash, its queue name.
 */
import { createHash } from 'node:crypto';
import type { JSONSchema7, LanguageModelV4, LanguageModelV4FunctionTool } from '@ai-sdk/provider';
import { z } from 'zod';
import { delegateToolName, ESCALATE_TOOL, type AgentDefinition } from '../core/agent.ts';
import { ConfigError } from '../core/errors.ts';
import type { AnyTool } from '../core/tool.ts';

export const ROUTER_QUEUE = 'router';
export const agentQueue = (agent: string): string => `agent:${agent}`;

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
  queue: string;
  version: string;
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

/** Validate the agent set and derive each agent's runtime view. */
export function buildAgents(
  defs: readonly AgentDefinition[],
  defaultModel: LanguageModelV4 | undefined,
  defaultMaxOutputTokens = 4096,
): Map<string, AgentRuntime> {
  const byName = new Map<string, AgentDefinition>();
  for (const d of defs) {
    if (byName.has(d.name)) throw new ConfigError(`agents.${d.name}`, 'duplicate agent name');
    byName.set(d.name, d);
  }
  const out = new Map<string, AgentRuntime>();
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
    const version = createHash('sha256')
      .update(JSON.stringify([def.instructions, model.provider, model.modelId, specs, def.budget ?? null]))
      .digest('hex')
      .slice(0, 12);
    out.set(def.name, {
      def,
      name: def.name,
      queue: agentQueue(def.name),
      version,
      model,
      maxOutputTokens: def.maxOutputTokens ?? defaultMaxOutputTokens,
      tools,
      delegates,
      specs,
    });
  }
  return out;
}
