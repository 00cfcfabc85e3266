// Strands Agents, realistic workload: "agents as tools" — the triage Agent is given the front
// agent and the three specialists as tools, and billing is given orders as a tool (its answer comes
// back to billing). The session is the triage Agent's own conversation: one Agent instance answers
// both turns of a run (a Strands Agent keeps its messages between invocations and refuses
// concurrent ones, so each run builds its agents; the tools and the model are shared).
import { Agent, Model, tool } from '@strands-agents/sdk';
import type { Message } from '@strands-agents/sdk';
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
import { toTranscript } from '../frameworks/strands.ts';

export const limitations = [
  'no router: the triage agent picks the specialist with a model call (an agent-as-tool call)',
  'no tool retrieval: every agent is shown all of its tools on every model call',
  'specialists run as tools and see only the task the triage agent writes, not the session (the triage agent passes the customer on)',
  'session memory is the triage Agent instance in process memory (SessionManager persists only to files or S3)',
  'no progress milestones: the write tool yields a stream update (async-generator tool) instead',
  'no non-idempotent marker on tools: nothing stops a retried run from refunding twice',
];

type Block = {
  type: string;
  text?: string;
  name?: string;
  toolUseId?: string;
  json?: unknown;
  content?: Block[];
};

/** The fake model: the realistic policy behind the Strands Model base class. */
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
    const d = await modelStep(shown, toTranscript(messages));
    yield { type: 'modelMessageStartEvent' as const, role: 'assistant' as const };
    if (d.kind === 'final') {
      yield { type: 'modelContentBlockStartEvent' as const };
      yield {
        type: 'modelContentBlockDeltaEvent' as const,
        delta: { type: 'textDelta' as const, text: d.text },
      };
      yield { type: 'modelContentBlockStopEvent' as const };
      yield { type: 'modelMessageStopEvent' as const, stopReason: 'endTurn' as const };
    } else {
      const name = d.kind === 'call' ? d.name : agentToolName(shown, d.target);
      const input = d.kind === 'call' ? d.args : { input: d.task };
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
  const toolsOf = (name: AgentName) =>
    AGENTS[name].tools.map((t) => {
      const spec = TOOL_SPECS[t];
      const inputSchema = z.object(Object.fromEntries(Object.keys(spec.fields).map((f) => [f, z.string()])));
      if (spec.progress) {
        const progress = spec.progress;
        return tool({
          name: t,
          description: spec.description,
          inputSchema,
          // A generator tool: what it yields is streamed as a tool update before its result.
          callback: async function* (args) {
            onProgress();
            yield progress;
            return callTool(t, args as Record<string, string>) as Record<string, string>;
          },
        });
      }
      return tool({
        name: t,
        description: spec.description,
        inputSchema,
        callback: (args) => callTool(t, args as Record<string, string>) as Record<string, string>,
      });
    });
  const tools = Object.fromEntries((Object.keys(AGENTS) as AgentName[]).map((n) => [n, toolsOf(n)]));
  const agent = (name: AgentName, extra: ReturnType<Agent['asTool']>[] = []) =>
    new Agent({
      name,
      description: AGENTS[name].responsibility,
      systemPrompt: AGENTS[name].instructions,
      model,
      tools: [...tools[name]!, ...extra],
      printer: false,
    });
  return {
    async run(input) {
      const orders = agent('orders');
      const billing = agent('billing', [orders.asTool({ name: 'delegate_to_orders' })]);
      const specialists = [agent('front'), agent('account'), orders, billing];
      const triage = new Agent({
        name: 'triage',
        systemPrompt: TRIAGE_INSTRUCTIONS,
        model,
        tools: specialists.map((a) => a.asTool({ name: `transfer_to_${a.name}` })),
        printer: false,
      });
      await triage.invoke(TURN_1);
      const result = await triage.invoke(input);
      return result.toString();
    },
    async close() {},
  };
}
