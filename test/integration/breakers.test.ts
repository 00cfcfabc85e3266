import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { ToolError } from '../../src/core/errors.ts';
import { defineTool } from '../../src/core/tool.ts';
import { scriptedModel } from '../../src/models/scripted.ts';
import { CircuitBreakers } from '../../src/runtime/breakers.ts';
import { agentHealth } from '../../src/telemetry/health.ts';
import { ADAPTERS, journal, ofType, startSystem } from '../helpers.ts';

describe('circuit breaker', () => {
  it('opens after the threshold, fails fast while open, probes once, closes on success', () => {
    const b = new CircuitBreakers({ threshold: 2, cooldownMs: 100 });
    assert.equal(b.record('t', false, 0), undefined);
    assert.deepEqual(b.record('t', false, 1), { state: 'open', failures: 2, until: 101 });
    assert.deepEqual(b.admit('t', 50), { allowed: false, until: 101 });
    assert.deepEqual(b.admit('t', 101), { allowed: true, change: { state: 'half-open', failures: 2 } });
    assert.equal(b.admit('t', 102).allowed, false, 'one probe at a time');
    assert.deepEqual(b.record('t', true, 103), { state: 'closed', failures: 0 });
    assert.deepEqual(b.admit('t', 104), { allowed: true });
  });
});

for (const adapter of ADAPTERS) {
  describe(`circuit breakers on ${adapter}`, () => {
    it('a failing tool trips its breaker: calls fail fast (journaled, no effect) and health shows it', async () => {
      let effects = 0;
      const carrier = defineTool({
        name: 'carrier_lookup',
        description: 'Ask the carrier',
        input: z.object({}),
        risk: 'read',
        idempotent: true,
        retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 },
        run: () => {
          effects++;
          throw new ToolError('carrier API is down');
        },
      });
      const agent = defineAgent({
        name: 'ops',
        responsibility: 'Shipping',
        instructions: 'x',
        tools: [carrier],
      });
      const model = scriptedModel([
        { toolCalls: [{ toolName: 'carrier_lookup', input: {} }] },
        { text: 'The carrier is down.' },
      ]);
      const { system, close } = await startSystem(adapter, {
        agents: [agent],
        model,
        breaker: { threshold: 2, cooldownMs: 60_000 },
      });
      try {
        const { runId } = await system.submit({ actorId: 'u', sessionId: 's', input: 'where is my parcel' });
        assert.equal((await system.wait(runId)).status, 'completed');
        const events = await journal(system, runId);
        assert.equal(effects, 2, 'two real attempts, then the breaker refused the rest');
        assert.equal(ofType(events, 'tool.started').length, 2);
        const failed = ofType(events, 'tool.failed');
        assert.equal(failed.length, 3);
        assert.equal(failed[2]?.data.error.code, 'circuit_open');
        assert.notEqual(failed[0]?.data.error.code, 'circuit_open');
        assert.equal(failed.at(-1)?.data.nextAttemptAt, undefined, 'the last attempt is final');
        assert.deepEqual(
          ofType(events, 'breaker.changed').map((e) => e.data.state),
          ['open'],
        );
        const [health] = await agentHealth(system.store, {
          agents: ['ops'],
          windowMs: 3_600_000,
          now: system.store.now(),
        });
        assert.deepEqual(health?.openBreakers, ['carrier_lookup']);
        assert.equal(health?.status, 'degraded');
        assert.ok(health?.reasons.includes('circuit breaker open: carrier_lookup'));
      } finally {
        await close();
      }
    });
  });
}
