// A fake AI SDK LanguageModelV4 (the spec Switchboard's engine calls) whose answers come from a
// decision function: the realistic workload's scripted policy. Same shape as the shim in
// frameworks/switchboard.ts (which serves the best-case workload and exports none), so both
// workloads give Switchboard the same model cost.
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4StreamPart,
} from '@ai-sdk/provider';
import { fromAiSdkPrompt, nextCallId, type Turn } from '../workload.ts';

/** What the model answers: text, or one tool call (name and JSON input). */
export type ModelAnswer = { text: string } | { toolName: string; input: Record<string, unknown> };

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 10, text: 10, reasoning: undefined },
};

/** `decide(shown tool names, neutral transcript)` behind the LanguageModelV4 interface. */
export function policyModelV4(
  decide: (shown: string[], transcript: Turn[]) => Promise<ModelAnswer>,
): LanguageModelV4 {
  async function generate(options: LanguageModelV4CallOptions) {
    const shown = (options.tools ?? []).map((t) => t.name);
    const answer = await decide(
      shown,
      fromAiSdkPrompt(options.prompt as Parameters<typeof fromAiSdkPrompt>[0]),
    );
    if ('text' in answer)
      return {
        content: [{ type: 'text' as const, text: answer.text }],
        finishReason: { unified: 'stop' as const, raw: undefined },
        usage,
        warnings: [],
      };
    return {
      content: [
        {
          type: 'tool-call' as const,
          toolCallId: nextCallId(),
          toolName: answer.toolName,
          input: JSON.stringify(answer.input),
        },
      ],
      finishReason: { unified: 'tool-calls' as const, raw: undefined },
      usage,
      warnings: [],
    };
  }
  return {
    specificationVersion: 'v4',
    provider: 'bench',
    modelId: 'policy',
    supportedUrls: {},
    doGenerate: generate,
    async doStream(options: LanguageModelV4CallOptions) {
      const result = await generate(options);
      const stream = new ReadableStream<LanguageModelV4StreamPart>({
        start(controller) {
          controller.enqueue({ type: 'stream-start', warnings: [] });
          for (const part of result.content) {
            if (part.type === 'text') {
              controller.enqueue({ type: 'text-start', id: 't' });
              controller.enqueue({ type: 'text-delta', id: 't', delta: part.text });
              controller.enqueue({ type: 'text-end', id: 't' });
            } else controller.enqueue(part);
          }
          controller.enqueue({ type: 'finish', finishReason: result.finishReason, usage: result.usage });
          controller.close();
        },
      });
      return { stream };
    },
  } as unknown as LanguageModelV4;
}
