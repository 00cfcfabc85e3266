/**
 * The PostgreSQL chaos workload, the same as the SQLite one (test/chaos/workload.ts): a desk agent
 * that retries a flaky check, charges (not idempotent, with reconcile) and delegates shipping to an
 * agent that reserves stock (idempotent) and sends a notice (not idempotent, no reconcile: an
 * in-doubt notice pauses the run for a person).
 *
 * Every execution of a tool is one row in a ledger in a schema of its own (`<schema>_ledger`), on
 * connections of its own, with no unique constraint: the downstream system, independent of the
 * journal. A row records the run and call it came from (the truth) and the key the tool used
 * (what the downstream deduplicates and reconciles on), and whether it took effect.
 *
 * Two switches, read only here and in the chaos driver, never by src/:
 * - `crashEvery` (deterministic crashes): run `s<i>` dies once at a chosen spot of one tool for
 *   i mod crashEvery in 1..5 — after the charge (→ reconcile finds it), before the charge (→
 *   reconcile finds nothing, the charge re-runs), after the reservation (→ in-doubt re-run), after
 *   the notice and before it (→ needs_attention; the operator resolves succeeded or retry).
 * - `breakIdempotency` (`SWITCHBOARD_CHAOS_BREAK_IDEMPOTENCY=1`): the tools use a fresh key per
 *   execution instead of `ctx.idempotencyKey`, as a client that ignores the key would. The
 *   downstream then cannot deduplicate or reconcile, and the chaos run must report duplicates.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod';
import type { AgentDefinition } from '../../../src/core/agent.ts';
import { defineTool, type ToolContext } from '../../../src/core/tool.ts';
import { ident } from '../../../src/store/postgres/schema.ts';
import { chosenToCrash, workloadAgents, type Spot } from '../workload.ts';

/** The environment switch that breaks the tools' idempotency key (test-only). */
export const BREAK_IDEMPOTENCY_ENV = 'SWITCHBOARD_CHAOS_BREAK_IDEMPOTENCY';

export const ledgerSchema = (schema: string): string => `${schema}_ledger`;
const table = (schema: string, name: string): string => `${ident(ledgerSchema(schema))}.${name}`;

/** Create the ledger schema and tables (idempotent). */
export async function createLedger(url: string, schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${ident(ledgerSchema(schema))}`);
    // No unique constraint on purpose: a second execution is a second row.
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${table(schema, 'executions')} (
         id bigserial PRIMARY KEY, run_id text NOT NULL, call_id text NOT NULL, key text NOT NULL,
         tool text NOT NULL, effect boolean NOT NULL, pid integer NOT NULL)`,
    );
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${table(schema, 'crashes')} (run_id text, call_id text, spot text, PRIMARY KEY (run_id, call_id, spot))`,
    );
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${table(schema, 'reconciles')} (id bigserial PRIMARY KEY, key text NOT NULL, found boolean NOT NULL)`,
    );
  } finally {
    await c.end();
  }
}

/** One (run, call) in the ledger: every execution, and how many took effect. */
export interface LedgerCall {
  runId: string;
  callId: string;
  tool: string;
  executions: number;
  effects: number;
}

/** The ledger per (run, call) — the truth the tools recorded, independent of any key they used. */
export async function ledgerCalls(pool: pg.Pool, schema: string): Promise<LedgerCall[]> {
  const { rows } = await pool.query<LedgerCall>(
    `SELECT run_id AS "runId", call_id AS "callId", min(tool) AS tool, count(*)::int AS executions,
            (count(*) FILTER (WHERE effect))::int AS effects
     FROM ${table(schema, 'executions')} GROUP BY run_id, call_id`,
  );
  return rows;
}

/** `reconcile` invocations (and how many found the effect) and deterministic crashes that fired. */
export async function ledgerCounts(
  pool: pg.Pool,
  schema: string,
): Promise<{ reconciles: number; reconcilesFound: number; crashes: number }> {
  const r = await pool.query<{ reconciles: number; found: number }>(
    `SELECT count(*)::int AS reconciles, (count(*) FILTER (WHERE found))::int AS found FROM ${table(schema, 'reconciles')}`,
  );
  const c = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table(schema, 'crashes')}`);
  return {
    reconciles: r.rows[0]?.reconciles ?? 0,
    reconcilesFound: r.rows[0]?.found ?? 0,
    crashes: c.rows[0]?.n ?? 0,
  };
}

/** Whether the downstream holds an effect for `key` (what an operator or `reconcile` checks). */
export async function effectFor(pool: pg.Pool, schema: string, key: string): Promise<boolean> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table(schema, 'executions')} WHERE key = $1 AND effect`,
    [key],
  );
  return (rows[0]?.n ?? 0) > 0;
}

