/**
 * Streaming with the shape of `doGenerate`: the engine calls {@link streamToResult} instead of
 * `doGenerate`, publishes each text delta to live subscribers (`answer.delta`, not journaled one by
 * one) and journals the assembled result exactly as before.
 */
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4FinishReason,
  LanguageModelV4GenerateResult,
  LanguageModelV4Usage,
} from '@ai-sdk/provider';
import { ModelBehaviorError } from '../core/errors.ts';
import { ModelOutputError, ModelProviderError } from './errors.ts';
import { classifyModelError } from './resilient.ts';

/**
 * Call `model.doStream`, forward every text delta to `onDelta`, and return what `doGenerate` would
 * have: content (text parts joined per block, tool calls, reasoning), usage and finish reason.
 * A stream error part or a failing read throws a classified error; a stream that ends without a
 * `finish` part is malformed output ({@link ModelBehaviorError}).
 * @example
 * const result = await streamToResult(model, { prompt, tools }, (text) => feed.publish(runId, text));
 */
export async function streamToResult(
  model: LanguageModelV4,
  options: LanguageModelV4CallOptions,
  onDelta: (text: string) => void,
): Promise<LanguageModelV4GenerateResult> {
  const { stream, request, response } = await model.doStream(options);
  const content: LanguageModelV4Content[] = [];
  // Text and reasoning blocks arrive as start/delta/end by id; keep their order of first appearance.
  const open = new Map<string, { type: 'text' | 'reasoning'; text: string; index: number }>();
  let usage: LanguageModelV4Usage | undefined;
  let finishReason: LanguageModelV4FinishReason | undefined;
  let providerMetadata: LanguageModelV4GenerateResult['providerMetadata'];
  let responseMeta: LanguageModelV4GenerateResult['response'] = response ? { ...response } : undefined;
  const warnings: LanguageModelV4GenerateResult['warnings'] = [];
  const block = (type: 'text' | 'reasoning', id: string) => {
    let b = open.get(`${type}:${id}`);
    if (!b) {
      b = { type, text: '', index: content.length };
      content.push(type === 'text' ? { type: 'text', text: '' } : { type: 'reasoning', text: '' });
      open.set(`${type}:${id}`, b);
    }
    return b;
  };
  const reader = stream.getReader();
  try {
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (error) {
        throw classifyModelError(error, model);
      }
      if (next.done) break;
      const part = next.value;
      switch (part.type) {
        case 'stream-start':
          warnings.push(...part.warnings);
          break;
        case 'response-metadata': {
          const { type: _t, ...meta } = part;
          responseMeta = { ...responseMeta, ...meta };
          break;
        }
        case 'text-start':
          block('text', part.id);
          break;
        case 'text-delta': {
          const b = block('text', part.id);
          b.text += part.delta;
          content[b.index] = { type: 'text', text: b.text };
          if (part.delta) onDelta(part.delta);
          break;
        }
        case 'reasoning-start':
          block('reasoning', part.id);
          break;
        case 'reasoning-delta': {
          const b = block('reasoning', part.id);
          b.text += part.delta;
          content[b.index] = { type: 'reasoning', text: b.text };
          break;
        }
        case 'tool-call':
        case 'tool-result':
        case 'source':
        case 'file':
          content.push(part);
          break;
        case 'finish':
          usage = part.usage;
          finishReason = part.finishReason;
          providerMetadata = part.providerMetadata;
          break;
        case 'error': {
          const e = part.error;
          throw e instanceof ModelProviderError || e instanceof ModelBehaviorError
            ? e
            : classifyStreamError(e, model);
        }
        default:
          break;
      }
    }
  } finally {
    reader.releaseLock();
  }
  if (!usage || !finishReason) {
    throw new ModelOutputError(
      `model_behaviour: ${model.provider} model ${model.modelId} ended its stream without a finish part (truncated output)`,
      { origin: 'response', provider: model.provider, modelId: model.modelId },
    );
  }
  // Empty text blocks (a start with no deltas) carry nothing the engine would journal.
  const parts = content.filter((p) => !((p.type === 'text' || p.type === 'reasoning') && p.text === ''));
  return {
    content: parts,
    usage,
    finishReason,
    warnings,
    ...(providerMetadata ? { providerMetadata } : {}),
    ...(request ? { request } : {}),
    ...(responseMeta ? { response: responseMeta } : {}),
  };
}

/** An error part from the provider: classified if it is an API error, else a stream failure. */
function classifyStreamError(error: unknown, model: LanguageModelV4): unknown {
  const c = classifyModelError(error, model);
  if (c instanceof ModelProviderError || c instanceof ModelBehaviorError) return c;
  const message =
    error instanceof Error
      ? error.message
      : typeof error === 'object' && error !== null
        ? JSON.stringify(error)
        : String(error);
  return new ModelProviderError(
    `transient: ${model.provider} model ${model.modelId} stream failed: ${message}`,
    {
      provider: model.provider,
      modelId: model.modelId,
      failure: 'stream',
      class: 'transient',
      retryable: true,
      cause: error,
    },
  );
}
