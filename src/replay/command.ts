/**
 * `switchboard replay <runId> [--with <module>] [--json]` as a function of parsed options. The
 * `--with` module changes the agents (instructions, tools, model), router, retrievers or policies and
 * default-exports either the changes or a function of the current agent definitions:
 *
 *   export default (agents) => ({ agents: agents.map((a) => a.name === 'support' ? { ...a, instructions: '…' } : a) });
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { LanguageModelV4 } from '@ai-sdk/provider';
import type { AgentDefinition } from '../core/agent.ts';
import type { PolicyRule } from '../core/policy.ts';
import type { AgentRouter, ToolRetriever } from '../core/routing-port.ts';
import { buildAgents } from '../runtime/agents.ts';
import type { Store } from '../store/ports.ts';
import { formatReplay } from './format.ts';
import { firstDivergence, replayRun, replayTotals, type ReplayConfig } from './replay.ts';

export interface ReplayOverrides {
  agents?: AgentDefinition[];
  router?: AgentRouter;
  retrievers?: Map<string, ToolRetriever>;
  defaultAgent?: string;
  /** Governance rules: calls are admitted under these instead (a deny rule, a lower approval limit). */
  policies?: PolicyRule[];
}

/**
 * Load a `--with` module: a second Switchboard configuration (its agents, router and retrievers
 * are built as a running system builds them), or a module of changes.
 */
export async function loadOverrides(path: string, current: AgentDefinition[]): Promise<ReplayOverrides> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as {
    default?: ReplayOverrides | ((agents: AgentDefinition[]) => ReplayOverrides | Promise<ReplayOverrides>);
  };
  const d = mod.default;
  if (!d)
    throw new Error(
      `${path}: expected a default export (a configuration, the changes, or a function of the agents)`,
    );
  if (typeof d === 'function') return d(current);
  if (isConfig(d)) {
    const [{ compileConfig }, { openProject }, { createMemoryStore }] = await Promise.all([
      import('../config.ts'),
      import('../project.ts'),
      import('../store/memory/store.ts'),
    ]);
    const compiled = compileConfig(d, { source: path });
    const project = await openProject(compiled, {
      workers: false,
      store: createMemoryStore(),
    });
    try {
      const routing = project.system.routing;
      return {
        agents: project.agents,
        ...(routing.router ? { router: routing.router } : {}),
        ...(routing.retrievers ? { retrievers: routing.retrievers } : {}),
        ...(routing.defaultAgent ? { defaultAgent: routing.defaultAgent } : {}),
        policies: compiled.policies,
      };
    } finally {
      await project.close();
    }
  }
  return d;
}

/** A configuration (defineConfig) rather than a changes object: an agents factory or any config-only key. */
function isConfig(d: object): boolean {
  const keys = Object.keys(d);
  const changesOnly = new Set(['agents', 'router', 'retrievers', 'defaultAgent', 'policies']);
  return typeof (d as { agents?: unknown }).agents === 'function' || keys.some((k) => !changesOnly.has(k));
}

/** The configuration with overrides applied; changed agents are rebuilt (new version hashes). */
export function applyOverrides(
  base: ReplayConfig,
  overrides: ReplayOverrides,
  defaultModel?: LanguageModelV4,
): ReplayConfig {
  const policies = overrides.policies ?? base.policies;
  const agents = overrides.agents
    ? buildAgents(overrides.agents, defaultModel ?? [...base.agents.values()][0]?.model, undefined, policies)
    : base.agents;
  return {
    ...base,
    agents,
    ...(overrides.router ? { router: overrides.router } : {}),
    ...(overrides.retrievers ? { retrievers: overrides.retrievers } : {}),
    ...(overrides.defaultAgent ? { defaultAgent: overrides.defaultAgent } : {}),
    ...(policies ? { policies } : {}),
    live: true,
  };
}

/** Run the replay; exit code 0 when the code matches the recording, 1 at a divergence. */
export async function replayCommand(
  store: Store,
  options: {
    runId: string;
    base: ReplayConfig;
    definitions: AgentDefinition[];
    with?: string;
    json?: boolean;
  },
): Promise<{ output: string; exitCode: number }> {
  const config = options.with
    ? applyOverrides(options.base, await loadOverrides(options.with, options.definitions))
    : options.base;
  const report = await replayRun((id) => store.journal.read(id), options.runId, config);
  const diverged = firstDivergence(report) !== null;
  return {
    output: options.json
      ? JSON.stringify({ ...replayTotals(report), report }, null, 2)
      : formatReplay(report),
    exitCode: diverged ? 1 : 0,
  };
}