export interface WorkloadOptions {
  /** Tool latency in ms (widens the window in which a kill leaves a call in doubt). */
  toolMs?: number;
  /** Crash once at one spot for sessions `s<i>` with i mod crashEvery in 1..5; 0 = never. */
  crashEvery?: number;
  breakIdempotency?: boolean;
}

/** The agents of the workload; `pool` (the ledger's own connections) is where tools record effects. */
export function chaosAgents(pool: pg.Pool, schema: string, opts: WorkloadOptions = {}): AgentDefinition[] {
  const toolMs = opts.toolMs ?? 20;
  const crashEvery = opts.crashEvery ?? 0;
  const executions = table(schema, 'executions');
  // The key the downstream sees: the run's own key, or (broken) a fresh one per execution.
  const keyOf = (ctx: ToolContext): string =>
    opts.breakIdempotency ? `${ctx.idempotencyKey}:${randomUUID()}` : ctx.idempotencyKey;
  const pause = (): Promise<void> => new Promise((r) => setTimeout(r, toolMs));

  /** Die like a power cut, once per (run, call, spot), when this session is chosen for `spot`. */
  const crashOnce = async (ctx: ToolContext, spot: Spot): Promise<void> => {
    if (!chosenToCrash(ctx, crashEvery, spot)) return;
    const { rowCount } = await pool.query(
      `INSERT INTO ${table(schema, 'crashes')} VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [ctx.runId, ctx.callId, spot],
    );
    if (rowCount) process.kill(process.pid, 'SIGKILL');
  };

  const record = async (ctx: ToolContext, key: string, tool: string, effect: boolean): Promise<void> => {
    await pool.query(
      `INSERT INTO ${executions} (run_id, call_id, key, tool, effect, pid) VALUES ($1, $2, $3, $4, $5, $6)`,
      [ctx.runId, ctx.callId, key, tool, effect, process.pid],
    );
  };

  const charge = defineTool({
    name: 'charge',
    description: 'Charge the account',
    input: z.object({ account: z.string(), amount: z.number().int() }),
    risk: 'financial',
    idempotent: false,
    progress: 'Charging the account',
    run: async ({ amount }, ctx) => {
      await crashOnce(ctx, 'before-charge');
      await pause();
      await record(ctx, keyOf(ctx), 'charge', true);
      await crashOnce(ctx, 'after-charge');
      return { charged: amount };
    },
    reconcile: async (key) => {
      const lookup = opts.breakIdempotency ? `${key}:${randomUUID()}` : key;
      const found = await effectFor(pool, schema, lookup);
      await pool.query(`INSERT INTO ${table(schema, 'reconciles')} (key, found) VALUES ($1, $2)`, [
        key,
        found,
      ]);
      return found ? { status: 'applied', result: { charged: 'reconciled' } } : { status: 'not-applied' };
    },
  });
  const reserve = defineTool({
    name: 'reserve_stock',
    description: 'Reserve stock for shipping',
    input: z.object({ sku: z.string() }),
    risk: 'write',
    idempotent: true,
    run: async ({ sku }, ctx) => {
      await pause();
      const key = keyOf(ctx);
      // Honour the key: a repeat is recorded as an execution without effect. The advisory lock
      // makes check-and-insert atomic should two holders of one call ever run it at once.
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
        const { rows } = await c.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${executions} WHERE key = $1 AND effect`,
          [key],
        );
        await c.query(
          `INSERT INTO ${executions} (run_id, call_id, key, tool, effect, pid) VALUES ($1, $2, $3, $4, $5, $6)`,
          [ctx.runId, ctx.callId, key, 'reserve', (rows[0]?.n ?? 0) === 0, process.pid],
        );
        await c.query('COMMIT');
      } catch (error) {
        await c.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        c.release();
      }
      await crashOnce(ctx, 'after-reserve');
      return { reserved: sku };
    },
  });
  const notify = defineTool({
    name: 'send_notice',
    description: 'Send the shipping notice',
    input: z.object({ text: z.string() }),
    risk: 'customer-impacting',
    idempotent: false,
    run: async (_args, ctx) => {
      await crashOnce(ctx, 'before-notice');
      await pause();
      await record(ctx, keyOf(ctx), 'notice', true);
      await crashOnce(ctx, 'after-notice');
      return { sent: true };
    },
  });
  return workloadAgents({ charge, reserve, notify });
}
