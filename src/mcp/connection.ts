/**
 * One MCP server connection (stdio or Streamable HTTP) that keeps itself alive: a server down at
 * start-up or dropping later is marked down, reported through `onStatus`, and reconnected with
 * exponential backoff. Calls while it is down fail fast with a retryable {@link ToolError}, so the
 * engine's tool retry policy — not a blocked worker — waits for the reconnect.
 */
import { createInterface } from 'node:readline';
import type { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { backoff } from '../core/backoff.ts';
import { ToolError } from '../core/errors.ts';
import { isStdio, type McpServerConfig } from './config.ts';

export type McpState = 'connecting' | 'connected' | 'down' | 'closed';

/** A server's condition, as `doctor`, agent health and logs show it. */
export interface McpServerStatus {
  server: string;
  transport: 'stdio' | 'http';
  /** The command line or the URL. */
  target: string;
  state: McpState;
  /** Tool names the server offers (as of the last successful listing). */
  tools: string[];
  /** Why it is down (the last connection error). */
  error?: string;
  /** Failed reconnects in a row. */
  reconnectAttempts: number;
  /** When the next reconnect is due (ms since the epoch). */
  nextReconnectAt?: number;
  /** The server process, for stdio. */
  pid?: number;
}

export interface McpConnectionOptions {
  onStatus?: (status: McpServerStatus) => void;
  /** Lines a stdio server writes to stderr (dropped when absent). */
  onStderr?: (line: string) => void;
  /** Reconnect backoff: first delay (250 ms), doubling with jitter up to `maxDelayMs` (30 s). */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number; enabled?: boolean };
  /** Bound on connecting + listing tools, in ms (10 s). */
  connectTimeoutMs?: number;
  /** How long a call waits for a reconnect already under way before failing (3 s). */
  callWaitMs?: number;
  random?: () => number;
  now?: () => number;
}

const describeTarget = (c: McpServerConfig): string =>
  isStdio(c) ? [c.command, ...c.args].join(' ') : c.url;

/** An error's message, with its cause's code when the message alone says little ("fetch failed"). */
const message = (e: unknown): string => {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  return code && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
};

export class McpConnection {
  readonly name: string;
  readonly config: McpServerConfig;
  readonly #opts: McpConnectionOptions;
  #state: McpState = 'down';
  #client: Client | null = null;
  #pid: number | undefined;
  #tools = new Map<string, Tool>();
  #error: string | undefined;
  #attempts = 0;
  #timer: NodeJS.Timeout | null = null;
  #nextAt: number | undefined;
  #connecting: Promise<boolean> | null = null;

  constructor(name: string, config: McpServerConfig, options: McpConnectionOptions = {}) {
    this.name = name;
    this.config = config;
    this.#opts = options;
  }

  get state(): McpState {
    return this.#state;
  }

  /** The tool as the server last listed it. */
  tool(name: string): Tool | undefined {
    return this.#tools.get(name);
  }

