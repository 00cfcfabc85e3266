/**
 * Issue 17 (hardening), engine items: admission of built-in tools, poison runs and budgets,
 * memory settings. Real stores (SQLite and PostgreSQL), the real engine and workers.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { ToolError } from '../../src/core/errors.ts';
import { defineTool } from '../../src/core/tool.ts';
import { policyModel, toolResults } from '../../src/models/scripted.ts';
import type { FaultPoint, Faults } from '../../src/runtime/faults.ts';
import { createSystem, type SystemOptions } from '../../src/system.ts';
import { journal, ofType, requirePostgres, startSystem, type Adapter } from '../helpers.ts';

const STORES: readonly Adapter[] = ['sqlite', 'postgres'];
// Without PostgreSQL its variants are one visible skip locally, a failure in CI (test/helpers.ts).
const postgres = await requirePostgres();

/** Agent `a` delegates to `b`, whose write tool records every execution in an independent ledger. */
function delegationSetup() {
  const effects: string[] = [];
  const ship = defineTool({
    name: 'ship',
    description: 'Ship the parcel',
    input: z.object({ parcel: z.string() }),
    risk: 'write',
    run: ({ parcel }) => {
      effects.push(parcel);
      return { shipped: parcel };
    },
  });
  const a = defineAgent({
    name: 'a',
    responsibility: 'Front desk',
    instructions: 'Delegate shipping to b; escalate what you cannot do.',
    tools: [],
    delegates: ['b'],
    escalation: true,
  });
  const b = defineAgent({ name: 'b', responsibility: 'Shipping', instructions: 'Ship.', tools: [ship] });
  const model = policyModel(({ prompt, tools }) => {
    const results = toolResults(prompt);
    if (tools.includes('ship'))
      return results.length
        ? { text: 'Shipped.' }
        : { toolCalls: [{ toolName: 'ship', input: { parcel: 'P-1' } }] };
    if (results.length === 0)
      return { toolCalls: [{ toolName: 'delegate_to_b', input: { task: 'ship parcel P-1' } }] };
    return { text: 'Done.' };
  });
  return { agents: [a, b], model, effects };
}

for (const adapter of STORES) {
  describe(`hardening (engine) on ${adapter}`, { skip: adapter === 'postgres' && !postgres }, () => {
    for (const [label, rule] of [
      ['a policy denying delegate_to_b', { tool: 'delegate_to_b' }],
      ['a policy denying everything for agent a', { agent: 'a' }],
    ] as const) {
      it(`hardening #2: ${label} prevents the delegation; the child never runs`, async () => {
        const { agents, model, effects } = delegationSetup();
        const { system, close } = await startSystem(adapter, {
          agents,
          model,
          defaultAgent: 'a',
          policies: [{ id: 'deny-it', effect: 'deny', reason: 'not allowed here', match: rule }],
        });
        try {
          const { runId } = await system.submit({
            actorId: 'u',
            sessionId: 's',
            input: 'ship it',
            agent: 'a',
          });
          const run = await system.wait(runId);
          assert.equal(run.status, 'completed');
          const events = await journal(system, runId);
          const denied = ofType(events, 'tool.denied');
          assert.deepEqual(
            denied.map((e) => [e.data.tool, e.data.reason]),
            [['delegate_to_b', 'policy-denied']],
          );
          assert.equal(ofType(events, 'delegation.requested').length, 0);
          assert.equal((await system.list({ parentRunId: runId })).length, 0);
          assert.equal((await system.list({})).length, 1, 'no child run exists');
          assert.deepEqual(effects, [], 'the child tool never ran');
        } finally {
          await close();
        }
      });
    }

    it('hardening #2: a deny rule for agent a also stops escalate_to_human; without it, a delegates', async () => {
      const { agents, model, effects } = delegationSetup();
      const escalating = policyModel(({ prompt, tools }) =>
        tools.includes('escalate_to_human') && toolResults(prompt).length === 0
          ? { toolCalls: [{ toolName: 'escalate_to_human', input: { summary: 's', reason: 'r' } }] }
          : { text: 'Done.' },
      );
      const denied = await startSystem(adapter, {
        agents,
        model: escalating,
        defaultAgent: 'a',
        policies: [{ id: 'lock-a', effect: 'deny', match: { agent: 'a' } }],
      });
      try {
        const { runId } = await denied.system.submit({
          actorId: 'u',
          sessionId: 's',
          input: 'x',
          agent: 'a',
        });
        const run = await denied.system.wait(runId);
        assert.equal(run.status, 'completed', 'not escalated');
        const events = await journal(denied.system, runId);
        assert.equal(ofType(events, 'run.escalated').length, 0);
        assert.equal(ofType(events, 'tool.denied')[0]?.data.reason, 'policy-denied');
      } finally {
        await denied.close();
      }
      // The control: with no policy the same script delegates and the child's tool runs once.
      const open = await startSystem(adapter, { agents, model, defaultAgent: 'a' });
      try {
        const { runId } = await open.system.submit({ actorId: 'u', sessionId: 's', input: 'x', agent: 'a' });
        assert.equal((await open.system.wait(runId)).status, 'completed');
        assert.equal((await open.system.list({ parentRunId: runId })).length, 1);
        assert.deepEqual(effects, ['P-1']);
      } finally {
        await open.close();
      }
    });
  });
}

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const LIBRARY = fileURLToPath(new URL('../fixtures/projects/library/switchboard.config.ts', import.meta.url));

