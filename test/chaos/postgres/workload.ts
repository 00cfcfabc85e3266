/**
 * The chaos workload: one billing agent whose `charge` tool is idempotent and records its effect in
 * the database, keyed by the idempotency key (one effect per key however often it is called), and
 * counts every call — so a run can show "N calls, 0 duplicate effects".
 */
import pg from 'pg';
import { z } from 'zod';
import { defineAgent } from '../../../src/core/agent.ts';
import { defineTool } from '../../../src/core/tool.ts';
import { policyModel, toolResults } from '../../../src/models/scripted.ts';
import { ident } from '../../../src/store/postgres/schema.ts';

export const effectsTable = (schema: string): string => `${ident(schema)}.chaos_effects`;

/** Create the effects ledger (idempotent). */
export async function createLedger(url: string, schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${effectsTable(schema)} (key text PRIMARY KEY, applied integer NOT NULL, calls integer NOT NULL)`,
    );
  } finally {
    await c.end();
  }
}

/** The agent and model of the workload; `pool` is where the tool records its effects. */
export function chaosAgents(pool: pg.Pool, schema: string, toolMs = 20) {
  const charge = defineTool({
    name: 'charge',
    description: 'Charge the customer an amount',
    input: z.object({ amount: z.number() }),
    risk: 'read',
    idempotent: true,
    run: async ({ amount }, ctx) => {
      await new Promise((r) => setTimeout(r, toolMs));
      // Honour the key: the first call applies the effect; a repeat only counts as a call.
      // The ledger write is retried across terminated connections, as a real payment client would.
      for (let attempt = 0; ; attempt++) {
        try {
          const { rows } = await pool.query<{ applied: number }>(
            `INSERT INTO ${effectsTable(schema)} (key, applied, calls) VALUES ($1, 1, 1)
             ON CONFLICT (key) DO UPDATE SET calls = ${effectsTable(schema)}.calls + 1 RETURNING applied`,
            [ctx.idempotencyKey],
          );
          return { charged: amount, applied: rows[0]?.applied ?? 0 };
        } catch (error) {
          if (attempt >= 20) throw error;
          await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
        }
      }
    },
  });
  const agent = defineAgent({
    name: 'billing',
    responsibility: 'Charges customers',
    instructions: 'Charge, then confirm.',
    tools: [charge],
  });
  const model = policyModel(({ prompt }) =>
    toolResults(prompt).length === 0
      ? { toolCalls: [{ toolName: 'charge', input: { amount: 5 } }] }
      : { text: 'Charged.' },
  );
  return { agents: [agent], model };
}
