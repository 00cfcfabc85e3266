// Mastra, realistic workload: a supervisor Agent whose `agents` map holds the front agent and the
// three specialists (each exposed as the tool `agent-<name>`), and billing's own `agents` map holds
// orders (its answer comes back to billing). Memory: the supervisor has a Memory on Mastra's
// InMemoryStore, and both turns of a run share one thread, so turn 2 is given turn 1's messages.
// The refund tool writes its progress milestone to the tool stream (`context.writer`).
import { Agent } from '@mastra/core/agent';
import { InMemoryStore } from '@mastra/core/storage';
import { createTool } from '@mastra/core/tools';
import { Memory } from '@mastra/memory';
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
import { fromAiSdkPrompt, nextCallId } from '../workload.ts';

export const limitations = [
  'no router: the supervisor picks the specialist with a model call (an agent-<name> tool)',
  'no tool retrieval: every agent is shown all of its tools on every model call',
  'no progress milestones: a tool-stream write (context.writer) stands in',
  'no non-idempotent marker on tools: nothing stops a retried run from refunding twice',
  'InMemoryStore keeps the thread in process memory (durable with LibSQLStore or PostgresStore)',
];

type CallOptions = { prompt: Parameters<typeof fromAiSdkPrompt>[0]; tools?: { name: string }[] };
type Content =
  { type: 'text'; text: string } | { type: 'tool-call'; toolCallId: string; toolName: string; input: string };
const usage = { inputTokens: 10, outputTokens: 10, totalTokens: 20 };

async function decide(
  options: CallOptions,
): Promise<{ content: Content[]; finishReason: 'stop' | 'tool-calls' }> {
  const shown = (options.tools ?? []).map((t) => t.name);
  const d = await modelStep(shown, fromAiSdkPrompt(options.prompt));
  if (d.kind === 'final') return { content: [{ type: 'text', text: d.text }], finishReason: 'stop' };
  const toolName = d.kind === 'call' ? d.name : agentToolName(shown, d.target);
  const input = d.kind === 'call' ? d.args : { prompt: d.task };
  return {
    content: [{ type: 'tool-call', toolCallId: nextCallId(), toolName, input: JSON.stringify(input) }],
    finishReason: 'tool-calls',
  };
}

/** The fake model: the realistic policy behind the AI SDK LanguageModelV2 interface. */
const policyModel = {
  specificationVersion: 'v2' as const,
  provider: 'bench',
  modelId: 'policy',
  supportedUrls: {},
  async doGenerate(options: CallOptions) {
    const { content, finishReason } = await decide(options);
    return { content, finishReason, usage, warnings: [] };
  },
  async doStream(options: CallOptions) {
    const { content, finishReason } = await decide(options);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue({ type: 'stream-start', warnings: [] });
        controller.enqueue({
          type: 'response-metadata',
          id: nextCallId(),
          modelId: 'policy',
          timestamp: new Date(),
        });
        for (const part of content) {
          if (part.type === 'text') {
            controller.enqueue({ type: 'text-start', id: 't' });
            controller.enqueue({ type: 'text-delta', id: 't', delta: part.text });
            controller.enqueue({ type: 'text-end', id: 't' });
          } else controller.enqueue(part);
        }
        controller.enqueue({ type: 'finish', finishReason, usage });
        controller.close();
      },
    });
    return { stream };
  },
};

export async function create(): Promise<Harness> {
  const toolsOf = (name: AgentName) =>
    Object.fromEntries(
      AGENTS[name].tools.map((t) => {
        const spec = TOOL_SPECS[t];
        const progress = spec.progress;
        return [
          t,
          createTool({
            id: t,
            description: spec.description,
            inputSchema: z.object(Object.fromEntries(Object.keys(spec.fields).map((f) => [f, z.string()]))),
            execute: async (args, context) => {
              if (progress) {
                onProgress();
                await context?.writer?.custom({ type: 'data-progress', data: { message: progress } });
              }
              return callTool(t, args as Record<string, string>);
            },
          }),
        ];
      }),
    );
  const agent = (name: AgentName, agents: Record<string, Agent> = {}) =>
    new Agent({
      id: name,
      name,
      description: AGENTS[name].responsibility,
      instructions: AGENTS[name].instructions,
      model: policyModel,
      tools: toolsOf(name),
      agents,
    });
  const orders = agent('orders');
  const triage = new Agent({
    id: 'triage',
    name: 'triage',
    instructions: TRIAGE_INSTRUCTIONS,
    model: policyModel,
    agents: {
      front: agent('front'),
      account: agent('account'),
      orders,
      billing: agent('billing', { orders }),
    },
    memory: new Memory({ storage: new InMemoryStore(), options: { lastMessages: 10 } }),
  });
  let session = 0;
  return {
    async run(input) {
      const n = ++session;
      const memory = { thread: `t${n}`, resource: `r${n}` };
      await triage.generate(TURN_1, { maxSteps: 10, memory });
      const result = await triage.generate(input, { maxSteps: 10, memory });
      return result.text;
    },
    async close() {},
  };
}
