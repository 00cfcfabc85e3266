/**
 * The chaos workload: a desk agent that retries a flaky check, charges (not idempotent, with
 * reconcile), and delegates shipping to another agent that reserves stock (idempotent) and sends a
 * notice (not idempotent, no reconcile: an in-doubt notice must pause for a person). Every effect
 * is a row in a ledger database separate from the journal, as a real downstream system would be.
 */
import { DatabaseSync } from 'node:sqlite';
import { z } from 'zod';
import { defineAgent, type AgentDefinition } from '../../src/core/agent.ts';
import { ToolError } from '../../src/core/errors.ts';
import { defineTool, type AnyTool, type ToolContext } from '../../src/core/tool.ts';
import { policyModel, toolResults, type ScriptedModel } from '../../src/models/scripted.ts';

export function openLedger(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000');
  // No unique constraint on purpose: a second effect for the same key shows up as a second row.
  db.exec(
    'CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY, key TEXT NOT NULL, tool TEXT NOT NULL, amount INTEGER)',
  );
  db.exec('CREATE INDEX IF NOT EXISTS ledger_key ON ledger (key)');
  db.exec(
    'CREATE TABLE IF NOT EXISTS crashes (run_id TEXT, call_id TEXT, spot TEXT, PRIMARY KEY (run_id, call_id, spot))',
  );
  return db;
}

export function effectsFor(ledger: DatabaseSync, key: string): number {
  return (ledger.prepare('SELECT count(*) AS n FROM ledger WHERE key = ?').get(key) as { n: number }).n;
}

export type Spot = 'after-charge' | 'before-charge' | 'after-reserve' | 'after-notice' | 'before-notice';
const SPOTS: readonly Spot[] = [
  'after-charge',
  'before-charge',
  'after-reserve',
  'after-notice',
  'before-notice',
];

/** Whether this call's session is the one chosen to crash at `spot` (sessions `s<i>`, i mod crashEvery in 1..5). */
export function chosenToCrash(ctx: ToolContext, crashEvery: number, spot: Spot): boolean {
  const i = Number(/^s(\d+)$/.exec(ctx.sessionId)?.[1]);
  return crashEvery > 0 && Number.isInteger(i) && SPOTS[(i % crashEvery) - 1] === spot;
}

/** The flaky read both workloads start with: its first attempt always fails, the retry succeeds. */
export const checkAccountTool = (): AnyTool =>
  defineTool({
    name: 'check_account',
    description: 'Check the account (fails on the first attempt)',
    input: z.object({ account: z.string() }),
    risk: 'read',
    idempotent: true,
    retry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
    run: ({ account }, ctx) => {
      if (ctx.attempt === 1) throw new ToolError('account service timed out');
      return { account, ok: true };
    },
  });

/** The two agents of both workloads: a desk that charges and delegates, a shipping agent. */
export function workloadAgents(tools: {
  charge: AnyTool;
  reserve: AnyTool;
  notify: AnyTool;
}): AgentDefinition[] {
  return [
    defineAgent({
      name: 'desk',
      responsibility: 'Billing desk',
      instructions: 'Check, charge, then hand shipping to the shipping agent.',
      tools: [checkAccountTool(), tools.charge],
      delegates: ['shipping'],
    }),
    defineAgent({
      name: 'shipping',
      responsibility: 'Shipping',
      instructions: 'Reserve, notify.',
      tools: [tools.reserve, tools.notify],
    }),
  ];
}

/**
 * The agents; `crashEvery` > 0 makes the process die once (SIGKILL, like a power cut) at one spot
 * of one tool for sessions `s<i>` with i mod crashEvery in 1..5 — after or before the charge
 * (→ reconcile finds the effect, or not and re-runs), after the reservation (→ in-doubt re-run),
 * after or before the notice (→ needs_attention): every recovery path runs in every chaos run.
 */
export function chaosAgents(ledger: DatabaseSync, crashEvery = 0): AgentDefinition[] {
  const write = (key: string, tool: string, amount: number): void => {
    ledger.prepare('INSERT INTO ledger (key, tool, amount) VALUES (?, ?, ?)').run(key, tool, amount);
  };
  const crashOnce = (ctx: ToolContext, spot: Spot): void => {
    if (!chosenToCrash(ctx, crashEvery, spot)) return;
    const { changes } = ledger
      .prepare('INSERT OR IGNORE INTO crashes VALUES (?, ?, ?)')
      .run(ctx.runId, ctx.callId, spot);
    if (changes) process.kill(process.pid, 'SIGKILL');
  };
  const charge = defineTool({
    name: 'charge',
    description: 'Charge the account',
    input: z.object({ account: z.string(), amount: z.number().int() }),
    risk: 'financial',
    idempotent: false,
    progress: 'Charging the account',
    run: ({ amount }, ctx) => {
      crashOnce(ctx, 'before-charge');
      write(ctx.idempotencyKey, 'charge', amount);
      crashOnce(ctx, 'after-charge');
      return { charged: amount };
    },
    reconcile: async (key) =>
      effectsFor(ledger, key) > 0
        ? { status: 'applied', result: { charged: 'reconciled' } }
        : { status: 'not-applied' },
  });
  const reserve = defineTool({
    name: 'reserve_stock',
    description: 'Reserve stock for shipping',
    input: z.object({ sku: z.string() }),
    risk: 'write',
    idempotent: true,
    run: ({ sku }, ctx) => {
      // Honour the idempotency key: a repeat returns the first reservation.
      if (effectsFor(ledger, ctx.idempotencyKey) === 0) write(ctx.idempotencyKey, 'reserve', 1);
      crashOnce(ctx, 'after-reserve');
      return { reserved: sku };
    },
  });
  const notify = defineTool({
    name: 'send_notice',
    description: 'Send the shipping notice',
    input: z.object({ text: z.string() }),
    risk: 'customer-impacting',
    idempotent: false,
    run: (_args, ctx) => {
      crashOnce(ctx, 'before-notice');
      write(ctx.idempotencyKey, 'notice', 0);
      crashOnce(ctx, 'after-notice');
      return { sent: true };
    },
  });
  return workloadAgents({ charge, reserve, notify });
}

/** The policy: the next call follows from how many tool results the prompt holds. */
export function chaosModel(): ScriptedModel {
  return policyModel(({ prompt, tools }) => {
    const done = toolResults(prompt).length;
    if (tools.includes('delegate_to_shipping')) {
      const plan = [
        { toolName: 'check_account', input: { account: 'acct-1' } },
        { toolName: 'charge', input: { account: 'acct-1', amount: 42 } },
        { toolName: 'delegate_to_shipping', input: { task: 'Ship order', context: { sku: 'SKU-1' } } },
      ];
      const next = plan[done];
      return next ? { toolCalls: [next] } : { text: 'Charged and shipped.' };
    }
    const plan = [
      { toolName: 'reserve_stock', input: { sku: 'SKU-1' } },
      { toolName: 'send_notice', input: { text: 'Your order ships today' } },
    ];
    const next = plan[done];
    return next ? { toolCalls: [next] } : { text: 'Reserved and notified.' };
  });
}
