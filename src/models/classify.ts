/**
 * What a provider call threw, as one of two errors: {@link ModelProviderError} with its class
 * (src/models/error-classes.ts decides it from the provider family's table) or
 * {@link ModelOutputError} when the model's output is what failed. The caller's own abort passes
 * through unchanged.
 */
import {
  APICallError,
  EmptyResponseBodyError,
  InvalidResponseDataError,
  JSONParseError,
  NoContentGeneratedError,
  TypeValidationError,
  type LanguageModelV4,
} from '@ai-sdk/provider';
import { ModelBehaviorError } from '../core/errors.ts';
import { answerOf, classifyAnswer, RETRYABLE_CLASSES, type ProviderAnswer } from './error-classes.ts';
import { ModelOutputError, ModelProviderError, type ProviderFailure } from './errors.ts';

const MALFORMED = (e: unknown): boolean =>
  JSONParseError.isInstance(e) ||
  TypeValidationError.isInstance(e) ||
  InvalidResponseDataError.isInstance(e) ||
  NoContentGeneratedError.isInstance(e) ||
  EmptyResponseBodyError.isInstance(e);

/** The reason our own timer aborts an attempt with. */
export const TIMED_OUT = Symbol('timed out');

/** An abort: the caller's, or our timer's. */
export function isAbort(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'AbortError' ||
      error.name === 'TimeoutError' ||
      (error as { cause?: unknown }).cause === TIMED_OUT)
  );
}

/** A failure of the provider (status, message and body known) as the error of its class. */
function providerFailure(
  model: Pick<LanguageModelV4, 'provider' | 'modelId'>,
  answer: ProviderAnswer,
  fields: { failure: ProviderFailure; text: string; cause: unknown },
): ModelProviderError | ModelOutputError {
  const base = { provider: model.provider, modelId: model.modelId };
  const found = classifyAnswer(model.provider, answer);
  const message = `${found.class}: ${fields.text}${found.hint ? ` (${found.hint})` : ''}`;
  if (found.class === 'model_behaviour')
    return new ModelOutputError(message, {
      ...base,
      origin: 'server',
      status: answer.status,
      cause: fields.cause,
    });
  return new ModelProviderError(message, {
    ...base,
    status: answer.status,
    failure: fields.failure === 'http' && found.class === 'rate_limit' ? 'rate-limited' : fields.failure,
    class: found.class,
    retryable: RETRYABLE_CLASSES.has(found.class),
    ...(found.toolsUnsupported ? { toolsUnsupported: true } : {}),
    cause: fields.cause,
  });
}

/** The body of an API error: the parsed one, else the raw text parsed. */
function bodyOf(error: APICallError): unknown {
  if (error.data !== undefined) return error.data;
  if (!error.responseBody) return undefined;
  try {
    return JSON.parse(error.responseBody) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Classify what a provider call threw (src/models/error-classes.ts has the table per provider
 * family). `timedOut` says our own timer aborted it. The caller's abort is returned unchanged (it
 * is not a failure to retry).
 */
export function classifyModelError(
  error: unknown,
  model: Pick<LanguageModelV4, 'provider' | 'modelId'>,
  context: { timedOut?: boolean; timeoutMs?: number } = {},
): unknown {
  if (error instanceof ModelProviderError || error instanceof ModelBehaviorError) return error;
  const who = `${model.provider} model ${model.modelId}`;
  const base = { provider: model.provider, modelId: model.modelId };
  /** No answer at all (refused, dropped, DNS): worth another attempt. */
  const unreachable = (e: Error): ModelProviderError =>
    new ModelProviderError(`transient: ${who} is unreachable: ${e.message}`, {
      ...base,
      failure: 'network',
      class: 'transient',
      retryable: true,
      cause: e,
    });
  if (context.timedOut) {
    return new ModelProviderError(`transient: ${who} did not answer within ${context.timeoutMs ?? '?'} ms`, {
      ...base,
      failure: 'timeout',
      class: 'transient',
      retryable: true,
      cause: error,
    });
  }
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    if (status !== undefined && status >= 200 && status < 300) {
      return new ModelOutputError(`model_behaviour: ${who} returned a malformed response: ${error.message}`, {
        ...base,
        origin: 'response',
        status,
        cause: error,
      });
    }
    // No HTTP answer: refused or dropped connection (the SDK marks these retryable).
    if (status === undefined) return unreachable(error);
    return providerFailure(model, answerOf(status, error.message, bodyOf(error), error.responseHeaders), {
      failure: 'http',
      text: `${who} answered ${status}: ${error.message}`,
      cause: error,
    });
  }
  if (MALFORMED(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return new ModelOutputError(`model_behaviour: ${who} returned malformed output: ${message}`, {
      ...base,
      origin: 'response',
      cause: error,
    });
  }
  if (isAbort(error)) return error;
  if (error instanceof TypeError && /fetch failed|network|socket/i.test(error.message))
    return unreachable(error);
  if (!(error instanceof Error) && error && typeof error === 'object') {
    // An error object sent in-band in a stream (`data: {"error":{…}}`): the status is already 200.
    const answer = answerOf(undefined, JSON.stringify(error), error);
    const code = (error as { code?: unknown }).code;
    const status = typeof code === 'number' ? code : undefined;
    return providerFailure(
      model,
      { ...answer, status },
      {
        failure: 'stream',
        text: `${who} failed mid-stream${status !== undefined ? ` (${status})` : ''}: ${answer.message}`,
        cause: error,
      },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ModelProviderError(`configuration: ${who} failed: ${message}`, {
    ...base,
    failure: 'http',
    class: 'configuration',
    retryable: false,
    cause: error,
  });
}
