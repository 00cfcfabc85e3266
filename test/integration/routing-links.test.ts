/**
 * Issue 21, through a running system on real SQLite: schema-linked tools and co-usage priors
 * reach the model's tool list, and the journal's `tools.retrieved` says why each was added.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { defineTool } from '../../src/core/tool.ts';
import { policyModel, toolResults } from '../../src/models/scripted.ts';
import { completedRunTools, createToolRetriever, learnCoUsage, toolTarget } from '../../src/routing/index.ts';
import { describeEvent } from '../../src/cli/trace.ts';
import type { JournalEvent } from '../../src/core/events.ts';
import { createSystem } from '../../src/system.ts';
import { ADAPTERS, journal, ofType, startSystem } from '../helpers.ts';

const read = (name: string, description: string, input: z.ZodType = z.object({})) =>
  defineTool({ name, description, input, risk: 'read', idempotent: true, run: () => ({ ok: true }) });

const tools = [
  read(
    'modify_order_address',
    'Change the shipping address of an order that has not shipped yet.',
    z.object({
      orderId: z
        .string()
        .regex(/^ORD-\d{5}$/)
        .describe('Order id, e.g. ORD-10042'),
      address: z.string().describe('New street address'),
    }),
  ),
  read(
    'list_orders',
    "List a customer's recent orders with their ids, items and status.",
    z.object({ customerId: z.string().describe('Customer id (CUS-0042)') }),
  ),
  read('get_weather', 'Current weather conditions for a city.'),
  read('send_sms', 'Send a text message to a phone number.'),
  read('book_table', 'Reserve a table at a restaurant.'),
  read('translate', 'Translate text between languages.'),
];

const agent = defineAgent({
  name: 'desk',
  responsibility: 'Customer desk',
  instructions: 'Help the customer.',
  tools,
  toolRetrieval: { enabled: true, topK: 2, pinned: [] },
});

/** Calls the first tool it is shown once, then answers: what a run did is what the journal says. */
const model = policyModel(({ prompt, tools: shown }) =>
  toolResults(prompt).length === 0 && shown[0]
    ? { toolCalls: [{ toolName: shown[0], input: {} }] }
    : { text: 'done' },
);

/** Looks up the weather, then texts it: runs whose journal teaches that the two go together. */
const companion = policyModel(({ prompt }) => {
  const done = toolResults(prompt).length;
  if (done === 0) return { toolCalls: [{ toolName: 'get_weather', input: {} }] };
  if (done === 1) return { toolCalls: [{ toolName: 'send_sms', input: {} }] };
  return { text: 'sent' };
});

void test('schema links: the default retriever shows the producer of a missing order id and journals why', async () => {
  const { system, close } = await startSystem('sqlite', { agents: [agent], model });
  try {
    const { runId } = await system.submit({
      actorId: 'u',
      sessionId: 's',
      input: 'I want to change the shipping address of my last order to 12 Elm Street',
      agent: 'desk',
    });
    await system.wait(runId);
    const retrieved = ofType(await journal(system, runId), 'tools.retrieved')[0];
    assert.deepEqual(retrieved?.data.shown, ['modify_order_address', 'list_orders']);
    const link = retrieved?.data.linked?.find((l) => l.name === 'list_orders');
    assert.deepEqual(
      { via: link?.via, from: link?.from, argument: link?.argument },
      { via: 'schema', from: 'modify_order_address', argument: 'orderId' },
    );
    // `switchboard trace` says why the tool is there.
    const traced = describeEvent(ofType(await journal(system, runId), 'tools.retrieved')[0] as JournalEvent);
    assert.match(traced, /\n {4}linked list_orders ← modify_order_address \(schema orderId, \d\.\d\d\)/);
  } finally {
    await close();
  }
});

void test('co-usage priors learned from completed runs in the journal pull in the usual companion', async () => {
  // Runs that looked up the weather and then texted it: the journal is the training data.
  const everything = { ...agent, toolRetrieval: undefined };
  const first = await startSystem('sqlite', { agents: [everything], model: companion });
  const events = [];
  try {
    for (const i of [1, 2, 3]) {
      const { runId } = await first.system.submit({
        actorId: 'u',
        sessionId: `s${i}`,
        input: 'weather',
        agent: 'desk',
      });
      assert.equal((await first.system.wait(runId)).status, 'completed');
      events.push(...(await journal(first.system, runId)));
    }
  } finally {
    await first.close();
  }
  const priors = learnCoUsage(completedRunTools(events));
  assert.equal(priors.get_weather?.send_sms, 1);
  const retriever = createToolRetriever(tools.map(toolTarget), { coUsage: priors });
  const second = await startSystem('sqlite', {
    agents: [agent],
    model,
    retrievers: new Map([['desk', retriever]]),
  });
  try {
    const { runId } = await second.system.submit({
      actorId: 'u',
      sessionId: 's',
      input: 'What is the weather in Lisbon today?',
      agent: 'desk',
    });
    await second.system.wait(runId);
    const retrieved = ofType(await journal(second.system, runId), 'tools.retrieved')[0];
    assert.deepEqual(retrieved?.data.shown, ['get_weather', 'send_sms']);
    const link = retrieved?.data.linked?.find((l) => l.name === 'send_sms');
    assert.deepEqual({ via: link?.via, from: link?.from }, { via: 'co-usage', from: 'get_weather' });
  } finally {
    await second.close();
  }
});

for (const adapter of ADAPTERS) {
  void test(`routing.coUsage: a system learns the priors from its own journal at start (${adapter})`, async () => {
    // The training runs: an agent that sees every tool looks up the weather, then texts it.
    const trainer = { ...agent, name: 'trainer', toolRetrieval: undefined };
    const first = await startSystem(adapter, {
      agents: [trainer, agent],
      model: companion,
      defaultAgent: 'desk',
    });
    const second = (coUsage: boolean) =>
      createSystem({
        store: first.store,
        agents: [trainer, agent],
        model,
        defaultAgent: 'desk',
        pollMs: 50,
        onError: () => {},
        onWarning: () => {},
        ...(coUsage ? { coUsage: { refreshMs: 60_000 } } : {}),
      });
    const ask = async (system: ReturnType<typeof createSystem>, session: string) => {
      const { runId } = await system.submit({
        actorId: 'u',
        sessionId: session,
        input: 'What is the weather in Lisbon today?',
        agent: 'desk',
      });
      await system.wait(runId);
      return ofType(await journal(system, runId), 'tools.retrieved')[0]?.data;
    };
    try {
      for (const i of [1, 2, 3]) {
        const { runId } = await first.system.submit({
          actorId: 'u',
          sessionId: `t${i}`,
          input: 'weather',
          agent: 'trainer',
        });
        assert.equal((await first.system.wait(runId)).status, 'completed');
      }
      await first.system.stop();
      const off = second(false);
      await off.start();
      const without = await ask(off, 'a');
      await off.stop();
      assert.ok(!without?.linked?.some((l) => l.via === 'co-usage'), 'off by default');
      assert.notDeepEqual(without?.shown, ['get_weather', 'send_sms']);
      const on = second(true);
      await on.start();
      const learned = await ask(on, 'b');
      await on.stop();
      assert.deepEqual(learned?.shown, ['get_weather', 'send_sms']);
      const link = learned?.linked?.find((l) => l.name === 'send_sms');
      assert.deepEqual({ via: link?.via, from: link?.from }, { via: 'co-usage', from: 'get_weather' });
    } finally {
      await first.close();
    }
  });
}
