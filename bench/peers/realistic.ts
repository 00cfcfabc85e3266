// The realistic workload: a customer-service session across a front agent and three specialists
// (account, orders, billing) owning 12 tools. Every run is a fresh two-turn session:
//
//   turn 1  "… my account email is ada@example.com"   → account: lookup_customer → answer
//   turn 2  "I was charged twice for my latest order …" → billing, which knows the customer only
//           from the session's memory of turn 1; it delegates to orders (approval-free, the result
//           comes back to billing): list_orders; then list_charges and refund_charge — a WRITE that
//           is not idempotent, announced by a progress milestone — and answers.
//
// Routing, tool retrieval, session memory and progress are each framework's own feature (or the
// closest thing it documents; see each adapter's `limitations`). This module is framework-neutral,
// like workload.ts: the scripted policy, the tool bodies and the accounting (the same `stats`
// counters, so child.ts measures both workloads alike), plus the count of write effects.
import { setTimeout as sleep } from 'node:timers/promises';
import { modelLatency, stats, type Turn } from './workload.ts';

export type { Harness, CreateHarness, Turn } from './workload.ts';

/** The first turn of every session: it puts the customer in the session's memory. */
export const TURN_1 = 'Hi, I need help with my account. My account email is ada@example.com.';
/** The measured request (turn 2): it names neither the customer nor the order. */
export const INPUT = 'I was charged twice for my latest order. Please refund the duplicate charge.';

/** Turn 1's answer (what memory must carry into turn 2). */
export const TURN_1_ANSWER = 'Resolved: found your account, Ada Lovelace (C-42), gold tier.';
/** What every framework must answer to turn 2. */
export const EXPECTED_ANSWER =
  'Resolved: refunded the duplicate charge ch_2 (129.00 EUR) on order O-7001 for Ada Lovelace (C-42), refund RF-ch_2.';
/** The tool calls of both turns, in order (delegations and handoffs are not tool calls here). */
export const EXPECTED_TOOL_CALLS = [
  'lookup_customer {"email":"ada@example.com"}',
  'list_orders {"customerId":"C-42"}',
  'list_charges {"orderId":"O-7001"}',
  'refund_charge {"chargeId":"ch_2","amount":"129.00"}',
];

export type AgentName = 'front' | 'account' | 'orders' | 'billing';
export const SPECIALISTS = ['account', 'orders', 'billing'] as const;

/** Each agent's responsibility, instructions and example requests (routing and handoff descriptions). */
export const AGENTS: Record<
  AgentName,
  { responsibility: string; instructions: string; examples: string[]; tools: ToolName[] }
> = {
  front: {
    responsibility: 'Answers general questions from the help center and opens support tickets.',
    instructions: 'Answer general questions; open a ticket when nobody else can help.',
    examples: [
      'What are your opening hours?',
      'How do I contact support?',
      'I have a general question about your service.',
    ],
    tools: ['search_help', 'open_ticket'],
  },
  account: {
    responsibility: 'Finds customer accounts by email and changes account email and passwords.',
    instructions: 'Look up the customer account first; change account details only when asked.',
    examples: [
      'My account email is bob@example.com, please look up my account.',
      'I need help with my account login.',
      'Please reset my password.',
      'Change the email address on my account.',
    ],
    tools: ['lookup_customer', 'update_email', 'reset_password'],
  },
  orders: {
    responsibility: 'Lists customer orders, tracks shipments and cancels orders.',
    instructions: 'Answer order questions with the order and shipment tools; name the latest order.',
    examples: [
      'Where is my package?',
      'Track my shipment please.',
      'Cancel my order.',
      'List the orders of customer C-1.',
    ],
    tools: ['list_orders', 'track_shipment', 'cancel_order'],
  },
  billing: {
    responsibility: 'Handles charges, payments, refunds and invoices.',
    instructions:
      'Ask the orders agent which order is meant, check its charges, refund a duplicate charge once.',
    examples: [
      'I was charged twice, please refund me.',
      'Refund the duplicate payment.',
      'Send me the invoice for my order.',
      'Update my payment card.',
    ],
    tools: ['list_charges', 'refund_charge', 'get_invoice', 'update_payment_method'],
  },
};

export const TRIAGE_INSTRUCTIONS =
  'Route every customer request to the specialist agent that owns it. Repeat its answer.';

