/** Turn agents and tools into routing targets. */
import { z } from 'zod';
import type { AgentDefinition } from '../core/agent.ts';
import type { AnyTool, ToolDefinition } from '../core/tool.ts';
import type { RoutingTarget } from './types.ts';

/** An agent as a routing target: its responsibility and instructions describe it; its examples train the classifier. */
export function agentTarget(agent: AgentDefinition): RoutingTarget {
  return {
    name: agent.name,
    description: `${agent.responsibility}\n${agent.instructions}`.trim(),
    examples: [...agent.examples],
  };
}

/** JSON Schema of a tool's input, or undefined when zod cannot express it. */
function inputSchema(tool: AnyTool): unknown {
  try {
    return z.toJSONSchema(tool.input, { unrepresentable: 'any' });
  } catch {
    return undefined;
  }
}

/** A tool as a routing target: name, description, parameter names and descriptions, examples. */
export function toolTarget(tool: ToolDefinition<unknown, unknown> | AnyTool): RoutingTarget {
  const parameters = inputSchema(tool as AnyTool);
  return {
    name: tool.name,
    description: tool.description,
    ...(tool.examples ? { examples: [...tool.examples] } : {}),
    ...(parameters === undefined ? {} : { parameters }),
  };
}
