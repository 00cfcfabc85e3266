// LangGraph.js: the worker is a prebuilt ReAct agent and the triage agent is the supervisor from
// @langchain/langgraph-supervisor, the package LangGraph documents for this pattern. The worker's
// last message returns to the supervisor, which makes one more model call to answer. `langgraph`
// runs without a checkpointer (LangGraph's default, in-memory execution); the durable variants
// (langgraph-sqlite, langgraph-postgres) pass their checkpointer to createLangGraph.
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { BaseChatModelParams } from '@langchain/core/language_models/chat_models';
import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import type { BaseCheckpointSaver } from '@langchain/langgraph';
import { createReactAgent } from '@langchain/langgraph/prebuilt';
import { createSupervisor } from '@langchain/langgraph-supervisor';
import { z } from 'zod';
import {
  TOOL_NAMES,
  TOOL_SPECS,
  TRIAGE_INSTRUCTIONS,
  WORKER_DESCRIPTION,
  WORKER_INSTRUCTIONS,
  callTool,
  modelStep,
  nextCallId,
  type Harness,
  type Turn,
} from '../workload.ts';

export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((c: { text?: string }) => c.text ?? '').join('');
  return JSON.stringify(content);
}

export function toTranscript(messages: BaseMessage[]): Turn[] {
  const turns: Turn[] = [];
  for (const m of messages) {
    const type = m.getType();
    if (type === 'human') turns.push({ role: 'user', text: textOf(m.content) });
    else if (type === 'ai')
      turns.push({
        role: 'assistant',
        text: textOf(m.content),
        calls: ((m as AIMessage).tool_calls ?? []).map((c) => c.name),
      });
    else if (type === 'tool') turns.push({ role: 'tool', name: m.name ?? '', text: textOf(m.content) });
  }
  return turns;
}

/** The fake chat model: the shared policy behind LangChain's BaseChatModel. */
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
    // createReactAgent checks the bound tool list against its own by name.
    return next.withConfig({
      tools: tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description } })),
    } as Record<string, unknown>);
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const decision = await modelStep(this.toolNames, toTranscript(messages));
    const usage_metadata = { input_tokens: 10, output_tokens: 10, total_tokens: 20 };
    let message: AIMessage;
    if (decision.kind === 'final') {
      message = new AIMessage({ content: decision.text, usage_metadata });
    } else {
      const name =
        decision.kind === 'handoff'
          ? (this.toolNames.find((n) => n.includes('worker')) ?? '')
          : decision.name;
      const args = decision.kind === 'handoff' ? {} : decision.args;
      message = new AIMessage({
        content: '',
        tool_calls: [{ id: nextCallId(), name, args, type: 'tool_call' }],
        usage_metadata,
      });
    }
    return { generations: [{ text: textOf(message.content), message }] };
  }
}

/** What a durable variant supplies: its checkpointer, and how to release it after the last run. */
export interface Checkpointing {
  checkpointer: BaseCheckpointSaver;
  close(): Promise<void>;
}

/**
 * The supervisor graph, in memory or with a checkpointer. With one, every run is its own thread
 * and `durability: 'sync'` makes each step's checkpoint commit before the next step starts
 * (LangGraph's default, 'async', writes it while the next step already runs). The worker subgraph
 * inherits the supervisor's checkpointer.
 */
export async function createLangGraph(checkpointing?: Checkpointing): Promise<Harness> {
  const tools = TOOL_NAMES.map((name) => {
    const spec = TOOL_SPECS[name];
    return tool(async (args: Record<string, string>) => callTool(name, args), {
      name,
      description: spec.description,
      schema: z.object(Object.fromEntries(Object.keys(spec.fields).map((f) => [f, z.string()]))),
    });
  });
  const worker = createReactAgent({
    llm: new PolicyChatModel(),
    tools,
    name: 'worker',
    description: WORKER_DESCRIPTION,
    prompt: WORKER_INSTRUCTIONS,
  });
  const app = createSupervisor({
    agents: [worker],
    llm: new PolicyChatModel(),
    prompt: TRIAGE_INSTRUCTIONS,
  }).compile(checkpointing ? { checkpointer: checkpointing.checkpointer } : {});
  let thread = 0;
  return {
    async run(input) {
      const config = checkpointing
        ? { configurable: { thread_id: `t${++thread}` }, durability: 'sync' as const }
        : {};
      const state = await app.invoke({ messages: [new HumanMessage(input)] }, config);
      return textOf(state.messages.at(-1)?.content);
    },
    async close() {
      await checkpointing?.close();
    },
  };
}

export const create = (): Promise<Harness> => createLangGraph();