  status(): McpServerStatus {
    return {
      server: this.name,
      transport: isStdio(this.config) ? 'stdio' : 'http',
      target: describeTarget(this.config),
      state: this.#state,
      tools: [...this.#tools.keys()],
      ...(this.#error !== undefined && this.#state !== 'connected' ? { error: this.#error } : {}),
      reconnectAttempts: this.#attempts,
      ...(this.#nextAt !== undefined ? { nextReconnectAt: this.#nextAt } : {}),
      ...(this.#pid !== undefined ? { pid: this.#pid } : {}),
    };
  }

  #set(state: McpState): void {
    this.#state = state;
    try {
      this.#opts.onStatus?.(this.status());
    } catch {
      // An observer's failure must not break the connection's bookkeeping.
    }
  }

  /** Connect now (joining an attempt already under way); true when connected. Never throws. */
  connect(): Promise<boolean> {
    if (this.#state === 'closed') return Promise.resolve(false);
    if (this.#state === 'connected') return Promise.resolve(true);
    if (this.#connecting) return this.#connecting;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#nextAt = undefined;
    this.#connecting = this.#attempt().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #attempt(): Promise<boolean> {
    this.#set('connecting');
    const client = new Client({ name: 'switchboard', version: '0.1.0' }, { capabilities: {} });
    const timeout = this.#opts.connectTimeoutMs ?? 10_000;
    try {
      const transport = this.#transport();
      // A drop of this client after it was adopted marks the server down; before that, the
      // failing connect reports it.
      client.onclose = () => this.#dropped(client, 'the server closed the connection');
      client.onerror = (e) => {
        this.#error = e.message;
      };
      await client.connect(transport, { timeout });
      const tools = new Map<string, Tool>();
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined, { timeout });
        for (const t of page.tools) tools.set(t.name, t);
        cursor = page.nextCursor;
      } while (cursor);
      if (this.#state === 'closed') {
        await client.close().catch(() => {});
        return false;
      }
      this.#client = client;
      this.#pid = transport instanceof StdioClientTransport ? (transport.pid ?? undefined) : undefined;
      this.#tools = tools;
      this.#attempts = 0;
      this.#error = undefined;
      this.#set('connected');
      return true;
    } catch (error) {
      this.#error = message(error);
      await client.close().catch(() => {});
      if (this.#state === 'closed') return false;
      this.#attempts += 1;
      this.#set('down');
      this.#schedule();
      return false;
    }
  }

  #transport(): StdioClientTransport | StreamableHTTPClientTransport {
    const c = this.config;
    if (!isStdio(c)) {
      return new StreamableHTTPClientTransport(new URL(c.url), { requestInit: { headers: c.headers } });
    }
    const t = new StdioClientTransport({
      command: c.command,
      args: c.args,
      env: { ...getDefaultEnvironment(), ...c.env },
      ...(c.cwd ? { cwd: c.cwd } : {}),
      stderr: 'pipe',
    });
    const stderr = t.stderr;
    if (stderr) {
      const onLine = this.#opts.onStderr;
      const lines = createInterface({ input: stderr as PassThrough });
      lines.on('line', (line) => onLine?.(line));
    }
    return t;
  }

  #dropped(client: Client, why: string): void {
    if (client !== this.#client || this.#state === 'closed') return;
    this.#client = null;
    this.#pid = undefined;
    this.#error = why;
    this.#set('down');
    this.#schedule();
  }

  #schedule(): void {
    if (this.#opts.reconnect?.enabled === false || this.#timer || this.#state === 'closed') return;
    const delay = backoff(
      this.#attempts,
      {
        initialDelayMs: this.#opts.reconnect?.initialDelayMs ?? 250,
        maxDelayMs: this.#opts.reconnect?.maxDelayMs ?? 30_000,
      },
      (this.#opts.random ?? Math.random)(),
    );
    this.#nextAt = (this.#opts.now ?? Date.now)() + delay;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.connect();
    }, delay);
    // Reconnecting never keeps a finished process alive.
    this.#timer.unref();
  }

  /**
   * Call a tool. Not connected → retryable ToolError (after joining a reconnect under way, or
   * starting one now, for at most `callWaitMs`). A dropped connection or timeout → retryable; the
   * tool's own error result → not retryable, with its text.
   */
  async call(tool: string, args: unknown, signal?: AbortSignal): Promise<unknown> {
    if (this.#state !== 'connected') {
      const wait = this.#opts.callWaitMs ?? 3000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.connect(),
        new Promise((r) => {
          timer = setTimeout(r, wait);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    }
    const client = this.#client;
    if (this.#state !== 'connected' || !client) {
      throw new ToolError(
        `MCP server "${this.name}" is unavailable (${this.#error ?? 'not connected'}); reconnecting with backoff`,
        { retryable: true },
      );
    }
    if (!this.#tools.has(tool)) {
      throw new ToolError(`MCP server "${this.name}" no longer offers tool "${tool}"`, { retryable: false });
    }
    let result: CallToolResult;
    try {
      result = (await client.callTool(
        { name: tool, arguments: (args ?? {}) as Record<string, unknown> },
        undefined,
        { timeout: this.config.timeoutMs ?? 60_000, ...(signal ? { signal } : {}) },
      )) as CallToolResult;
    } catch (error) {
      throw this.#callError(client, tool, error);
    }
    if (result.isError) {
      throw new ToolError(`${tool} failed: ${textOf(result) || 'the MCP tool reported an error'}`, {
        retryable: false,
      });
    }
    return resultValue(result);
  }

  #callError(client: Client, tool: string, error: unknown): ToolError {
    if (error instanceof McpError) {
      if (error.code === Number(ErrorCode.RequestTimeout))
        return new ToolError(`MCP tool ${tool} on "${this.name}" timed out`, {
          retryable: true,
          cause: error,
        });
      if (error.code !== Number(ErrorCode.ConnectionClosed))
        return new ToolError(`MCP tool ${tool} on "${this.name}": ${error.message}`, {
          retryable: false,
          cause: error,
        });
    }
    // The connection failed under the call (process died, HTTP server gone): drop it and reconnect.
    this.#dropped(client, `connection lost during ${tool}: ${message(error)}`);
    void client.close().catch(() => {});
    return new ToolError(
      `MCP server "${this.name}" dropped the connection during ${tool}; reconnecting with backoff`,
      { retryable: true, cause: error },
    );
  }

  /** Close for good (kills a stdio server process). */
  async close(): Promise<void> {
    this.#state = 'closed';
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const client = this.#client;
    this.#client = null;
    await client?.close().catch(() => {});
    await this.#connecting?.catch(() => false);
  }
}

const textOf = (r: CallToolResult): string =>
  r.content
    .map((c) => (c.type === 'text' ? c.text : ''))
    .filter(Boolean)
    .join('\n');

/** What a call returns to the agent: structured content, else the text, else a summary of the parts. */
function resultValue(r: CallToolResult): unknown {
  if (r.structuredContent !== undefined) return r.structuredContent;
  if (r.content.every((c) => c.type === 'text')) return textOf(r);
  // Binary parts (images, audio) are summarized: the journal keeps no blobs.
  return r.content.map((c) =>
    c.type === 'text'
      ? { type: 'text', text: c.text }
      : c.type === 'image' || c.type === 'audio'
        ? { type: c.type, mimeType: c.mimeType }
        : c.type === 'resource_link'
          ? { type: c.type, uri: c.uri }
          : { type: c.type },
  );
}
