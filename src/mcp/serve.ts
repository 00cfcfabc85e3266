/**
 * `switchboard mcp-serve --agent X`: serve one agent's tools over MCP (stdio) so other MCP clients
 * reuse the governed tools. Every call goes through the same gates a run's call does — the tool's
 * zod input, the policy rules, the tool's own `requiresApproval` — before `run`. A call that would
 * need a human approver is refused (MCP has no durable wait): submit it as a Switchboard run.
 */
import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { AgentDefinition } from '../core/agent.ts';
import { UserError } from '../core/errors.ts';
import { evaluatePolicies, historyChecks, parsePolicies } from '../core/policy.ts';
import type { AnyTool, ToolContext } from '../core/tool.ts';
import { toolTraceHeaders, traceIdOf } from '../core/trace-ids.ts';

export interface ServeToolsOptions {
  /** Governance rules (as for `createSystem({ policies })`). */
  policies?: unknown[];
  /** The actor calls are attributed to (default `mcp`). */
  actorId?: string;
  /** Defaults to stdio. */
  transport?: Transport;
  /** Called after each call, for logs (stderr: stdout belongs to the protocol). */
  onCall?: (call: { tool: string; ok: boolean; ms: number; error?: string }) => void;
}

const schemaOf = (tool: AnyTool): Tool['inputSchema'] => {
  const { $schema: _s, ...rest } = z.toJSONSchema(tool.input, { io: 'input' }) as Record<string, unknown>;
  return { ...rest, type: 'object' };
};

/** Risk → MCP annotations: only `read` tools are read-only; everything else may change the world. */
const annotationsOf = (tool: AnyTool): NonNullable<Tool['annotations']> => ({
  readOnlyHint: tool.risk === 'read',
  destructiveHint: tool.risk !== 'read',
  idempotentHint: tool.idempotent,
  openWorldHint: tool.risk === 'customer-impacting',
});

const failure = (text: string): CallToolResult => ({ content: [{ type: 'text', text }], isError: true });

/** Build the MCP server for an agent's tools (not yet connected). */
export function agentToolServer(
  agent: AgentDefinition,
  options: Omit<ServeToolsOptions, 'transport'> = {},
): Server {
  const policies = parsePolicies(options.policies ?? []);
  const tools = new Map(agent.tools.map((t) => [t.name, t]));
  const actorId = options.actorId ?? 'mcp';
  const server = new Server(
    { name: `switchboard-${agent.name}`, version: '0.1.0' },
    { capabilities: { tools: {} }, instructions: agent.responsibility },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [...tools.values()].map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: schemaOf(t),
      annotations: annotationsOf(t),
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const started = performance.now();
    const name = request.params.name;
    const done = (result: CallToolResult, error?: string): CallToolResult => {
      options.onCall?.({
        tool: name,
        ok: !result.isError,
        ms: Math.round(performance.now() - started),
        ...(error ? { error } : {}),
      });
      return result;
    };
    const tool = tools.get(name);
    if (!tool)
      return done(failure(`Unknown tool "${name}". Available: ${[...tools.keys()].join(', ')}.`), 'unknown');
    const parsed = tool.input.safeParse(request.params.arguments ?? {});
    if (!parsed.success) {
      const why = `Invalid arguments for ${name}: ${z.prettifyError(parsed.error)}`;
      return done(failure(why), 'invalid-arguments');
    }
    const subject = { tool: name, risk: tool.risk, agent: agent.name, args: parsed.data as unknown, actorId };
    // Policies over history need the run's ledger: over MCP a rule that covers the call holds (fail closed).
    const history = new Map(
      historyChecks(policies, subject).map((c) => [c.rule.id, 'counted only for Switchboard runs'] as const),
    );
    const verdict = evaluatePolicies(policies, subject, history);
    if (verdict.effect === 'deny')
      return done(failure(`Policy refused ${name}: ${verdict.reasons.join('; ')}.`), 'policy-denied');
    const own = tool.requiresApproval?.(parsed.data, { actorId, agent: agent.name });
    if (verdict.effect === 'require-approval' || own) {
      const reasons = [
        ...verdict.reasons,
        ...(own ? [typeof own === 'string' ? own : `${name} requires approval`] : []),
      ];
      return done(
        failure(
          `${name} needs a human approver (${reasons.join('; ')}); it cannot wait over MCP — submit the request as a Switchboard run.`,
        ),
        'requires-approval',
      );
    }
    const callId = `mcp_${randomUUID()}`;
    const ctx: ToolContext = {
      runId: callId,
      callId,
      idempotencyKey: `${callId}:${String(extra.requestId)}`,
      attempt: 1,
      actorId,
      sessionId: extra.sessionId ?? 'mcp',
      agent: agent.name,
      signal: extra.signal,
      progress: () => {},
      traceHeaders: toolTraceHeaders(traceIdOf(callId), callId, callId),
    };
    try {
      const value = (await tool.run(parsed.data, ctx)) as unknown;
      const json = value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
      return done({
        content: [{ type: 'text', text: typeof json === 'string' ? json : JSON.stringify(json) }],
        ...(json !== null && typeof json === 'object' && !Array.isArray(json)
          ? { structuredContent: json as Record<string, unknown> }
          : {}),
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return done(failure(`${name} failed: ${message}`), message);
    }
  });
  return server;
}

/**
 * Serve `agent`'s tools on stdio (or the given transport) until the client disconnects.
 * @example
 * await serveAgentTools(agents.find((a) => a.name === 'support')!, { policies });
 */
export async function serveAgentTools(
  agent: AgentDefinition,
  options: ServeToolsOptions = {},
): Promise<void> {
  const server = agentToolServer(agent, options);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
  });
  await server.connect(options.transport ?? new StdioServerTransport());
  await closed;
}

/**
 * The `mcp-serve` command as a function of its parsed options: find the agent, serve its tools.
 * Logs go to stderr (stdout carries the protocol).
 */
export async function mcpServeCommand(
  options: { agent: string },
  deps: {
    agents: readonly AgentDefinition[];
    policies?: unknown[];
    transport?: Transport;
    log?: (line: string) => void;
  },
): Promise<void> {
  const agent = deps.agents.find((a) => a.name === options.agent);
  if (!agent)
    throw new UserError(
      `--agent: unknown agent "${options.agent}"; one of ${deps.agents.map((a) => a.name).join(', ')}`,
      'agent',
    );
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  log(`switchboard mcp-serve: serving ${agent.tools.length} tools of agent ${agent.name} on stdio`);
  await serveAgentTools(agent, {
    ...(deps.policies ? { policies: deps.policies } : {}),
    ...(deps.transport ? { transport: deps.transport } : {}),
    onCall: (c) => log(`  ${c.tool} ${c.ok ? 'ok' : `refused/failed (${c.error ?? ''})`} ${c.ms} ms`),
  });
}