export type ToolName =
  | 'search_help'
  | 'open_ticket'
  | 'lookup_customer'
  | 'update_email'
  | 'reset_password'
  | 'list_orders'
  | 'track_shipment'
  | 'cancel_order'
  | 'list_charges'
  | 'refund_charge'
  | 'get_invoice'
  | 'update_payment_method';

type Spec = {
  description: string;
  fields: Record<string, 'string'>;
  risk: 'read' | 'write' | 'financial';
  idempotent: boolean;
  /** A progress milestone shown to the user when the call starts (where the framework has one). */
  progress?: string;
  /** Example requests (tool retrieval uses them, where the framework has it). */
  examples: string[];
};

/** Tool metadata, shared so that every framework shows the model the same tools. */
export const TOOL_SPECS: Record<ToolName, Spec> = {
  search_help: {
    description: 'Search the help center articles.',
    fields: { query: 'string' },
    risk: 'read',
    idempotent: true,
    examples: ['What are your opening hours?', 'How do I contact support?'],
  },
  open_ticket: {
    description: 'Open a support ticket for a customer.',
    fields: { customerId: 'string', summary: 'string' },
    risk: 'write',
    idempotent: false,
    examples: ['Open a ticket for me.', 'Nobody could help, please escalate.'],
  },
  lookup_customer: {
    description: 'Find a customer account by account email.',
    fields: { email: 'string' },
    risk: 'read',
    idempotent: true,
    examples: ['My account email is bob@example.com.', 'Look up my account.'],
  },
  update_email: {
    description: 'Change the email address of a customer account.',
    fields: { customerId: 'string', newEmail: 'string' },
    risk: 'write',
    idempotent: true,
    examples: ['Change my email address.', 'Use my new email on the account.'],
  },
  reset_password: {
    description: 'Send a password reset link to the customer.',
    fields: { customerId: 'string' },
    risk: 'write',
    idempotent: true,
    examples: ['I forgot my password.', 'Reset my password please.'],
  },
  list_orders: {
    description: "List a customer's orders, newest first.",
    fields: { customerId: 'string' },
    risk: 'read',
    idempotent: true,
    examples: ['List the orders of customer C-1.', 'Which is my latest order?'],
  },
  track_shipment: {
    description: 'Carrier, tracking number and ETA of an order.',
    fields: { orderId: 'string' },
    risk: 'read',
    idempotent: true,
    examples: ['Where is my package?', 'Track my shipment.'],
  },
  cancel_order: {
    description: 'Cancel an order that has not shipped yet.',
    fields: { orderId: 'string' },
    risk: 'write',
    idempotent: true,
    examples: ['Cancel my order.', 'I do not want the order any more.'],
  },
  list_charges: {
    description: 'List the card charges of an order, to find duplicate charges.',
    fields: { orderId: 'string' },
    risk: 'read',
    idempotent: true,
    examples: ['I was charged twice for my order.', 'Which charges were made for order O-1?'],
  },
  refund_charge: {
    description: 'Refund one card charge (money goes back to the customer).',
    fields: { chargeId: 'string', amount: 'string' },
    risk: 'write',
    idempotent: false,
    progress: 'Refunding the duplicate charge',
    examples: ['Refund the duplicate charge.', 'Please refund me.'],
  },
  get_invoice: {
    description: 'The invoice of an order as a PDF link.',
    fields: { orderId: 'string' },
    risk: 'read',
    idempotent: true,
    examples: ['Send me the invoice.', 'I need a receipt for my order.'],
  },
  update_payment_method: {
    description: "Replace the customer's payment card.",
    fields: { customerId: 'string', last4: 'string' },
    risk: 'write',
    idempotent: true,
    examples: ['Update my payment card.', 'My card expired, use a new one.'],
  },
};
export const TOOL_NAMES = Object.keys(TOOL_SPECS) as ToolName[];
const OWN_TOOLS = new Set<string>(TOOL_NAMES);

