// OpenAI Agents SDK: a triage Agent whose `handoffs` hold the worker, the SDK's own multi-agent
// pattern. A handoff transfers the conversation, so the worker's answer ends the run (five model
// calls, where the supervisor-style frameworks make six).
import { Agent, Runner, Usage, tool } from '@openai/agents';
import type { AgentInputItem, Model, ModelRequest, ModelResponse } from '@openai/agents';
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
  if (Array.isArray(content))
    return content.map((c: { text?: string; refusal?: string }) => c.text ?? c.refusal ?? '').join('');
  if (content && typeof content === 'object' && 'text' in content) return String(content.text);
  return JSON.stringify(content);
}

export function toTranscript(input: string | AgentInputItem[]): Turn[] {
  if (typeof input === 'string') return [{ role: 'user', text: input }];
  const turns: Turn[] = [];
  for (const raw of input) {
    const item = raw as { type?: string; role?: string; content?: unknown; name?: string; output?: unknown };
    if (item.type === 'function_call') turns.push({ role: 'assistant', text: '', calls: [item.name ?? ''] });
    else if (item.type === 'function_call_result')
      turns.push({ role: 'tool', name: item.name ?? '', text: textOf(item.output) });
    else if (item.role === 'user') turns.push({ role: 'user', text: textOf(item.content) });
    else if (item.role === 'assistant')
      turns.push({ role: 'assistant', text: textOf(item.content), calls: [] });
  }
  return turns;
}

/** The fake model: the shared policy behind the SDK's Model port. */
class PolicyModel implements Model {
  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const handoffTools = request.handoffs.map((h) => h.toolName);
    const shown = [...request.tools.map((t) => ('name' in t ? String(t.name) : '')), ...handoffTools];
    const decision = await modelStep(shown, toTranscript(request.input));
    const usage = new Usage({ requests: 1, inputTokens: 10, outputTokens: 10, totalTokens: 20 });
    if (decision.kind === 'final') {
      return {
        usage,
        output: [
          {
            type: 'message',
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_text', text: decision.text }],
          },
        ],
      };
    }
    const name = decision.kind === 'handoff' ? (handoffTools[0] ?? 'transfer_to_worker') : decision.name;
    const args = decision.kind === 'handoff' ? {} : decision.args;
    const callId = nextCallId();
    return {
      usage,
      output: [{ type: 'function_call', callId, name, status: 'completed', arguments: JSON.stringify(args) }],
    };
  }

  // eslint-disable-next-line require-yield
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error('streaming is not used by this benchmark');
  }
}

export async function create(): Promise<Harness> {
  const model = new PolicyModel();
  const tools = TOOL_NAMES.map((name) => {
    const spec = TOOL_SPECS[name];
    return tool({
      name,
      description: spec.description,
      parameters: z.object(Object.fromEntries(Object.keys(spec.fields).map((f) => [f, z.string()]))),
      execute: async (args) => callTool(name, args as Record<string, string>),
    });
  });
  const worker = new Agent({
    name: 'worker',
    instructions: WORKER_INSTRUCTIONS,
    handoffDescription: WORKER_DESCRIPTION,
    model,
    tools,
  });
  const triage = Agent.create({
    name: 'triage',
    instructions: TRIAGE_INSTRUCTIONS,
    model,
    handoffs: [worker],
  });
  // Tracing is off: its default exporter ships spans to OpenAI's API, which is not part of the
  // orchestration being measured (Switchboard's OpenTelemetry export is likewise off here).
  const runner = new Runner({ tracingDisabled: true });
  return {
    async run(input) {
      const result = await runner.run(triage, input);
      return String(result.finalOutput);
    },
    async close() {},
  };
}
