/**
 * MCP configuration: the servers to connect to (a stdio command or a Streamable HTTP URL) and the
 * explicit per-agent allowlist of their tools. A tool no agent lists is never exposed. Validated at
 * start-up; a bad value is a one-line {@link ConfigError} naming the key.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { RISK_CLASSES } from '../core/tool.ts';
import { lazy } from '../core/lazy.ts';

/** The variable naming the MCP config file (JSON). */
export const MCP_CONFIG_VARIABLE = 'SWITCHBOARD_MCP_CONFIG';

const SERVER_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/** The MCP config schemas, built on first use: a system without MCP never needs them. */
function mcpSchemas() {
  const common = {
    /** Prepended to every tool name this server exposes (to keep names unique across servers). */
    prefix: z
      .string()
      .regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,15}$/)
      .optional(),
    /** Per call, in ms (default 60 s). */
    timeoutMs: z.number().int().positive().optional(),
  };

  const stdioServer = z
    .object({
      command: z.string().min(1),
      args: z.array(z.string()).default([]),
      env: z.record(z.string(), z.string()).default({}),
      cwd: z.string().optional(),
      ...common,
    })
    .strict();

  const httpServer = z
    .object({
      url: z.url({ protocol: /^https?$/ }),
      headers: z.record(z.string(), z.string()).default({}),
      ...common,
    })
    .strict();

  const config = z
    .object({
      servers: z.record(
        z.string().regex(SERVER_NAME, 'server names are lowercase words'),
        z.union([stdioServer, httpServer]),
      ),
      /** Agent name → the MCP tools it may call, as `server/tool`. */
      agents: z
        .record(z.string(), z.array(z.string().regex(/^[^/]+\/.+$/, 'entries are server/tool')))
        .default({}),
      /** `server/tool` → risk class, overriding what the tool's annotations imply. */
      risk: z.record(z.string(), z.enum(RISK_CLASSES)).default({}),
    })
    .strict();
  return { stdioServer, httpServer, config };
}
type McpSchemas = ReturnType<typeof mcpSchemas>;
const mcpSchemasOf = lazy(mcpSchemas);

export type McpConfig = z.infer<McpSchemas['config']>;
export type McpServerConfig = McpConfig['servers'][string];
export type McpStdioServer = z.infer<McpSchemas['stdioServer']>;
export type McpHttpServer = z.infer<McpSchemas['httpServer']>;

export const isStdio = (s: McpServerConfig): s is McpStdioServer => 'command' in s;

/**
 * Validate an MCP config object.
 * @example
 * parseMcpConfig({
 *   servers: { notes: { command: 'node', args: ['notes-server.js'] }, search: { url: 'http://127.0.0.1:9000/mcp' } },
 *   agents: { support: ['notes/get_note', 'search/web_search'] },
 * });
 */
export function parseMcpConfig(raw: unknown, where = 'mcp'): McpConfig {
  const parsed = mcpSchemasOf().config.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.length ? `${where}.${issue.path.join('.')}` : where;
    throw new ConfigError(path, issue?.message ?? 'invalid MCP configuration');
  }
  const cfg = parsed.data;
  for (const [agent, entries] of Object.entries(cfg.agents)) {
    for (const entry of entries) {
      const server = entry.slice(0, entry.indexOf('/'));
      if (!cfg.servers[server])
        throw new ConfigError(`${where}.agents.${agent}`, `"${entry}" names unknown MCP server "${server}"`);
    }
  }
  for (const key of Object.keys(cfg.risk)) {
    const server = key.slice(0, key.indexOf('/'));
    if (!cfg.servers[server])
      throw new ConfigError(`${where}.risk`, `"${key}" names unknown MCP server "${server}"`);
  }
  return cfg;
}

/** The config `$SWITCHBOARD_MCP_CONFIG` points at, or `undefined` when unset. */
export function loadMcpConfig(env: Readonly<Record<string, string | undefined>>): McpConfig | undefined {
  const path = env[MCP_CONFIG_VARIABLE];
  if (path === undefined || path.trim() === '') return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      MCP_CONFIG_VARIABLE,
      `cannot read ${path}: ${(error as Error).message}; point it at a JSON file`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError(MCP_CONFIG_VARIABLE, `${path} is not JSON: ${(error as Error).message}`);
  }
  return parseMcpConfig(raw, MCP_CONFIG_VARIABLE);
}
