/**
 * The System facade: callers (gateway, replay, CLI, batches) see the configured agents and their
 * routing through `system.agents` and `system.routing`, never the engine.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineAgent } from '../../src/core/agent.ts';
import { scriptedModel } from '../../src/models/scripted.ts';
import { replayConfigOf } from '../../src/replay/replay.ts';
import { createMemoryStore } from '../../src/store/memory/store.ts';
import { createSystem, engineOf, type SystemOptions } from '../../src/system.ts';

const orders = defineAgent({
  name: 'orders',
  responsibility: 'Answer order questions',
  instructions: 'x',
  tools: [],
});
const billing = defineAgent({
  name: 'billing',
  responsibility: 'Refunds and invoices',
  instructions: 'x',
  tools: [],
});

const systemOf = (options: Partial<SystemOptions> = {}) =>
  createSystem({
    agents: [orders, billing],
    model: scriptedModel([{ text: 'ok' }]),
    store: createMemoryStore(),
    workers: false,
    onWarning: () => {},
    ...options,
  });

describe('System facade', () => {
  it('does not expose the engine; the internal accessor reaches the one behind it', () => {
    const system = systemOf();
    assert.equal('engine' in system, false);
    assert.ok(!Object.keys(system).includes('engine'));
    assert.equal(engineOf(system).agents, system.agents);
    assert.throws(() => engineOf({ ...system }), /not a system made by createSystem/);
  });

  it('lists the configured agents by name, at the version the configuration defines', () => {
    const system = systemOf();
    assert.deepEqual([...system.agents.keys()].sort(), ['billing', 'orders']);
    assert.equal(system.agents.get('orders')?.def.responsibility, 'Answer order questions');
  });

  it('shows the routing runs are routed with: a fitted router, a default agent, or neither', () => {
    const routed = systemOf().routing;
    assert.ok(routed.router, 'several agents and no default agent: a router is fitted');
    assert.equal(routed.defaultAgent, undefined);
    assert.deepEqual([...(routed.retrievers?.keys() ?? [])], []);

    const byDefault = systemOf({ defaultAgent: 'billing' }).routing;
    assert.equal(byDefault.router, undefined);
    assert.equal(byDefault.defaultAgent, 'billing');

    const none = systemOf({ router: false }).routing;
    assert.deepEqual(
      Object.keys(none).filter((k) => k !== 'retrievers'),
      [],
    );
  });

  it('gives replay the same agents and routing the system decides with', () => {
    const system = systemOf();
    const config = replayConfigOf(system);
    assert.equal(config.agents, system.agents);
    assert.equal(config.router, system.routing.router);
    assert.equal(config.defaultAgent, undefined);
  });
});
