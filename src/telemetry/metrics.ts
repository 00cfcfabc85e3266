/**
 * Prometheus metrics derived from journal appends (prom-client, on a registry of its own). Counters
 * and histograms count what this process sees appended; gauges that describe shared state (queue
 * depth, versions no worker serves) are read at scrape time, so any process's `/metrics` reports
 * them right. Every series labelled with an `agent` also carries its `version`: the label of a
 * labeled version, the content digest of an unlabeled agent, `""` before the run has an agent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JournalEvent } from '../core/events.ts';
import { agentQueue } from '../core/queues.ts';
import type { Store, StoreListener } from '../store/ports.ts';
import { costOf, type PriceTable } from './cost.ts';

export interface MetricsOptions {
  store: Store;
  /**
   * Queues whose depth is reported: `router` and `agent:<entry>` for each entry, a name or a
   * `name@version` key (the queue of that labeled version).
   */
  agents?: readonly string[];
  /**
   * The labeled versions no live worker serves (`system.deployments.unserved`), read at scrape time
   * into `version_not_served`; none when absent.
   */
  unserved?: () => Promise<readonly { agent: string; version: string; reason: string }[]>;
  prices?: PriceTable;
  /** Prefix of every metric name (default `switchboard_`). */
  prefix?: string;
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

interface RunInfo {
  agent: string;
  /** The version label or unlabeled digest (`''` until known). */
  version: string;
  /** The labeled version, when the run has one: it waits on that version's queue. */
  label?: string;
  stepStartedAt?: number;
  toolStartedAt: Map<string, number>;
  approvalAt: Map<string, number>;
  queuedAt?: number;
}

export interface SwitchboardMetrics {
  readonly registry: Registry;
  /** Store listener feeding the metrics (attach once per process). */
  readonly listener: StoreListener;
  attach(): () => void;
  /** Observe appended events directly (tests, or a feed other than the store listener). */
  observe(events: readonly JournalEvent[]): void;
  /** Resolves when every observed event is counted. */
  flush(): Promise<void>;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
  /** Node `http` handler for `GET /metrics` on the private listener. */
  handler(req: IncomingMessage, res: ServerResponse): void;
  /** Gauges other components set (the gateway's WebSocket connections). */
  readonly websocketConnections: Gauge;
}

type Registers = Registry[];

