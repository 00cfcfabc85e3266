/**
 * `switchboard doctor`: one screen saying which model provider and which MCP servers are
 * configured, and whether each answers. Checks run in parallel, each bounded by a timeout; a bad
 * configuration is reported as a line, not thrown.
 */
import { ConfigError, NotFoundError } from '../core/errors.ts';
import { checkModel, type ModelCheck } from '../models/doctor.ts';
import { loadMcpConfig, MCP_CONFIG_VARIABLE, type McpConfig } from './config.ts';
import { McpConnection, type McpServerStatus } from './connection.ts';

export interface McpServerCheck {
  server: string;
  status: McpServerStatus;
  ok: boolean;
  latencyMs: number;
  /** `server/tool` entries some agent lists that the server does not offer. */
  missing: string[];
  /** Agents using this server. */
  agents: string[];
}

export interface DoctorReport {
  ok: boolean;
  model: ModelCheck;
  mcp: { configured: boolean; path?: string; error?: string; servers: McpServerCheck[] };
}

type Env = Readonly<Record<string, string | undefined>>;

async function checkServer(name: string, config: McpConfig, timeoutMs: number): Promise<McpServerCheck> {
  const server = config.servers[name];
  if (!server) throw new NotFoundError(`unknown MCP server ${name}`);
  const conn = new McpConnection(name, server, {
    reconnect: { enabled: false },
    connectTimeoutMs: timeoutMs,
  });
  const started = performance.now();
  try {
    const ok = await conn.connect();
    const status = conn.status();
    const entries = Object.entries(config.agents).flatMap(([agent, list]) =>
      list.filter((e) => e.startsWith(`${name}/`)).map((e) => ({ agent, entry: e })),
    );
    return {
      server: name,
      status,
      ok,
      latencyMs: Math.round(performance.now() - started),
      missing: ok
        ? [...new Set(entries.map((x) => x.entry))].filter(
            (e) => !status.tools.includes(e.slice(name.length + 1)),
          )
        : [],
      agents: [...new Set(entries.map((x) => x.agent))],
    };
  } finally {
    await conn.close();
  }
}

/** Run every check. */
export async function doctor(
  env: Env,
  options: { timeoutMs?: number; mcp?: McpConfig } = {},
): Promise<DoctorReport> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let mcpConfig: McpConfig | undefined = options.mcp;
  let mcpError: string | undefined;
  try {
    mcpConfig ??= loadMcpConfig(env);
  } catch (error) {
    mcpError = error instanceof ConfigError ? error.message : String(error);
  }
  const [model, servers] = await Promise.all([
    checkModel(env, { timeoutMs }),
    Promise.all(
      Object.keys(mcpConfig?.servers ?? {}).map((n) => checkServer(n, mcpConfig as McpConfig, timeoutMs)),
    ),
  ]);
  const path = env[MCP_CONFIG_VARIABLE];
  return {
    ok: model.ok && !mcpError && servers.every((s) => s.ok && s.missing.length === 0),
    model,
    mcp: {
      configured: mcpConfig !== undefined || mcpError !== undefined,
      ...(path ? { path } : {}),
      ...(mcpError ? { error: mcpError } : {}),
      servers,
    },
  };
}

/** The report as one screen of text. */
export function formatDoctor(r: DoctorReport): string {
  const out: string[] = [];
  const m = r.model;
  if (!m.configured)
    out.push('model   offline (SWITCHBOARD_MODEL is unset: the built-in offline model, no LLM)');
  else if (!m.description) out.push(`model   FAIL  ${m.error ?? ''}`);
  else {
    const d = m.description;
    out.push(`model   ${d.label}  →  ${d.endpoint}  (credentials: ${d.credentials})`);
    out.push(
      m.ok
        ? `        ok    called the probe tool in ${m.latencyMs} ms${m.reply ? `: ${m.reply}` : ''}`
        : `        FAIL  ${m.error ?? ''}`,
    );
    if (m.settings) out.push(`        ${m.settings}`);
  }
  if (!r.mcp.configured) out.push(`mcp     none (${MCP_CONFIG_VARIABLE} is unset)`);
  else if (r.mcp.error) out.push(`mcp     FAIL  ${r.mcp.error}`);
  else {
    out.push(
      `mcp     ${r.mcp.servers.length} server${r.mcp.servers.length === 1 ? '' : 's'} in ${r.mcp.path ?? '(config)'}`,
    );
    const width = Math.max(...r.mcp.servers.map((s) => s.server.length), 4);
    for (const s of r.mcp.servers) {
      const head = `  ${s.server.padEnd(width)}  ${s.status.transport.padEnd(5)} ${s.status.target}`;
      const used = s.agents.length ? `; used by ${s.agents.join(', ')}` : '; no agent lists its tools';
      out.push(head);
      out.push(
        s.ok
          ? `  ${''.padEnd(width)}  ok    ${s.status.tools.length} tools in ${s.latencyMs} ms${used}`
          : `  ${''.padEnd(width)}  FAIL  ${s.status.error ?? 'not reachable'}`,
      );
      if (s.missing.length)
        out.push(`  ${''.padEnd(width)}  FAIL  allowlisted but not offered: ${s.missing.join(', ')}`);
    }
  }
  out.push(r.ok ? 'all checks passed' : 'some checks failed');
  return out.join('\n');
}

/**
 * `switchboard doctor [--json] [--timeout ms]` as a function of its parsed options: the text to
 * print and the exit code.
 */
export async function doctorCommand(
  options: { json?: boolean; timeoutMs?: number },
  env: Env,
  mcp?: McpConfig,
): Promise<{ text: string; exitCode: number }> {
  const report = await doctor(env, {
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(mcp ? { mcp } : {}),
  });
  return {
    text: options.json ? JSON.stringify(report, null, 2) : formatDoctor(report),
    exitCode: report.ok ? 0 : 1,
  };
}
