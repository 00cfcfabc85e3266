// Mastra: a supervisor Agent whose `agents` map holds the worker (Mastra's subagent pattern: the
// worker is exposed to the supervisor as the tool `agent-worker`, and its answer comes back as the
// tool result). The fake model implements the AI SDK LanguageModelV2 spec, the version Mastra's own
// model router returns. `mastra` keeps no state beyond the run; the durable variants (mastra-libsql,
// mastra-pg) pass a Memory on their storage to createMastra.
import { Agent } from '@mastra/core/agent';
import type { MastraMemory } from '@mastra/core/memory';
import { createTool } from '@mastra/core/tools';
import { z } from 'zod';
import {
  TOOL_NAMES,
  TOOL_SPECS,
  TRIAGE_INSTRUCTIONS,
  WORKER_DESCRIPTION,
  WORKER_INSTRUCTIONS,
  callTool,
  fromAiSdkPrompt,
  modelStep,
  nextCallId,
  type Harness,
} from '../workload.ts';

type CallOptions = {
  prompt: Parameters<typeof fromAiSdkPrompt>[0];
  tools?: { name: string }[];
};

type Content =
  { type: 'text'; text: string } | { type: 'tool-call'; toolCallId: string; toolName: string; input: string };

const usage = { inputTokens: 10, outputTokens: 10, totalTokens: 20 };

async function decide(
  options: CallOptions,
): Promise<{ content: Content[]; finishReason: 'stop' | 'tool-calls' }> {
  const shown = (options.tools ?? []).map((t) => t.name);
  const decision = await modelStep(shown, fromAiSdkPrompt(options.prompt));
  if (decision.kind === 'final')
    return { content: [{ type: 'text', text: decision.text }], finishReason: 'stop' };
  const toolName =
    decision.kind === 'handoff' ? (shown.find((n) => n.includes('worker')) ?? '') : decision.name;
  const input = decision.kind === 'handoff' ? { prompt: decision.task } : decision.args;
  return {
    content: [{ type: 'tool-call', toolCallId: nextCallId(), toolName, input: JSON.stringify(input) }],
    finishReason: 'tool-calls',
  };
}

/** The fake model: the shared policy behind the AI SDK LanguageModelV2 interface. */
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

/** What a durable variant supplies: the agents' memory, and how to release it after the last run. */
export interface Persistence {
  memory: MastraMemory;
  close(): Promise<void>;
}

/**
 * The supervisor and its worker, without memory or with one. With memory, every run is its own
 * thread (and resource), and `savePerStep` makes the agent write the thread's messages after each
 * step before the next one starts (by default Mastra saves them at the end of the call).
 */
export async function createMastra(persistence?: Persistence): Promise<Harness> {
  const tools = Object.fromEntries(
    TOOL_NAMES.map((name) => {
      const spec = TOOL_SPECS[name];
      return [
        name,
        createTool({
          id: name,
          description: spec.description,
          inputSchema: z.object(Object.fromEntries(Object.keys(spec.fields).map((f) => [f, z.string()]))),
          execute: async (args) => callTool(name, args as Record<string, string>),
        }),
      ];
    }),
  );
  const worker = new Agent({
    id: 'worker',
    name: 'worker',
    description: WORKER_DESCRIPTION,
    instructions: WORKER_INSTRUCTIONS,
    model: policyModel,
    tools,
    // No memory of its own: Mastra gives a subagent the supervisor's memory, on a thread of its own
    // per delegation. The subagent is called with its default options, so it saves per step too.
    ...(persistence && { defaultOptions: { savePerStep: true } }),
  });
  const triage = new Agent({
    id: 'triage',
    name: 'triage',
    instructions: TRIAGE_INSTRUCTIONS,
    model: policyModel,
    agents: { worker },
    ...(persistence && { memory: persistence.memory }),
  });
  let thread = 0;
  return {
    async run(input) {
      const n = ++thread;
      const result = await triage.generate(input, {
        maxSteps: 10,
        ...(persistence && { memory: { thread: `t${n}`, resource: `r${n}` }, savePerStep: true }),
      });
      return result.text;
    },
    async close() {
      await persistence?.close();
    },
  };
}

export const create = (): Promise<Harness> => createMastra();
