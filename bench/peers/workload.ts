// The one workload every framework runs: a triage agent hands a customer request to a worker agent
// that owns four tools; the worker calls three of them in sequence and answers; the triage agent
// (where the framework hands control back) repeats the worker's answer. Everything a framework
// needs — the scripted policy, the tool bodies, the accounting — lives here so that the adapters
// in frameworks/ are only translation between this module and each framework's own types.
import { setTimeout as sleep } from 'node:timers/promises';

/** The request every run answers. */
export const INPUT = 'Where is my latest order? My account email is ada@example.com.';

/** What every framework must return for INPUT. */
export const EXPECTED_ANSWER =
  'Resolved: Ada Lovelace (C-42), order O-7001 is shipped with DHL, tracking DHL-123456, ETA 2026-12-01.';

/** The worker tool calls every framework must make, in order. */
export const EXPECTED_TOOL_CALLS = [
  'lookup_customer {"email":"ada@example.com"}',
  'list_orders {"customerId":"C-42"}',
  'track_shipment {"orderId":"O-7001"}',
];

export const TRIAGE_INSTRUCTIONS =
  'Route every customer request to the agent that owns it. Repeat its answer.';
export const WORKER_INSTRUCTIONS = 'Answer order questions with the customer, order and shipment tools.';
export const WORKER_DESCRIPTION = 'Handles customer order and shipping questions.';

const customers: Record<string, { customerId: string; name: string; tier: string }> = {
  'ada@example.com': { customerId: 'C-42', name: 'Ada Lovelace', tier: 'gold' },
};
const orders: Record<string, { orderId: string; status: string; placedAt: string }[]> = {
  'C-42': [
    { orderId: 'O-7001', status: 'shipped', placedAt: '2026-11-20' },
    { orderId: 'O-6990', status: 'delivered', placedAt: '2026-10-02' },
  ],
};
const shipments: Record<string, { carrier: string; tracking: string; eta: string }> = {
  'O-7001': { carrier: 'DHL', tracking: 'DHL-123456', eta: '2026-12-01' },
};

/** Names of the worker's four tools; the fourth is owned but never called. */
export type ToolName = 'lookup_customer' | 'list_orders' | 'track_shipment' | 'open_ticket';

/** Tool metadata, shared so that every framework shows the model the same tools. */
export const TOOL_SPECS: Record<ToolName, { description: string; fields: Record<string, 'string'> }> = {
  lookup_customer: { description: 'Find a customer by account email.', fields: { email: 'string' } },
  list_orders: { description: "List a customer's orders, newest first.", fields: { customerId: 'string' } },
  track_shipment: {
    description: 'Carrier, tracking number and ETA of an order.',
    fields: { orderId: 'string' },
  },
  open_ticket: {
    description: 'Open a support ticket for a customer.',
    fields: { customerId: 'string', summary: 'string' },
  },
};
export const TOOL_NAMES = Object.keys(TOOL_SPECS) as ToolName[];

const toolBodies: Record<ToolName, (args: Record<string, string>) => unknown> = {
  lookup_customer: (a) => customers[a.email ?? ''] ?? { error: 'no such customer' },
  list_orders: (a) => ({ orders: orders[a.customerId ?? ''] ?? [] }),
  track_shipment: (a) => shipments[a.orderId ?? ''] ?? { error: 'no shipment' },
  open_ticket: (a) => ({ ticketId: `T-${a.customerId ?? '?'}-1` }),
};

/** Per-process accounting; read as deltas around a run or a batch of runs. */
export const stats = {
  modelCalls: 0,
  toolCalls: 0,
  handoffs: 0,
  /** Time spent inside the policy and the tool bodies: the work that is not the framework's. */
  payloadMs: 0,
  /** Time actually spent waiting out the simulated model latency (timers overshoot a little). */
  sleptMs: 0,
  /** Tool calls with their arguments, in order; only filled while `tracing` is on (concurrency 1). */
  trace: [] as string[],
  tracing: false,
};

let latencyMs = 0;
/** Sets the simulated model latency for every model call in this process (0 or e.g. 50 ms). */
export function setModelLatency(ms: number): void {
  latencyMs = ms;
}
export function modelLatency(): number {
  return latencyMs;
}

/** Runs a tool body with accounting. Every framework's tool callbacks end here. */
export function callTool(name: ToolName, args: Record<string, string>): unknown {
  const t0 = performance.now();
  const result = toolBodies[name](args);
  stats.toolCalls++;
  if (stats.tracing) stats.trace.push(`${name} ${JSON.stringify(args)}`);
  stats.payloadMs += performance.now() - t0;
  return result;
}

/** A framework-neutral transcript, which each adapter builds from its own message types. */
export type Turn =
  | { role: 'user'; text: string }
  | { role: 'assistant'; text: string; calls: string[] }
  | { role: 'tool'; name: string; text: string };

/** What the scripted model does next. */
export type Decision =
  | { kind: 'handoff'; task: string }
  | { kind: 'call'; name: ToolName; args: Record<string, string> }
  | { kind: 'final'; text: string };

/** The agent the model is acting as, told apart by the tools it is shown. */
export function roleOf(toolNames: readonly string[]): 'triage' | 'worker' {
  return toolNames.includes('lookup_customer') ? 'worker' : 'triage';
}

