/**
 * MCP servers' tools as Switchboard tools: connect to every configured server, and give each agent
 * exactly the tools its allowlist names — validated against the tool's JSON Schema, risk-classed from
 * its annotations, so governance applies to them as to native tools.
 */
import { z } from 'zod';
import { ConfigError, ToolError } from '../core/errors.ts';
import { defineTool, type AnyTool, type RiskClass } from '../core/tool.ts';
import type { McpConfig } from './config.ts';
import { McpConnection, type McpConnectionOptions, type McpServerStatus } from './connection.ts';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';

const TOOL_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;

/**
 * MCP annotations → risk: `readOnlyHint` → read; `destructiveHint` or no hint → write (the MCP
 * default for a tool that is not read-only is "may be destructive").
 */
export function riskOf(annotations: Tool['annotations']): RiskClass {
  return annotations?.readOnlyHint === true ? 'read' : 'write';
}

/** A JSON Schema as zod; an object that accepts anything when the schema cannot be expressed. */
export function inputSchemaOf(schema: unknown): z.ZodType {
  try {
    const s = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    // The engine shows the model `z.toJSONSchema(input)`: it must round-trip.
    z.toJSONSchema(s, { io: 'input' });
    return s;
  } catch {
    return z.looseObject({});
  }
}

export interface McpTools {
  /** The MCP tools `agent` may call (its allowlist), ready for `defineAgent({ tools })`. */
  toolsFor(agent: string): AnyTool[];
  /** Every exposed tool, by Switchboard name, with where it comes from. */
  exposed(): { name: string; server: string; tool: string; risk: RiskClass; available: boolean }[];
  status(): McpServerStatus[];
  connection(server: string): McpConnection | undefined;
  /** Disconnect every server (stdio servers are stopped). */
  close(): Promise<void>;
}

export interface ConnectMcpOptions extends Omit<McpConnectionOptions, 'onStderr'> {
  onStderr?: (server: string, line: string) => void;
}

/**
 * Connect to the configured MCP servers and build the allowlisted tools. A server that is down is
 * not fatal: its allowlisted tools exist (accepting any object until its schema is known), fail
 * with a retryable error while it is down, and validate against the live schema once it is back.
 * An allowlist entry naming a tool a connected server does not offer is a {@link ConfigError}.
 * @example
 * const mcp = await connectMcp(loadMcpConfig(process.env)!, { onStatus: (s) => log.info(s) });
 * const support = defineAgent({ name: 'support', tools: [...native, ...mcp.toolsFor('support')], … });
 */
export async function connectMcp(config: McpConfig, options: ConnectMcpOptions = {}): Promise<McpTools> {
  const connections = new Map<string, McpConnection>();
  for (const [name, server] of Object.entries(config.servers)) {
    const { onStderr, ...rest } = options;
    connections.set(
      name,
      new McpConnection(name, server, {
        ...rest,
        ...(onStderr ? { onStderr: (line) => onStderr(name, line) } : {}),
      }),
    );
  }
  // Only servers some agent uses are started: a tool no agent lists is not exposed at all.
  const used = new Set(Object.values(config.agents).flatMap((e) => e.map((x) => x.slice(0, x.indexOf('/')))));
  await Promise.all([...connections].filter(([n]) => used.has(n)).map(([, c]) => c.connect()));

  const byKey = new Map<string, { tool: AnyTool; server: string; mcpName: string; risk: RiskClass }>();
  const byName = new Map<string, string>();
  try {
    for (const [agent, entries] of Object.entries(config.agents)) {
      for (const entry of entries) {
        if (byKey.has(entry)) continue;
        const slash = entry.indexOf('/');
        const server = entry.slice(0, slash);
        const mcpName = entry.slice(slash + 1);
        const conn = connections.get(server);
        if (!conn) throw new ConfigError(`mcp.agents.${agent}`, `unknown MCP server "${server}"`);
        const info = conn.tool(mcpName);
        if (conn.state === 'connected' && !info) {
          throw new ConfigError(
            `mcp.agents.${agent}`,
            `MCP server "${server}" offers no tool "${mcpName}" (it offers: ${conn.status().tools.join(', ') || 'none'})`,
          );
        }
        const name = `${config.servers[server]?.prefix ?? ''}${mcpName}`;
        if (!TOOL_NAME.test(name))
          throw new ConfigError(
            `mcp.agents.${agent}`,
            `"${entry}" becomes tool name "${name}", which is not a valid tool name`,
          );
        const clash = byName.get(name);
        if (clash)
          throw new ConfigError(
            `mcp.servers.${server}.prefix`,
            `"${entry}" and "${clash}" would both be tool "${name}"; give a server a prefix`,
          );
        byName.set(name, entry);
        const risk = config.risk[entry] ?? riskOf(info?.annotations);
        byKey.set(entry, { tool: mcpTool(conn, mcpName, name, info, risk), server, mcpName, risk });
      }
    }
  } catch (error) {
    await Promise.all([...connections.values()].map((c) => c.close()));
    throw error;
  }

  return {
    toolsFor: (agent) => (config.agents[agent] ?? []).flatMap((e) => byKey.get(e)?.tool ?? []),
    exposed: () =>
      [...byKey.values()].map((x) => ({
        name: x.tool.name,
        server: x.server,
        tool: x.mcpName,
        risk: x.risk,
        available: connections.get(x.server)?.state === 'connected',
      })),
    status: () => [...connections.values()].map((c) => c.status()),
    connection: (server) => connections.get(server),
    close: async () => {
      await Promise.all([...connections.values()].map((c) => c.close()));
    },
  };
}

function mcpTool(
  conn: McpConnection,
  mcpName: string,
  name: string,
  info: Tool | undefined,
  risk: RiskClass,
): AnyTool {
  const known = info ? JSON.stringify(info.inputSchema) : undefined;
  const a = info?.annotations;
  return defineTool({
    name,
    description:
      info?.description ??
      `${mcpName} (MCP server "${conn.name}", not reachable at start-up; its description appears once it connects)`,
    input: info ? inputSchemaOf(info.inputSchema) : z.looseObject({}),
    risk,
    idempotent: a?.readOnlyHint === true || a?.idempotentHint === true,
    // Enough attempts to ride out a reconnect: the backoff starts at 250 ms and doubles.
    retry: { maxAttempts: 5, initialDelayMs: 250, maxDelayMs: 5000, factor: 2 },
    run: async (args: unknown, ctx) => {
      const live = conn.tool(mcpName);
      // The schema the engine validated against may be stale (unknown at start-up, or changed by
      // the server since): validate against what the server offers now.
      if (live && JSON.stringify(live.inputSchema) !== known) {
        const parsed = inputSchemaOf(live.inputSchema).safeParse(args);
        if (!parsed.success) {
          throw new ToolError(`Invalid arguments for ${name}: ${z.prettifyError(parsed.error)}`, {
            retryable: false,
          });
        }
      }
      return conn.call(mcpName, args, ctx.signal);
    },
  });
}