const toolBodies: Record<ToolName, (args: Record<string, string>) => unknown> = {
  search_help: () => ({ articles: [] }),
  open_ticket: (a) => ({ ticketId: `T-${a.customerId ?? '?'}-1` }),
  lookup_customer: (a) =>
    a.email === 'ada@example.com'
      ? { customerId: 'C-42', name: 'Ada Lovelace', tier: 'gold' }
      : { error: 'no such customer' },
  update_email: () => ({ ok: true }),
  reset_password: () => ({ sent: true }),
  list_orders: (a) => ({
    orders:
      a.customerId === 'C-42'
        ? [
            { orderId: 'O-7001', status: 'shipped', placedAt: '2026-11-20', total: '129.00' },
            { orderId: 'O-6990', status: 'delivered', placedAt: '2026-10-02', total: '35.50' },
          ]
        : [],
  }),
  track_shipment: () => ({ carrier: 'DHL', tracking: 'DHL-123456', eta: '2026-12-01' }),
  cancel_order: () => ({ cancelled: false, reason: 'already shipped' }),
  list_charges: (a) => ({
    charges:
      a.orderId === 'O-7001'
        ? [
            { chargeId: 'ch_1', amount: '129.00', currency: 'EUR', at: '2026-11-20T10:00:00Z' },
            { chargeId: 'ch_2', amount: '129.00', currency: 'EUR', at: '2026-11-20T10:00:04Z' },
          ]
        : [],
  }),
  refund_charge: (a) => {
    effects.writes++;
    return { refundId: `RF-${a.chargeId ?? '?'}`, amount: a.amount, status: 'refunded' };
  },
  get_invoice: (a) => ({ url: `https://example.com/invoices/${a.orderId ?? '?'}.pdf` }),
  update_payment_method: () => ({ ok: true }),
};

/** Effects of the non-idempotent write (refund_charge) in this process: exactly one per run. */
export const effects = { writes: 0, progress: 0 };

/** Runs a tool body with accounting. Every framework's tool callbacks end here. */
export function callTool(name: ToolName, args: Record<string, string>): unknown {
  const t0 = performance.now();
  const result = toolBodies[name](args);
  stats.toolCalls++;
  if (stats.tracing) stats.trace.push(`${name} ${JSON.stringify(args)}`);
  stats.payloadMs += performance.now() - t0;
  return result;
}

/** What the scripted model does next. */
export type Decision =
  | { kind: 'handoff'; target: AgentName; task: string }
  | { kind: 'delegate'; target: AgentName; task: string }
  | { kind: 'call'; name: ToolName; args: Record<string, string> }
  | { kind: 'final'; text: string };

export type Role = AgentName | 'triage';

/** The agent the model is acting as, told apart by the tools it is shown (triage: none of them). */
export function roleOf(toolNames: readonly string[]): Role {
  for (const agent of ['account', 'orders', 'billing', 'front'] as const)
    if (AGENTS[agent].tools.some((t) => toolNames.includes(t))) return agent;
  return 'triage';
}

/** The tool (handoff or delegation) that reaches `target`: not one of the 12 tools, named after it. */
export function agentToolName(shown: readonly string[], target: string): string {
  return shown.find((n) => !OWN_TOOLS.has(n) && n.endsWith(target)) ?? '';
}