/** Parses a serialized tool result, whatever wrapper the framework put around the JSON. */
function parseResult(text: string): Record<string, unknown> {
  let value: unknown = text;
  // Some frameworks serialize twice (a JSON string holding JSON): unwrap until an object.
  for (let i = 0; i < 3 && typeof value === 'string'; i++) {
    const start = value.indexOf('{');
    if (start < 0) return {};
    try {
      value = JSON.parse(value.slice(start));
    } catch {
      return {};
    }
  }
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

const ANSWER_MARK = 'Resolved:';

/** The policy: transcript → next action. Pure and deterministic. */
export function policy(role: 'triage' | 'worker', transcript: readonly Turn[]): Decision {
  if (role === 'triage') {
    for (let i = transcript.length - 1; i >= 0; i--) {
      const turn = transcript[i]!;
      if (turn.role === 'user') continue;
      const at = turn.text.indexOf(ANSWER_MARK);
      if (at >= 0) return { kind: 'final', text: extractAnswer(turn.text.slice(at)) };
    }
    const request = transcript.find((t) => t.role === 'user');
    return { kind: 'handoff', task: request?.text ?? '' };
  }
  const results = new Map<string, Record<string, unknown>>();
  for (const turn of transcript) if (turn.role === 'tool') results.set(turn.name, parseResult(turn.text));
  const customer = results.get('lookup_customer');
  if (!customer) {
    const email = /[\w.+-]+@[\w-]+\.[\w.]+\w/.exec(
      transcript.map((t) => (t.role === 'user' ? t.text : '')).join(' '),
    )?.[0];
    return { kind: 'call', name: 'lookup_customer', args: { email: email ?? '' } };
  }
  const list = results.get('list_orders');
  if (!list) return { kind: 'call', name: 'list_orders', args: { customerId: String(customer.customerId) } };
  const latest = (list.orders as { orderId: string; status: string }[] | undefined)?.[0];
  const shipment = results.get('track_shipment');
  if (!shipment) return { kind: 'call', name: 'track_shipment', args: { orderId: String(latest?.orderId) } };
  return {
    kind: 'final',
    text:
      `${ANSWER_MARK} ${String(customer.name)} (${String(customer.customerId)}), order ${String(latest?.orderId)} ` +
      `is ${String(latest?.status)} with ${String(shipment.carrier)}, tracking ${String(shipment.tracking)}, ` +
      `ETA ${String(shipment.eta)}.`,
  };
}

/** The answer as written by the worker, cut free of any quoting a framework wrapped around it. */
function extractAnswer(text: string): string {
  const end = text.search(/["\\\n]/);
  return (end < 0 ? text : text.slice(0, end)).trim();
}

/**
 * One model call as every fake adapter makes it: decide with the policy, count it, and wait the
 * simulated latency. The adapters translate the transcript in and the decision out.
 */
export async function modelStep(
  toolNames: readonly string[],
  transcript: readonly Turn[],
): Promise<Decision> {
  const t0 = performance.now();
  const decision = policy(roleOf(toolNames), transcript);
  stats.modelCalls++;
  if (decision.kind === 'handoff') stats.handoffs++;
  stats.payloadMs += performance.now() - t0;
  if (latencyMs > 0) {
    const s0 = performance.now();
    await sleep(latencyMs);
    stats.sleptMs += performance.now() - s0;
  }
  return decision;
}

/** A framework wired to the workload, ready to run it. */
export interface Harness {
  /** Runs the workload once and returns the final answer. */
  run(input: string): Promise<string>;
  close(): Promise<void>;
}

/** What each adapter module exports. */
export type CreateHarness = () => Promise<Harness>;

// ---- Normalization shared by the AI SDK based adapters (Mastra: LanguageModelV2, Switchboard). ----

type AiSdkPart = {
  type: string;
  text?: string;
  toolName?: string;
  input?: unknown;
  output?: { type: string; value?: unknown };
  result?: unknown;
};
type AiSdkMessage = { role: string; content: string | AiSdkPart[] };

function stringify(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** AI SDK prompt (any spec version since v2) → neutral transcript. */
export function fromAiSdkPrompt(prompt: readonly AiSdkMessage[]): Turn[] {
  const turns: Turn[] = [];
  for (const message of prompt) {
    const parts =
      typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
    if (message.role === 'user') {
      turns.push({ role: 'user', text: parts.map((p) => p.text ?? '').join('') });
    } else if (message.role === 'assistant') {
      turns.push({
        role: 'assistant',
        text: parts.map((p) => (p.type === 'text' ? (p.text ?? '') : '')).join(''),
        calls: parts.filter((p) => p.type === 'tool-call').map((p) => p.toolName ?? ''),
      });
    } else if (message.role === 'tool') {
      for (const p of parts) {
        if (p.type !== 'tool-result') continue;
        const value = p.output ? (p.output.value ?? '') : p.result;
        turns.push({ role: 'tool', name: p.toolName ?? '', text: stringify(value) });
      }
    }
  }
  return turns;
}

let callSeq = 0;
/** A unique tool call id, as a provider would return. */
export function nextCallId(): string {
  return `call_${++callSeq}`;
}
