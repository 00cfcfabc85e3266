// LangGraph.js, realistic workload: the supervisor from @langchain/langgraph-supervisor over four
// prebuilt ReAct agents (front, account, orders, billing); billing consults orders through a tool
// that invokes an orders agent (the answer comes back to billing). Both turns of a run share one
// thread of a MemorySaver checkpointer, LangGraph's short-term memory: turn 2 starts from turn 1's
// messages. The refund tool dispatches a custom event as its progress milestone.
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { BaseChatModelParams } from '@langchain/core/language_models/chat_models';
import { dispatchCustomEvent } from '@langchain/core/callbacks/dispatch';
import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import { MemorySaver } from '@langchain/langgraph';
import { createReactAgent } from '@langchain/langgraph/prebuilt';
import { createSupervisor } from '@langchain/langgraph-supervisor';
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
import { nextCallId, stats } from '../workload.ts';
import { textOf, toTranscript } from '../frameworks/langgraph.ts';

export const limitations = [
  'no router: the supervisor picks the specialist with a model call (a handoff tool)',
  'no tool retrieval in LangGraph itself (langgraph-bigtool is a separate package): every agent is shown all of its tools',
  'no progress milestones: a custom callback event (dispatchCustomEvent) stands in',
  'no non-idempotent marker on tools: nothing stops a resumed thread from refunding twice',
  'MemorySaver keeps the thread in process memory (durable only with a SQLite or PostgreSQL checkpointer)',
];

/** The fake chat model: the realistic policy behind LangChain's BaseChatModel. */
class PolicyChatModel extends BaseChatModel {
  toolNames: string[] = [];

  constructor(params: BaseChatModelParams = {}) {
    super(params);
  }

  _llmType(): string {
    return 'policy';
  }

  override bindTools(tools: StructuredToolInterface[]) {
    const next = new PolicyChatModel();
    next.toolNames = tools.map((t) => t.name);
    return next.withConfig({
      tools: tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description } })),
    } as Record<string, unknown>);
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const d = await modelStep(this.toolNames, toTranscript(messages));
    const usage_metadata = { input_tokens: 10, output_tokens: 10, total_tokens: 20 };
    let message: AIMessage;
    if (d.kind === 'final') message = new AIMessage({ content: d.text, usage_metadata });
    else {
      const name = d.kind === 'call' ? d.name : agentToolName(this.toolNames, d.target);
      const args = d.kind === 'call' ? d.args : d.kind === 'delegate' ? { task: d.task } : {};
      message = new AIMessage({
        content: '',
        tool_calls: [{ id: nextCallId(), name, args, type: 'tool_call' }],
        usage_metadata,
      });
    }
    return { generations: [{ text: textOf(message.content), message }] };
  }
}

export async function create(): Promise<Harness> {
  const toolsOf = (name: AgentName) =>
    AGENTS[name].tools.map((t) => {
      const spec = TOOL_SPECS[t];
      const progress = spec.progress;
      return tool(
        async (args: Record<string, string>) => {
          if (progress) await dispatchCustomEvent('progress', { message: progress });
          return callTool(t, args);
        },
        {
          name: t,
          description: spec.description,
          schema: z.object(Object.fromEntries(Object.keys(spec.fields).map((f) => [f, z.string()]))),
        },
      );
    });
  const agent = (name: AgentName, extra: StructuredToolInterface[] = []) =>
    createReactAgent({
      llm: new PolicyChatModel(),
      tools: [...toolsOf(name), ...extra],
      name,
      description: AGENTS[name].responsibility,
      prompt: AGENTS[name].instructions,
    });
  // The orders agent billing consults: its own graph, invoked by billing's tool with only the task.
  const consulted = agent('orders');
  const delegateToOrders = tool(
    async ({ task }: { task: string }) => {
      const state = await consulted.invoke({ messages: [new HumanMessage(task)] });
      return textOf(state.messages.at(-1)?.content);
    },
    {
      name: 'delegate_to_orders',
      description: `Ask the orders agent: ${AGENTS.orders.responsibility}`,
      schema: z.object({ task: z.string() }),
    },
  );
  const app = createSupervisor({
    agents: [agent('front'), agent('account'), agent('orders'), agent('billing', [delegateToOrders])],
    llm: new PolicyChatModel(),
    prompt: TRIAGE_INSTRUCTIONS,
  }).compile({ checkpointer: new MemorySaver() });
  // Progress events are listened to while verifying only; they are dispatched on every run.
  const listener = { handleCustomEvent: (name: string) => name === 'progress' && onProgress() };
  let thread = 0;
  return {
    async run(input) {
      const config = {
        configurable: { thread_id: `t${++thread}` },
        ...(stats.tracing ? { callbacks: [listener] } : {}),
      };
      await app.invoke({ messages: [new HumanMessage(TURN_1)] }, config);
      const state = await app.invoke({ messages: [new HumanMessage(input)] }, config);
      return textOf(state.messages.at(-1)?.content);
    },
    async close() {},
  };
}
