// OpenAI Agents SDK, realistic workload: a triage Agent whose `handoffs` hold the three
// specialists and the front agent; billing consults orders through `orders.asTool()` (the SDK's
// agents-as-tools: the result comes back to billing). Both turns of a run share one MemorySession,
// the SDK's session memory, so turn 2 starts from turn 1's items.
import { Agent, MemorySession, Runner, Usage, tool } from '@openai/agents';
import type { Model, ModelRequest, ModelResponse } from '@openai/agents';
import { z } from 'zod';
import {
  AGENTS,
  TOOL_SPECS,
  TRIAGE_INSTRUCTIONS,
  TURN_1,
  agentToolName,
  callTool,
  modelStep,
  onProgress,
  type AgentName,
  type Harness,
} from '../realistic.ts';
import { nextCallId } from '../workload.ts';
import { textOf, toTranscript } from '../frameworks/openai-agents.ts';

export const limitations = [
  'no router: the triage agent picks the specialist with a model call (a handoff)',
  'no tool retrieval: every agent is shown all of its tools on every model call',
  'no progress milestones: a tool-start lifecycle hook (agent_tool_start) stands in',
  'no non-idempotent marker on tools: nothing stops a retried run from refunding twice',
  'MemorySession is in process memory: the session does not survive a restart',
];

/** The fake model: the realistic policy behind the SDK's Model port. */
class PolicyModel implements Model {
  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const shown = [
      ...request.tools.map((t) => ('name' in t ? String(t.name) : '')),
      ...request.handoffs.map((h) => h.toolName),
    ];
    const d = await modelStep(shown, toTranscript(request.input));
    const usage = new Usage({ requests: 1, inputTokens: 10, outputTokens: 10, totalTokens: 20 });
    if (d.kind === 'final')
      return {
        usage,
        output: [
          {
            type: 'message',
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_text', text: d.text }],
          },
        ],
      };
    const name = d.kind === 'call' ? d.name : agentToolName(shown, d.target);
    const args = d.kind === 'call' ? d.args : d.kind === 'delegate' ? { input: d.task } : {};
    return {
      usage,
      output: [
        {
          type: 'function_call',
          callId: nextCallId(),
          name,
          status: 'completed',
          arguments: JSON.stringify(args),
        },
      ],
    };
  }

  // eslint-disable-next-line require-yield
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error('streaming is not used by this benchmark');
  }
}

export async function create(): Promise<Harness> {
  const model = new PolicyModel();
  const toolsOf = (name: AgentName) =>
    AGENTS[name].tools.map((t) => {
      const spec = TOOL_SPECS[t];
      return tool({
        name: t,
        description: spec.description,
        parameters: z.object(Object.fromEntries(Object.keys(spec.fields).map((f) => [f, z.string()]))),
        execute: async (args) => callTool(t, args as Record<string, string>),
      });
    });
  const agent = (name: AgentName, extra: ReturnType<typeof toolsOf> = []) =>
    new Agent({
      name,
      instructions: AGENTS[name].instructions,
      handoffDescription: AGENTS[name].responsibility,
      model,
      tools: [...toolsOf(name), ...extra],
    });
  const orders = agent('orders');
  const billing = agent('billing', [
    orders.asTool({
      toolName: 'delegate_to_orders',
      toolDescription: AGENTS.orders.responsibility,
    }) as unknown as ReturnType<typeof toolsOf>[number],
  ]);
  const triage = Agent.create({
    name: 'triage',
    instructions: TRIAGE_INSTRUCTIONS,
    model,
    handoffs: [agent('front'), agent('account'), orders, billing],
  });
  // Tracing is off: its default exporter ships spans to OpenAI's API.
  const runner = new Runner({ tracingDisabled: true });
  runner.on('agent_tool_start', (_ctx, _agent, t) => {
    if (t.name === 'refund_charge') onProgress();
  });
  return {
    async run(input) {
      const session = new MemorySession();
      await runner.run(triage, TURN_1, { session });
      const result = await runner.run(triage, input, { session });
      return String(result.finalOutput);
    },
    async close() {},
  };
}