/** Parses a serialized tool result, whatever wrapper the framework put around the JSON. */
function parseResult(text: string): Record<string, unknown> {
  let value: unknown = text;
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

const MARK = 'Resolved:';
const answerIn = (text: string): string | undefined => {
  const at = text.indexOf(MARK);
  if (at < 0) return undefined;
  const rest = text.slice(at);
  const end = rest.search(/["\\\n]/);
  return (end < 0 ? rest : rest.slice(0, end)).trim();
};

/** A customer as turn 1's answer names them: `Ada Lovelace (C-42)`. */
const WHO = /([A-Z][a-z]+ [A-Z][a-z]+) \((C-\d+)\)/;

/** Which specialist owns a request: the triage model's (scripted) choice. */
function ownerOf(request: string): AgentName {
  if (/charge|refund|invoice|payment/i.test(request)) return 'billing';
  if (/order|shipment|package/i.test(request)) return 'orders';
  if (/account|email|password/i.test(request)) return 'account';
  return 'front';
}

/** The policy: transcript → next action. Pure and deterministic. */
export function policy(role: Role, transcript: readonly Turn[]): Decision {
  // The current request is the last user turn; everything before it is the session's memory.
  let last = -1;
  for (let i = transcript.length - 1; i >= 0 && last < 0; i--) if (transcript[i]!.role === 'user') last = i;
  const request = last >= 0 ? (transcript[last] as { text: string }).text : '';
  const history = transcript.slice(0, Math.max(last, 0));
  const now = transcript.slice(last + 1);
  const results = new Map<string, Record<string, unknown>>();
  for (const t of now) if (t.role === 'tool') results.set(t.name, parseResult(t.text));
  const answered = now.map((t) => (t.role === 'user' ? undefined : answerIn(t.text))).find(Boolean);

  const memory = history.map((t) => (t.role === 'user' ? '' : t.text)).join('\n');
  const who = WHO.exec(memory) ?? WHO.exec(request);
  if (role === 'triage') {
    if (answered) return { kind: 'final', text: answered };
    // Where the specialist will see only the task (agents as tools), it carries what memory knows.
    const task = who ? `${request} (Customer: ${who[0]}.)` : request;
    return { kind: 'handoff', target: ownerOf(request), task };
  }
  if (role === 'account') {
    const customer = results.get('lookup_customer');
    if (!customer) {
      const email = /[\w.+-]+@[\w-]+\.[\w.]+\w/.exec(request)?.[0] ?? '';
      return { kind: 'call', name: 'lookup_customer', args: { email } };
    }
    return {
      kind: 'final',
      text: `${MARK} found your account, ${String(customer.name)} (${String(customer.customerId)}), ${String(customer.tier)} tier.`,
    };
  }
  if (role === 'orders') {
    const customerId = /C-\d+/.exec(request)?.[0] ?? '';
    const list = results.get('list_orders');
    if (!list) return { kind: 'call', name: 'list_orders', args: { customerId } };
    const latest = (list.orders as { orderId: string; status: string; placedAt: string }[] | undefined)?.[0];
    return {
      kind: 'final',
      text: `${MARK} latest order ${String(latest?.orderId)} (${String(latest?.status)}, placed ${String(latest?.placedAt)}).`,
    };
  }
  if (role === 'billing') {
    // Who the customer is comes only from memory: turn 1's answer (or a triage task quoting it).
    if (!who) return { kind: 'final', text: `${MARK} I do not know which customer you are.` };
    const order = now
      .map((t) => (t.role === 'tool' ? /latest order (O-\d+)/.exec(t.text)?.[1] : undefined))
      .find(Boolean);
    if (!order)
      return {
        kind: 'delegate',
        target: 'orders',
        task: `Which is the latest order of customer ${who[2]}?`,
      };
    const charges = results.get('list_charges');
    if (!charges) return { kind: 'call', name: 'list_charges', args: { orderId: order } };
    const list = (charges.charges as { chargeId: string; amount: string; currency: string }[]) ?? [];
    const duplicate = list.find((c, i) => list.findIndex((d) => d.amount === c.amount) !== i);
    const refund = results.get('refund_charge');
    if (!refund && duplicate)
      return {
        kind: 'call',
        name: 'refund_charge',
        args: { chargeId: duplicate.chargeId, amount: duplicate.amount },
      };
    return {
      kind: 'final',
      text:
        `${MARK} refunded the duplicate charge ${String(duplicate?.chargeId)} (${String(duplicate?.amount)} ` +
        `${String(duplicate?.currency)}) on order ${order} for ${who[1]} (${who[2]}), refund ${String(refund?.refundId)}.`,
    };
  }
  return { kind: 'final', text: `${MARK} see our help center.` };
}

/**
 * One model call as every fake adapter makes it: decide with the policy, count it, and wait the
 * simulated latency (set through workload.ts's setModelLatency, which child.ts drives).
 */
export async function modelStep(
  toolNames: readonly string[],
  transcript: readonly Turn[],
): Promise<Decision> {
  const t0 = performance.now();
  const decision = policy(roleOf(toolNames), transcript);
  if (process.env.BENCH_DEBUG)
    process.stderr.write(`${JSON.stringify({ toolNames, transcript, decision })}\n`);
  stats.modelCalls++;
  if (decision.kind === 'handoff' || decision.kind === 'delegate') stats.handoffs++;
  stats.payloadMs += performance.now() - t0;
  const latencyMs = modelLatency();
  if (latencyMs > 0) {
    const s0 = performance.now();
    await sleep(latencyMs);
    stats.sleptMs += performance.now() - s0;
  }
  return decision;
}

/** Records a progress milestone the framework surfaced (counted, not timed). */
export function onProgress(): void {
  effects.progress++;
}
