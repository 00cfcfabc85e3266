import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineAgent } from '../../../src/core/agent.ts';
import { defineTool } from '../../../src/core/tool.ts';
import { agentTarget, createToolRetriever, toolTarget } from '../../../src/routing/index.ts';

const refund = defineTool({
  name: 'issueRefund',
  description: 'Give money back to a customer',
  risk: 'financial',
  input: z.object({
    orderId: z.string().describe('Order whose payment is returned'),
    amountCents: z.number(),
  }),
  examples: ['refund order 7'],
  run: () => ({ ok: true }),
});

void test('toolTarget indexes parameter names and descriptions from the zod schema', () => {
  const t = toolTarget(refund);
  assert.equal(t.name, 'issueRefund');
  assert.deepEqual(t.examples, ['refund order 7']);
  const params = JSON.stringify(t.parameters);
  assert.match(params, /orderId/);
  assert.match(params, /Order whose payment is returned/);
  const weather = toolTarget(
    defineTool({
      name: 'weather',
      description: 'Forecast for a city',
      risk: 'read',
      input: z.object({ city: z.string() }),
      run: () => 1,
    }),
  );
  const r = createToolRetriever([t, weather]).retrieve('which order payment should be returned', {
    permitted: new Set(['issueRefund', 'weather']),
  });
  assert.equal(r.candidates[0]?.name, 'issueRefund', 'parameter descriptions are searchable');
});

void test('agentTarget describes an agent by responsibility, instructions and examples', () => {
  const agent = defineAgent({
    name: 'billing',
    responsibility: 'Refunds and invoices',
    instructions: 'Be precise.',
    tools: [refund],
    examples: ['I was charged twice'],
  });
  const t = agentTarget(agent);
  assert.equal(t.name, 'billing');
  assert.match(t.description, /Refunds and invoices/);
  assert.match(t.description, /Be precise/);
  assert.deepEqual(t.examples, ['I was charged twice']);
});