/** Runs, their steps and the model calls in them. */
function runInstruments(p: string, registers: Registers) {
  return {
    runs: new Counter({
      name: `${p}runs_total`,
      help: 'Runs ended, by agent and final status',
      labelNames: ['agent', 'version', 'status'],
      registers,
    }),
    runsStarted: new Counter({
      name: `${p}runs_submitted_total`,
      help: 'Runs submitted (delegated runs included), by channel',
      labelNames: ['channel'],
      registers,
    }),
    runDuration: new Histogram({
      name: `${p}run_duration_seconds`,
      help: 'Run duration from submission to its end',
      labelNames: ['agent', 'version', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    stepDuration: new Histogram({
      name: `${p}step_duration_seconds`,
      help: 'Agent step duration: a model call and the tool calls it asked for',
      labelNames: ['agent', 'version'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    modelLatency: new Histogram({
      name: `${p}model_latency_seconds`,
      help: 'Model call latency',
      labelNames: ['agent', 'version', 'model'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    modelCalls: new Counter({
      name: `${p}model_calls_total`,
      help: 'Model calls',
      labelNames: ['agent', 'version', 'model'],
      registers,
    }),
    tokens: new Counter({
      name: `${p}model_tokens_total`,
      help: 'Model tokens, by direction (input, output)',
      labelNames: ['agent', 'version', 'model', 'direction'],
      registers,
    }),
    cost: new Counter({
      name: `${p}model_cost_usd_total`,
      help: 'Model cost in USD from the price table',
      labelNames: ['agent', 'version', 'model'],
      registers,
    }),
  };
}

/** Tool calls, delegations, escalations, approvals, memory failures and in-doubt calls. */
function callInstruments(p: string, registers: Registers) {
  return {
    toolCalls: new Counter({
      name: `${p}tool_calls_total`,
      help: 'Tool call attempts by outcome (succeeded, failed, retried, denied)',
      labelNames: ['agent', 'version', 'tool', 'outcome'],
      registers,
    }),
    toolDuration: new Histogram({
      name: `${p}tool_duration_seconds`,
      help: 'Tool attempt duration',
      labelNames: ['agent', 'version', 'tool', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    retries: new Counter({
      name: `${p}tool_retries_total`,
      help: 'Tool attempts that failed and were scheduled again',
      labelNames: ['agent', 'version', 'tool'],
      registers,
    }),
    denials: new Counter({
      name: `${p}tool_denials_total`,
      help: 'Tool calls refused, by reason',
      labelNames: ['agent', 'version', 'tool', 'reason'],
      registers,
    }),
    delegations: new Counter({
      name: `${p}delegations_total`,
      help: 'Delegations between agents',
      labelNames: ['from', 'to'],
      registers,
    }),
    escalations: new Counter({
      name: `${p}escalations_total`,
      help: 'Runs the router escalated instead of guessing',
      registers,
    }),
    approvalsRequested: new Counter({
      name: `${p}approvals_requested_total`,
      help: 'Approvals requested',
      labelNames: ['agent', 'version', 'tool'],
      registers,
    }),
    approvalsDecided: new Counter({
      name: `${p}approvals_decided_total`,
      help: 'Approvals decided',
      labelNames: ['agent', 'version', 'decision'],
      registers,
    }),
    approvalsPending: new Gauge({
      name: `${p}approvals_pending`,
      help: 'Approvals requested and not yet decided (seen by this process)',
      registers,
    }),
    approvalWait: new Histogram({
      name: `${p}approval_wait_seconds`,
      help: 'Time from approval request to decision',
      labelNames: ['agent', 'version', 'decision'],
      buckets: [1, 10, 60, 300, 900, 3600, 14400, 86400],
      registers,
    }),
    memoryFailures: new Counter({
      name: `${p}memory_failures_total`,
      help: 'Memory loads or saves that failed (the run went on stateless)',
      labelNames: ['agent', 'version'],
      registers,
    }),
    attention: new Counter({
      name: `${p}runs_needing_attention_total`,
      help: 'In-doubt calls that paused a run for a person',
      labelNames: ['agent', 'version', 'tool'],
      registers,
    }),
  };
}

/** Queue waits, and the gauges of shared state read at scrape time (or set by the gateway). */
function queueInstruments(p: string, registers: Registers, options: MetricsOptions) {
  const { store, unserved } = options;
  const queueWait = new Histogram({
    name: `${p}queue_wait_seconds`,
    help: 'Time a run waited on a queue before its next step (router, then its agent queue)',
    labelNames: ['queue'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const websocketConnections = new Gauge({
    name: `${p}websocket_connections`,
    help: 'Open WebSocket connections (set by the gateway)',
    registers,
  });
  const queues = [...new Set(['router', ...(options.agents ?? []).map((a) => `agent:${a}`)])];
  new Gauge({
    name: `${p}queue_depth`,
    help: 'Wake-up tasks on a queue (read from the store at scrape time)',
    labelNames: ['queue'],
    registers,
    async collect() {
      for (const q of queues) this.set({ queue: q }, await store.queue.depth(q));
    },
  });
  new Gauge({
    name: `${p}version_not_served`,
    help: 'Labeled versions with traffic or waiting runs that no live worker serves (1 each, read at scrape time)',
    labelNames: ['agent', 'version'],
    registers,
    async collect() {
      if (!unserved) return;
      // A store that cannot answer keeps the last reading rather than failing the whole scrape.
      const now = await unserved().catch(() => null);
      if (!now) return;
      // A version served again disappears from the exposition instead of staying at a stale 1.
      this.reset();
      for (const u of now) this.set({ agent: u.agent, version: u.version }, 1);
    },
  });
  return { queueWait, websocketConnections };
}

type Instruments = ReturnType<typeof runInstruments> &
  ReturnType<typeof callInstruments> &
  ReturnType<typeof queueInstruments>;

/** Routing, the agent's start, model calls and memory. */
function countStep(m: Instruments, r: RunInfo, e: JournalEvent, prices: PriceTable | undefined): void {
  const { agent, version } = r;
  switch (e.type) {
    case 'route.decided':
      if (r.queuedAt !== undefined) m.queueWait.observe({ queue: 'router' }, (e.at - r.queuedAt) / 1000);
      r.agent = e.data.agent;
      if (e.data.version) {
        r.version = e.data.version;
        r.label = e.data.version;
      }
      r.queuedAt = e.at;
      break;
    case 'agent.started':
      r.agent = e.data.agent;
      r.version = e.data.version;
      if (r.queuedAt !== undefined)
        m.queueWait.observe({ queue: agentQueue(e.data.agent, r.label) }, (e.at - r.queuedAt) / 1000);
      delete r.queuedAt;
      break;
    case 'model.requested':
      if (r.stepStartedAt !== undefined)
        m.stepDuration.observe({ agent, version }, (e.at - r.stepStartedAt) / 1000);
      r.stepStartedAt = e.at;
      break;
    case 'model.responded': {
      const labels = { agent, version, model: e.data.modelId };
      m.modelCalls.inc(labels);
      m.modelLatency.observe(labels, e.data.latencyMs / 1000);
      m.tokens.inc({ ...labels, direction: 'input' }, e.data.usage.inputTokens);
      m.tokens.inc({ ...labels, direction: 'output' }, e.data.usage.outputTokens);
      if (prices) m.cost.inc(labels, costOf(prices, e.data.modelId, e.data.usage));
      break;
    }
    case 'memory.failed':
      m.memoryFailures.inc({ agent, version });
      break;
    default:
      break;
  }
}

/** Tool calls, approvals, delegations and in-doubt calls. */
function countCall(m: Instruments, r: RunInfo, e: JournalEvent): void {
  const { agent, version } = r;
  switch (e.type) {
    case 'tool.started':
      r.toolStartedAt.set(e.data.callId, e.at);
      break;
    case 'tool.succeeded':
    case 'tool.failed': {
      const retried = e.type === 'tool.failed' && e.data.nextAttemptAt !== undefined;
      const outcome = e.type === 'tool.succeeded' ? 'succeeded' : retried ? 'retried' : 'failed';
      const labels = { agent, version, tool: e.data.tool };
      m.toolCalls.inc({ ...labels, outcome });
      const started = r.toolStartedAt.get(e.data.callId);
      if (started !== undefined) m.toolDuration.observe({ ...labels, outcome }, (e.at - started) / 1000);
      if (retried) m.retries.inc(labels);
      break;
    }
    case 'tool.denied':
      m.toolCalls.inc({ agent, version, tool: e.data.tool, outcome: 'denied' });
      m.denials.inc({ agent, version, tool: e.data.tool, reason: e.data.reason });
      break;
    case 'approval.requested':
      m.approvalsRequested.inc({ agent, version, tool: e.data.tool });
      m.approvalsPending.inc();
      r.approvalAt.set(e.data.approvalId, e.at);
      break;
    case 'approval.decided': {
      m.approvalsDecided.inc({ agent, version, decision: e.data.decision });
      m.approvalsPending.dec();
      const at = r.approvalAt.get(e.data.approvalId);
      if (at !== undefined)
        m.approvalWait.observe({ agent, version, decision: e.data.decision }, (e.at - at) / 1000);
      break;
    }
    case 'delegation.requested':
      m.delegations.inc({ from: agent, to: e.data.agent });
      break;
    case 'run.needs_attention':
      m.attention.inc({ agent, version, tool: e.data.tool });
      break;
    default:
      break;
  }
}

/** A run's end (or the router's escalation of it): counted once; true when the run is over. */
function countRunEnd(m: Instruments, r: RunInfo, e: JournalEvent): boolean {
  const { agent, version } = r;
  switch (e.type) {
    case 'run.completed':
    case 'run.failed':
    case 'run.cancelled': {
      const status = e.type.slice(4);
      m.runs.inc({ agent, version, status });
      m.runDuration.observe({ agent, version, status }, e.data.totals.durationMs / 1000);
      if (r.stepStartedAt !== undefined)
        m.stepDuration.observe({ agent, version }, (e.at - r.stepStartedAt) / 1000);
      return true;
    }
    case 'route.escalated':
      m.escalations.inc();
      m.runs.inc({ agent: 'unrouted', version: '', status: 'escalated' });
      return true;
    default:
      return false;
  }
}

/**
 * Create the metrics of a system.
 * @example
 * const metrics = createMetrics({ store: system.store, agents: ['support', 'billing'] });
 * metrics.attach();
 * http.createServer((req, res) => req.url === '/metrics' ? metrics.handler(req, res) : res.end()).listen(9464, '127.0.0.1');
 */
export function createMetrics(options: MetricsOptions): SwitchboardMetrics {
  const { store } = options;
  const p = options.prefix ?? 'switchboard_';
  const registry = new Registry();
  const registers = [registry];
  // Registered in this order: the exposition lists the series as it always has.
  const m: Instruments = {
    ...runInstruments(p, registers),
    ...callInstruments(p, registers),
    ...queueInstruments(p, registers, options),
  };

  const info = new Map<string, RunInfo>();
  let chain: Promise<void> = Promise.resolve();

  const runInfo = async (runId: string): Promise<RunInfo> => {
    let r = info.get(runId);
    if (!r) {
      // A run first seen mid-way (another process started it): its agent is in the projection.
      const row = await store.runs.get(runId);
      r = {
        agent: row?.agent ?? 'unknown',
        version: row?.version ?? '',
        ...(row?.version ? { label: row.version } : {}),
        toolStartedAt: new Map(),
        approvalAt: new Map(),
      };
      if (info.size > 20_000) info.clear();
      info.set(runId, r);
    }
    return r;
  };

  const handle = async (e: JournalEvent): Promise<void> => {
    if (e.type === 'run.submitted') {
      info.set(e.runId, {
        agent: e.data.agent ?? 'unrouted',
        version: e.data.version ?? '',
        ...(e.data.version ? { label: e.data.version } : {}),
        toolStartedAt: new Map(),
        approvalAt: new Map(),
        queuedAt: e.at,
      });
      m.runsStarted.inc({ channel: e.data.channel });
      return;
    }
    const r = await runInfo(e.runId);
    countStep(m, r, e, options.prices);
    countCall(m, r, e);
    if (countRunEnd(m, r, e)) info.delete(e.runId);
  };

  const observe = (events: readonly JournalEvent[]): void => {
    const batch = [...events];
    chain = chain.then(async () => {
      for (const e of batch) await handle(e);
    });
    chain = chain.catch(() => undefined);
  };

  const render = async () => ({ contentType: registry.contentType, body: await registry.metrics() });

  return {
    registry,
    listener: { appended: observe },
    attach: () => store.listen({ appended: observe }),
    observe,
    flush: () => chain,
    render,
    websocketConnections: m.websocketConnections,
    handler(_req, res) {
      render().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(body);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`metrics unavailable: ${error instanceof Error ? error.message : String(error)}\n`);
        },
      );
    },
  };
}
