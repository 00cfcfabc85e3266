/** The tool retrievers a system fits when the configuration brings none. */
import type { ToolRetriever } from '../core/routing-port.ts';
import type { CoUsagePriors } from '../routing/links.ts';
import { createToolRetriever, type RetrieverOptions } from '../routing/router.ts';
import { toolTarget } from '../routing/targets.ts';
import type { AgentRuntime } from './agents.ts';

/**
 * A tool retriever for every version that enables retrieval, fitted on what the model could be
 * shown, keyed by the version's key (`name@label`, or `name`). `versions` defaults to `agents`.
 * `coUsage`, when given, is asked for the current co-usage priors at every retrieval.
 */
export function defaultRetrievers(
  agents: Map<string, AgentRuntime>,
  threshold: number | undefined,
  versions: Map<string, AgentRuntime> = agents,
  coUsage?: () => CoUsagePriors | undefined,
): Map<string, ToolRetriever> {
  const options: RetrieverOptions = {
    ...(threshold !== undefined ? { threshold } : {}),
    ...(coUsage ? { coUsage } : {}),
  };
  const out = new Map<string, ToolRetriever>();
  for (const a of versions.values()) {
    if (!a.def.toolRetrieval?.enabled) continue;
    // A native tool is described by its own schema and examples; a delegation by the agent it hands
    // the task to (its responsibility and example requests).
    const targets = a.specs.map((spec) => {
      const tool = a.tools.get(spec.name);
      if (tool) return toolTarget(tool);
      const target = agents.get(a.delegates.get(spec.name) ?? '');
      if (target)
        return {
          name: spec.name,
          description: `Hand a task to the ${target.name} agent: ${target.def.responsibility}`,
          examples: target.def.examples,
        };
      return {
        name: spec.name,
        description: spec.description ?? '',
        parameters: spec.inputSchema,
        examples: [],
      };
    });
    out.set(a.key, createToolRetriever(targets, options));
  }
  return out;
}
