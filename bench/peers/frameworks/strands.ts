// Strands Agents: "agents as tools", the SDK's supervisor pattern — the worker Agent is passed in
// the triage Agent's tools and answers through the tool result. A Strands Agent holds its
// conversation and refuses concurrent invocations, so, as a server would, each run builds its own
// pair of agents; the tools and the model are shared.
import { Agent, Model, tool } from '@strands-agents/sdk';
import type { Message } from '@strands-agents/sdk';
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

type Block = {
  type: string;
  text?: string;
  name?: string;
  toolUseId?: string;
  json?: unknown;
  content?: Block[];
};

export function toTranscript(messages: Message[]): Turn[] {
  const names = new Map<string, string>();
  const turns: Turn[] = [];
  for (const message of messages) {
    const blocks = message.content as unknown as Block[];
    if (message.role === 'assistant') {
      for (const b of blocks) if (b.type === 'toolUseBlock') names.set(b.toolUseId ?? '', b.name ?? '');
      turns.push({
        role: 'assistant',
        text: blocks.map((b) => (b.type === 'textBlock' ? (b.text ?? '') : '')).join(''),
        calls: blocks.filter((b) => b.type === 'toolUseBlock').map((b) => b.name ?? ''),
      });
      continue;
    }
    const text = blocks.filter((b) => b.type === 'textBlock').map((b) => b.text ?? '');
    if (text.length > 0) turns.push({ role: 'user', text: text.join('') });
    for (const b of blocks) {
      if (b.type !== 'toolResultBlock') continue;
      const body = (b.content ?? [])
        .map((c) => (c.type === 'jsonBlock' ? JSON.stringify(c.json) : (c.text ?? '')))
        .join('');
      turns.push({ role: 'tool', name: names.get(b.toolUseId ?? '') ?? '', text: body });
    }
  }
  return turns;
}

/** The fake model: the shared policy behind the Strands Model base class. */
class PolicyModel extends Model {
  private config = { modelId: 'policy' };
  updateConfig(config: { modelId?: string }): void {
    Object.assign(this.config, config);
  }
  getConfig() {
    return this.config;
  }
  async *stream(messages: Message[], options?: { toolSpecs?: { name: string }[] }) {
    const shown = (options?.toolSpecs ?? []).map((t) => t.name);
    const decision = await modelStep(shown, toTranscript(messages));
    yield { type: 'modelMessageStartEvent' as const, role: 'assistant' as const };
    if (decision.kind === 'final') {
      yield { type: 'modelContentBlockStartEvent' as const };
      yield {
        type: 'modelContentBlockDeltaEvent' as const,
        delta: { type: 'textDelta' as const, text: decision.text },
      };
      yield { type: 'modelContentBlockStopEvent' as const };
      yield { type: 'modelMessageStopEvent' as const, stopReason: 'endTurn' as const };
    } else {
      const name =
        decision.kind === 'handoff' ? (shown.find((n) => n.includes('worker')) ?? '') : decision.name;
      const input = decision.kind === 'handoff' ? { input: decision.task } : decision.args;
      yield {
        type: 'modelContentBlockStartEvent' as const,
        start: { type: 'toolUseStart' as const, name, toolUseId: nextCallId() },
      };
      yield {
        type: 'modelContentBlockDeltaEvent' as const,
        delta: { type: 'toolUseInputDelta' as const, input: JSON.stringify(input) },
      };
      yield { type: 'modelContentBlockStopEvent' as const };
      yield { type: 'modelMessageStopEvent' as const, stopReason: 'toolUse' as const };
    }
    yield {
      type: 'modelMetadataEvent' as const,
      usage: { inputTokens: 10, outputTokens: 10, totalTokens: 20 },
    };
  }
}

export async function create(): Promise<Harness> {
  const model = new PolicyModel();
  const tools = TOOL_NAMES.map((name) => {
    const spec = TOOL_SPECS[name];
    return tool({
      name,
      description: spec.description,
      inputSchema: z.object(Object.fromEntries(Object.keys(spec.fields).map((f) => [f, z.string()]))),
      callback: (args) => callTool(name, args as Record<string, string>) as Record<string, string>,
    });
  });
  return {
    async run(input) {
      const worker = new Agent({
        name: 'worker',
        description: WORKER_DESCRIPTION,
        systemPrompt: WORKER_INSTRUCTIONS,
        model,
        tools,
        printer: false,
      });
      const triage = new Agent({
        name: 'triage',
        systemPrompt: TRIAGE_INSTRUCTIONS,
        model,
        tools: [worker.asTool()],
        printer: false,
      });
      const result = await triage.invoke(input);
      return result.toString();
    },
    async close() {},
  };
}
