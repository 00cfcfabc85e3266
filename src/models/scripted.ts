/**
 * Models for tests, replay and benchmarks: a scripted model that plays a list of responses, and a
 * policy model that answers from a function of the prompt (deterministic across restarts).
 */
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4GenerateResult,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
} from '@ai-sdk/provider';

/** One model turn: text and/or tool calls. */
export interface ScriptedResponse {
  text?: string;
  toolCalls?: { toolName: string; input: unknown; toolCallId?: string }[];
  usage?: { inputTokens: number; outputTokens: number };
}

export interface RecordedCall {
  prompt: LanguageModelV4Prompt;
  tools: string[];
}

export interface ScriptedModel extends LanguageModelV4 {
  /** Every prompt the model was given, in order. */
  readonly calls: RecordedCall[];
}

/** Rough token estimate (4 characters a token) when a script gives no usage. */
const estimate = (s: string): number => Math.ceil(s.length / 4);

function toResult(
  r: ScriptedResponse,
  options: LanguageModelV4CallOptions,
  step: number,
): LanguageModelV4GenerateResult {
  const content: LanguageModelV4Content[] = [];
  if (r.text) content.push({ type: 'text', text: r.text });
  (r.toolCalls ?? []).forEach((c, i) =>
    content.push({
      type: 'tool-call',
      toolCallId: c.toolCallId ?? `call_${step}_${i}`,
      toolName: c.toolName,
      input: typeof c.input === 'string' ? c.input : JSON.stringify(c.input ?? {}),
    }),
  );
  const inputTokens = r.usage?.inputTokens ?? estimate(JSON.stringify(options.prompt));
  const outputTokens = r.usage?.outputTokens ?? estimate(JSON.stringify(content));
  return {
    content,
    finishReason: { unified: r.toolCalls?.length ? 'tool-calls' : 'stop', raw: undefined },
    usage: {
      inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: outputTokens, text: outputTokens, reasoning: undefined },
    },
    warnings: [],
  };
}

function streamOf(result: LanguageModelV4GenerateResult): ReadableStream<LanguageModelV4StreamPart> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue({ type: 'stream-start', warnings: [] });
      result.content.forEach((part, i) => {
        if (part.type === 'text') {
          controller.enqueue({ type: 'text-start', id: `t${i}` });
          controller.enqueue({ type: 'text-delta', id: `t${i}`, delta: part.text });
          controller.enqueue({ type: 'text-end', id: `t${i}` });
        } else if (part.type === 'tool-call') controller.enqueue(part);
      });
      controller.enqueue({
        type: 'finish',
        finishReason: result.finishReason,
        usage: result.usage,
      });
      controller.close();
    },
  });
}

function makeModel(
  modelId: string,
  respond: (options: LanguageModelV4CallOptions, step: number) => ScriptedResponse,
  latencyMs: number,
): ScriptedModel {
  const calls: RecordedCall[] = [];
  const generate = async (options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> => {
    const step = calls.length;
    calls.push({ prompt: options.prompt, tools: (options.tools ?? []).map((t) => t.name) });
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    return toResult(respond(options, step), options, step);
  };
  return {
    specificationVersion: 'v4',
    provider: 'switchboard-testing',
    modelId,
    supportedUrls: {},
    calls,
    doGenerate: generate,
    doStream: async (options) => ({ stream: streamOf(await generate(options)) }),
  };
}

/**
 * A model that plays `responses` in order (the last one repeats when the list runs out, so a
 * looping script is one entry).
 * @example
 * const model = scriptedModel([{ toolCalls: [{ toolName: 'lookup', input: { id: 1 } }] }, { text: 'Done.' }]);
 */
export function scriptedModel(
  responses: ScriptedResponse[],
  options: { latencyMs?: number } = {},
): ScriptedModel {
  if (responses.length === 0) throw new TypeError('scriptedModel needs at least one response');
  return makeModel(
    'scripted',
    (_o, step) => responses[Math.min(step, responses.length - 1)] ?? {},
    options.latencyMs ?? 0,
  );
}

/** What a policy sees: the prompt and the names of the tools shown. */
export interface PolicyInput {
  prompt: LanguageModelV4Prompt;
  tools: string[];
}

/**
 * A model whose answer is a pure function of the prompt: the same conversation always gets the
 * same response, also after a crash and restart.
 */
export function policyModel(
  policy: (input: PolicyInput) => ScriptedResponse,
  options: { latencyMs?: number; modelId?: string } = {},
): ScriptedModel {
  return makeModel(
    options.modelId ?? 'policy',
    (o) => policy({ prompt: o.prompt, tools: (o.tools ?? []).map((t) => t.name) }),
    options.latencyMs ?? 0,
  );
}

/** The tool results in a prompt, oldest first (a helper for policies). */
export function toolResults(prompt: LanguageModelV4Prompt): { toolName: string; output: unknown }[] {
  const out: { toolName: string; output: unknown }[] = [];
  for (const m of prompt) {
    if (m.role !== 'tool') continue;
    for (const p of m.content)
      if (p.type === 'tool-result') out.push({ toolName: p.toolName, output: p.output });
  }
  return out;
}

/** The first user message of a prompt. */
export function userText(prompt: LanguageModelV4Prompt): string {
  for (const m of prompt) {
    if (m.role === 'user') return m.content.map((p) => (p.type === 'text' ? p.text : '')).join('');
  }
  return '';
}