/** A fault point that throws every time it is reached: advancing fails the same way on every claim. */
const failingAt = (point: FaultPoint): Faults => ({
  hit: (p) => {
    if (p === point) throw new Error('injected: the outcome commit is refused');
  },
});

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string }> {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('SWITCHBOARD_') && k !== 'NODE_TEST_CONTEXT') clean[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...clean, ...env } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

/** One agent with one write tool whose every execution lands in `effects`. */
function chargeSetup(tool: { idempotent?: boolean; fail?: boolean; requiresApproval?: () => never } = {}) {
  const effects: string[] = [];
  const charge = defineTool({
    name: 'charge',
    description: 'Charge the card',
    input: z.object({ cents: z.number() }),
    risk: 'write',
    idempotent: tool.idempotent ?? true,
    retry: { maxAttempts: 5, initialDelayMs: 1, maxDelayMs: 2 },
    ...(tool.requiresApproval ? { requiresApproval: tool.requiresApproval } : {}),
    run: (_args, ctx) => {
      effects.push(ctx.idempotencyKey);
      if (tool.fail) throw new ToolError('card network down', { retryable: true });
      return { charged: true };
    },
  });
  const agent = defineAgent({
    name: 'billing',
    responsibility: 'Charges',
    instructions: 'Charge.',
    tools: [charge],
  });
  const model = policyModel(({ prompt }) =>
    toolResults(prompt).length
      ? { text: 'Charged.' }
      : { toolCalls: [{ toolName: 'charge', input: { cents: 500 } }] },
  );
  return { agents: [agent], model, effects };
}

for (const adapter of STORES) {
  describe(
    `hardening #1 (poison runs, budgets) on ${adapter}`,
    { timeout: 60_000, skip: adapter === 'postgres' && !postgres },
    () => {
      async function withSystem(
        options: Omit<SystemOptions, 'store'>,
        fn: (system: ReturnType<typeof createSystem>, env: Record<string, string>) => Promise<void>,
      ): Promise<void> {
        const { system, env, close } = await startSystem(adapter, { pollMs: 20, ...options });
        try {
          await fn(system, env);
        } finally {
          await close();
        }
      }

      it('hardening #1: a run whose advancing fails the same way K times goes to needs_attention, never loops', async () => {
        const { agents, model, effects } = chargeSetup();
        await withSystem(
          { agents, model, faults: failingAt('afterToolBeforeJournal'), poisonAttempts: 3 },
          async (system, env) => {
            const { runId } = await system.submit({ actorId: 'u', sessionId: 's', input: 'charge $5' });
            const run = await system.wait(runId, { untilAttention: true });
            assert.equal(run.status, 'needs_attention');
            assert.equal(run.attention?.tool, 'charge');
            const events = await journal(system, runId);
            const [attention, ...more] = ofType(events, 'run.needs_attention');
            assert.equal(more.length, 0);
            assert.equal(attention?.data.error?.message, 'injected: the outcome commit is refused');
            assert.match(attention?.data.reason ?? '', /failed 3 times in a row/);
            // The first execution and two in-doubt re-runs, then no more: the wake-up is gone.
            assert.equal(effects.length, 3);
            assert.equal(ofType(events, 'tool.started').length, 3);
            assert.equal((await system.store.queue.pendingRunIds()).has(runId), false);
            const listed = await system.list({ status: 'needs_attention' });
            assert.deepEqual(
              listed.map((r) => r.runId),
              [runId],
            );
            const out = await cli(
              ['runs', '--status', 'needs_attention', '--json', '--config', LIBRARY],
              env,
            );
            assert.equal(out.code, 0);
            const rows = JSON.parse(out.stdout) as { runId: string; status: string }[];
            assert.deepEqual(
              rows.map((r) => [r.runId, r.status]),
              [[runId, 'needs_attention']],
            );
          },
        );
      });

      it('hardening #1: a poison run with nothing in doubt fails with the error journaled', async () => {
        const { agents, model, effects } = chargeSetup({
          requiresApproval: () => {
            throw new Error('approval rule crashed');
          },
        });
        await withSystem({ agents, model, poisonAttempts: 2 }, async (system) => {
          const { runId } = await system.submit({ actorId: 'u', sessionId: 's', input: 'charge $5' });
          const run = await system.wait(runId);
          assert.equal(run.status, 'failed');
          assert.match(run.error?.message ?? '', /failed 2 times in a row .*approval rule crashed/);
          assert.equal(effects.length, 0);
          assert.equal((await system.store.queue.pendingRunIds()).has(runId), false);
          // The session's next run is not blocked behind the poisoned one.
          const next = await system.submit({ actorId: 'u', sessionId: 's', input: 'again' });
          assert.equal((await system.wait(next.runId)).status, 'failed');
        });
      });

      it('hardening #1: budgets count recovery re-runs: an in-doubt tool never runs past maxToolCalls', async () => {
        const { agents, model, effects } = chargeSetup();
        await withSystem(
          {
            agents,
            model,
            faults: failingAt('afterToolBeforeJournal'),
            poisonAttempts: 50,
            budget: { maxToolCalls: 2 },
          },
          async (system) => {
            const { runId } = await system.submit({ actorId: 'u', sessionId: 's', input: 'charge $5' });
            const run = await system.wait(runId, { untilAttention: true });
            assert.equal(run.status, 'needs_attention');
            assert.match(run.attention?.reason ?? '', /maxToolCalls 2, used 2/);
            assert.equal(effects.length, 2);
            assert.equal(run.totals.toolCalls, 2);
          },
        );
      });

      it('hardening #1: budgets count retries: a failing tool is retried only up to maxToolCalls', async () => {
        const { agents, model, effects } = chargeSetup({ fail: true });
        await withSystem({ agents, model, budget: { maxToolCalls: 2 } }, async (system) => {
          const { runId } = await system.submit({ actorId: 'u', sessionId: 's', input: 'charge $5' });
          const run = await system.wait(runId);
          assert.equal(run.status, 'failed');
          assert.equal(run.error?.code, 'budget_exceeded');
          assert.equal(effects.length, 2);
        });
      });
    },
  );
}

for (const adapter of STORES) {
  describe(
    `hardening #21 (memory settings) on ${adapter}`,
    { skip: adapter === 'postgres' && !postgres },
    () => {
      it('hardening #21: an agent with memory.enabled false persists nothing; an agent’s own k is used', async () => {
        // An independent ledger of every onMessage call, with the window it was given.
        const persisted: { runId: string; agent: string; k: number }[] = [];
        const off = defineAgent({
          name: 'private',
          responsibility: 'Private matters',
          instructions: 'x',
          tools: [],
          memory: { enabled: false },
        });
        const on = defineAgent({
          name: 'chat',
          responsibility: 'Chat',
          instructions: 'x',
          tools: [],
          memory: { k: 1 },
        });
        const model = policyModel(() => ({ text: 'ok' }));
        const { system, close } = await startSystem(adapter, {
          agents: [off, on],
          model,
          defaultAgent: 'chat',
          memory: {
            k: 5,
            hooks: {
              onMessage: async (ctx) => {
                persisted.push({ runId: ctx.runId, agent: ctx.agent, k: ctx.k });
              },
            },
          },
        });
        try {
          const say = async (input: string, agent: string): Promise<string> => {
            const { runId } = await system.submit({ actorId: 'a', sessionId: 's', input, agent });
            assert.equal((await system.wait(runId)).status, 'completed');
            return runId;
          };
          const secret = await say('PRIVATE-CANARY', 'private');
          const first = await say('FIRST-CHAT', 'chat');
          await say('SECOND-CHAT', 'chat');
          const last = await say('THIRD-CHAT', 'chat');
          assert.equal(ofType(await journal(system, secret), 'memory.persisted').length, 0);
          assert.equal(
            persisted.some((p) => p.runId === secret),
            false,
            'no hook call for the private run',
          );
          assert.deepEqual(
            [...new Set(persisted.map((p) => `${p.agent}:${p.k}`))],
            ['chat:1'],
            'persisting uses the agent’s k, not the system’s 5',
          );
          const loaded = ofType(await journal(system, last), 'memory.loaded')[0]?.data;
          assert.equal(loaded?.k, 1);
          assert.deepEqual(
            loaded?.context?.turns.map((t) => t.text),
            ['SECOND-CHAT', 'ok'],
          );
          // The private run is not replayed to the next agent of the session either.
          const afterSecret = ofType(await journal(system, first), 'memory.loaded')[0]?.data;
          assert.deepEqual(afterSecret?.context?.turns, []);
        } finally {
          await close();
        }
      });
    },
  );
}
