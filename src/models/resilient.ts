/**
 * A resilient model: any AI SDK `LanguageModelV4` wrapped with retries on 429/5xx/timeouts/dropped
 * connections (backoff that honours `retry-after`), a per-call timeout and a per-agent rate limit
 * (requests per minute). Failures come out classified — {@link ModelProviderError} with the
 * provider's status and message, or {@link ModelBehaviorError} for malformed output — and every
 * retry is reported through `onRetry` so the engine can journal it. Nothing here throws anything
 * but those two (or the caller's own abort), so a model can never crash a worker.
 */
import {
  APICallError,
  type LanguageModelV4,
  type LanguageModelV4CallOptions,
  type LanguageModelV4GenerateResult,
  type LanguageModelV4Message,
  type LanguageModelV4StreamPart,
  type LanguageModelV4StreamResult,
} from '@ai-sdk/provider';
import { backoff } from '../core/backoff.ts';
import { ConfigError, ModelBehaviorError } from '../core/errors.ts';
import { classifyModelError, isAbort, TIMED_OUT } from './classify.ts';
import { ModelOutputError, ModelProviderError } from './errors.ts';

export { classifyModelError } from './classify.ts';

/** Time for the wrapper: injected so tests of backoff, rate limits and timeouts never sleep. */
export interface ModelClock {
  now(): number;
  /** Resolve after `ms`; reject with the signal's reason if it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Call `fire` after `ms` unless cancelled; `reset` restarts the wait (an idle timer). */
  timer(ms: number, fire: () => void): { cancel(): void; reset(): void };
}

/** The real clock: `Date.now` and `setTimeout` (unref'd, so a pending timer never holds the process). */
export const realModelClock: ModelClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const onAbort = (): void => {
        clearTimeout(t);
        reject(signal?.reason as Error);
      };
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  timer: (ms, fire) => {
    let t = setTimeout(fire, ms);
    t.unref();
    return {
      cancel: () => clearTimeout(t),
      reset: () => {
        clearTimeout(t);
        t = setTimeout(fire, ms);
        t.unref();
      },
    };
  },
};

/** One retry, as the engine journals it (`model.retried`). */
export interface ModelRetry {
  /** The attempt that failed (1 = the first call). */
  attempt: number;
  /** The classified failure of that attempt (a model-output error when the call is re-asked). */
  error: ModelProviderError | ModelOutputError;
  /** How long the wrapper waits before the next attempt. */
  delayMs: number;
  /** The provider's HTTP status, when it answered. */
  status: number | undefined;
  /** Whether the delay came from the provider's `retry-after`. */
  retryAfter: boolean;
}

export interface ModelCallHooks {
  onRetry?: (retry: ModelRetry) => void;
}

export interface ResilienceOptions extends ModelCallHooks {
  /** Per attempt, in ms (default 60 s; 0 = none). For streams it is the longest silence between parts. */
  timeoutMs?: number;
  /** Retries after the first attempt (default 3). */
  maxRetries?: number;
  /** Most requests this wrapper sends per rolling minute (default: no limit). One wrapper per agent. */
  requestsPerMinute?: number;
  /** First backoff delay (default 500 ms); doubles per retry with jitter, up to `maxDelayMs` (30 s). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** A `retry-after` longer than this is not waited for: the call fails at once (default 60 s). */
  maxRetryAfterMs?: number;
  clock?: ModelClock;
  random?: () => number;
}

/** A model with resilience, and per-call hooks for the engine. */
export interface ResilientModel extends LanguageModelV4 {
  readonly inner: LanguageModelV4;
  readonly resilience: Readonly<Required<Omit<ResilienceOptions, 'onRetry' | 'clock' | 'random'>>>;
  /** The same model (same rate limit) reporting this call's retries to `hooks` as well. */
  withHooks(hooks: ModelCallHooks): LanguageModelV4;
}

/** True when `model` was made by {@link resilientModel}. */
export const isResilient = (model: LanguageModelV4): model is ResilientModel =>
  typeof (model as Partial<ResilientModel>).withHooks === 'function';

/** `retry-after-ms`, `retry-after` (seconds or an HTTP date), or a `retry_after` field in the error body. */
export function retryAfterMs(error: unknown, now: number): number | undefined {
  if (!APICallError.isInstance(error)) return undefined;
  const h = error.responseHeaders ?? {};
  const header = (name: string): string | undefined => {
    for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === name) return v;
    return undefined;
  };
  const ms = Number(header('retry-after-ms'));
  if (header('retry-after-ms') !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const ra = header('retry-after');
  if (ra !== undefined) {
    const s = Number(ra);
    if (ra.trim() !== '' && Number.isFinite(s) && s >= 0) return s * 1000;
    const date = Date.parse(ra);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  const field = (o: unknown): number | undefined => {
    if (!o || typeof o !== 'object') return undefined;
    const r = o as Record<string, unknown>;
    const v = r.retry_after ?? r.retryAfter;
    const n = typeof v === 'string' ? Number(v) : v;
    return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n * 1000 : undefined;
  };
  // The provider's parsed error may drop unknown fields; the raw body keeps them.
  let raw: unknown;
  if (error.responseBody) {
    try {
      raw = JSON.parse(error.responseBody) as unknown;
    } catch {
      raw = undefined;
    }
  }
  for (const body of [error.data, raw]) {
    const found = field(body) ?? field((body as { error?: unknown } | undefined)?.error);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Structurally broken output the engine cannot even journal: a tool call without a name. */
function checkOutput(result: LanguageModelV4GenerateResult, model: LanguageModelV4): void {
  const who = `${model.provider} model ${model.modelId}`;
  const fail = (what: string): ModelOutputError =>
    new ModelOutputError(`model_behaviour: ${who} emitted ${what}`, {
      origin: 'response',
      provider: model.provider,
      modelId: model.modelId,
    });
  for (const part of result.content) {
    if (part.type !== 'tool-call') continue;
    if (typeof part.toolName !== 'string' || part.toolName.trim() === '')
      throw fail('a tool call without a tool name');
    if (typeof part.input !== 'string') throw fail(`tool call ${part.toolName} with non-text arguments`);
  }
}

/** The message a re-ask adds: what the server said about the model's last reply. */
function reaskMessage(error: ModelOutputError): LanguageModelV4Message {
  const said = error.message.replace(/^model_behaviour: /, '');
  return {
    role: 'user',
    content: [
      {
        type: 'text',
        text: `Your previous reply could not be read: ${said}. Reply again: either plain text, or tool calls whose arguments are one JSON object each.`,
      },
    ],
  };
}

/** Rolling one-minute window of request start times. */
class RateLimiter {
  readonly #starts: number[] = [];
  readonly #rpm: number;
  readonly #clock: ModelClock;
  constructor(rpm: number, clock: ModelClock) {
    this.#rpm = rpm;
    this.#clock = clock;
  }
  async acquire(signal: AbortSignal | undefined): Promise<void> {
    if (!(this.#rpm > 0) || !Number.isFinite(this.#rpm)) return;
    for (;;) {
      const now = this.#clock.now();
      while (this.#starts.length && (this.#starts[0] ?? 0) <= now - 60_000) this.#starts.shift();
      if (this.#starts.length < this.#rpm) {
        this.#starts.push(now);
        return;
      }
      // Checked again after waking: concurrent callers may have taken the freed slot first.
      await this.#clock.sleep((this.#starts[0] ?? now) + 60_000 - now, signal);
    }
  }
}

/** Run one attempt under its own timer (`timeoutMs`, 0 = none); the timer aborts only this attempt. */
async function attempt<T>(
  clock: ModelClock,
  timeoutMs: number,
  call: (signal: AbortSignal, timer: { reset(): void; cancel(): void } | null) => Promise<T>,
  callerSignal: AbortSignal | undefined,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown; timedOut: boolean }> {
  const controller = new AbortController();
  let timedOut = false;
  const timer =
    timeoutMs > 0
      ? clock.timer(timeoutMs, () => {
          timedOut = true;
          controller.abort(new Error('model call timed out', { cause: TIMED_OUT }));
        })
      : null;
  const signal = callerSignal ? AbortSignal.any([callerSignal, controller.signal]) : controller.signal;
  try {
    return { ok: true, value: await call(signal, timer) };
  } catch (error) {
    timer?.cancel();
    return { ok: false, error, timedOut };
  }
}

/**
 * Wrap a model with retries, a per-call timeout and a rate limit.
 * @example
 * const model = resilientModel(createModelFromEnv(process.env)!, {
 *   timeoutMs: 30_000, maxRetries: 3, requestsPerMinute: 60,
 *   onRetry: (r) => log.warn({ attempt: r.attempt, status: r.status, delayMs: r.delayMs }, r.error.message),
 * });
 */
export function resilientModel(model: LanguageModelV4, options: ResilienceOptions = {}): ResilientModel {
  const clock = options.clock ?? realModelClock;
  const random = options.random ?? Math.random;
  const resilience = {
    timeoutMs: options.timeoutMs ?? 60_000,
    maxRetries: options.maxRetries ?? 3,
    requestsPerMinute: options.requestsPerMinute ?? 0,
    initialDelayMs: options.initialDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 30_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
  };
  const limiter = new RateLimiter(resilience.requestsPerMinute, clock);
  const who = `${model.provider} model ${model.modelId}`;

  async function withRetries<T>(
    original: LanguageModelV4CallOptions,
    hooks: ModelCallHooks,
    call: (o: LanguageModelV4CallOptions, timer: { reset(): void; cancel(): void } | null) => Promise<T>,
  ): Promise<T> {
    let callOptions = original;
    let reasked = false;
    const report = (retry: ModelRetry): void => {
      for (const hook of [options.onRetry, hooks.onRetry]) {
        try {
          hook?.(retry);
        } catch {
          // A failing observer must not turn a retry into a failure.
        }
      }
    };
    for (let n = 1; ; n++) {
      await limiter.acquire(callOptions.abortSignal);
      const r = await attempt(
        clock,
        resilience.timeoutMs,
        (signal, timer) => call({ ...callOptions, abortSignal: signal }, timer),
        callOptions.abortSignal,
      );
      if (r.ok) return r.value;
      // The caller's own abort (run cancelled, worker stopping) is not a failure: pass it on.
      if (callOptions.abortSignal?.aborted) throw callOptions.abortSignal.reason ?? r.error;
      const classified = classifyModelError(r.error, model, {
        timedOut: r.timedOut,
        timeoutMs: resilience.timeoutMs,
      });
      if (classified instanceof ModelOutputError) {
        // The server could not parse what the model wrote: the same prompt would fail the same
        // way, so ask once more with the error stated, at once, then give up with its class.
        if (classified.origin !== 'server' || reasked) throw classified.withAttempts(n);
        reasked = true;
        callOptions = { ...callOptions, prompt: [...callOptions.prompt, reaskMessage(classified)] };
        report({ attempt: n, error: classified, delayMs: 0, status: classified.status, retryAfter: false });
        continue;
      }
      if (!(classified instanceof ModelProviderError)) {
        if (classified instanceof ModelBehaviorError) throw classified;
        throw new ModelProviderError(`configuration: ${who} failed: ${String(classified)}`, {
          provider: model.provider,
          modelId: model.modelId,
          failure: 'http',
          class: 'configuration',
          retryable: false,
          cause: r.error,
        });
      }
      const after = retryAfterMs(r.error, clock.now());
      const tooLong = after !== undefined && after > resilience.maxRetryAfterMs;
      if (!classified.retryable || n > resilience.maxRetries || tooLong) {
        const error = classified.withAttempts(n);
        throw tooLong
          ? new ModelProviderError(
              `${error.message}; retry-after ${Math.round(after)} ms exceeds the ${resilience.maxRetryAfterMs} ms limit`,
              {
                provider: error.provider,
                modelId: error.modelId,
                status: error.status,
                failure: error.failure,
                class: error.class,
                retryable: true,
                attempts: n,
                cause: error.cause,
              },
            )
          : error;
      }
      const delayMs = after ?? backoff(n, resilience, random());
      report({
        attempt: n,
        error: classified,
        delayMs,
        status: classified.status,
        retryAfter: after !== undefined,
      });
      await clock.sleep(delayMs, callOptions.abortSignal);
    }
  }
  const generate = (
    o: LanguageModelV4CallOptions,
    hooks: ModelCallHooks,
  ): Promise<LanguageModelV4GenerateResult> =>
    withRetries(o, hooks, async (opts, timer) => {
      const result = await model.doGenerate(opts);
      timer?.cancel();
      checkOutput(result, model);
      return result;
    });

  const stream = (
    o: LanguageModelV4CallOptions,
    hooks: ModelCallHooks,
  ): Promise<LanguageModelV4StreamResult> =>
    withRetries(o, hooks, async (opts, timer) => {
      const result = await model.doStream(opts);
      // From here the timer measures silence: each part resets it; the end cancels it.
      timer?.reset();
      const { head, rest } = await peekStream(result.stream, timer);
      return { ...result, stream: guardStream(head, rest, timer, model, resilience.timeoutMs) };
    });

  const view = (hooks: ModelCallHooks): LanguageModelV4 => ({
    specificationVersion: 'v4',
    provider: model.provider,
    modelId: model.modelId,
    supportedUrls: model.supportedUrls,
    doGenerate: (o) => generate(o, hooks),
    doStream: (o) => stream(o, hooks),
  });

  return {
    ...view({}),
    inner: model,
    resilience,
    withHooks: (hooks) => view(hooks),
  };
}

/** Parts that carry no output: an error among them means the attempt failed before answering. */
const PREAMBLE = new Set(['stream-start', 'response-metadata', 'raw']);

/**
 * Read a stream up to its first output part. An error part before any output is thrown, so the
 * attempt counts as failed and is retried or re-asked like a non-streamed one (nothing has been
 * shown to anyone yet); the parts read so far are handed back to be replayed.
 */
async function peekStream(
  source: ReadableStream<LanguageModelV4StreamPart>,
  timer: { reset(): void } | null,
): Promise<{
  head: LanguageModelV4StreamPart[];
  rest: ReadableStreamDefaultReader<LanguageModelV4StreamPart>;
}> {
  const rest = source.getReader();
  const head: LanguageModelV4StreamPart[] = [];
  for (;;) {
    const { done, value } = await rest.read();
    if (done) break;
    timer?.reset();
    if (value.type === 'error') {
      await rest.cancel().catch(() => {});
      throw value.error;
    }
    head.push(value);
    if (!PREAMBLE.has(value.type)) break;
  }
  return { head, rest };
}

/** Reset the idle timer on every part; turn a mid-stream failure into a classified error part. */
function guardStream(
  head: LanguageModelV4StreamPart[],
  reader: ReadableStreamDefaultReader<LanguageModelV4StreamPart>,
  timer: { reset(): void; cancel(): void } | null,
  model: LanguageModelV4,
  timeoutMs: number,
): ReadableStream<LanguageModelV4StreamPart> {
  return new ReadableStream<LanguageModelV4StreamPart>({
    async pull(controller) {
      const first = head.shift();
      if (first) return controller.enqueue(first);
      try {
        const { done, value } = await reader.read();
        if (done) {
          timer?.cancel();
          controller.close();
          return;
        }
        timer?.reset();
        controller.enqueue(value);
      } catch (error) {
        timer?.cancel();
        const timedOut = isAbort(error) && (error as { cause?: unknown }).cause === TIMED_OUT;
        controller.enqueue({
          type: 'error',
          error: classifyModelError(error, model, { timedOut, timeoutMs }),
        });
        controller.close();
      }
    },
    async cancel(reason) {
      timer?.cancel();
      await reader.cancel(reason);
    },
  });
}

/** Resilience settings from the environment: `SWITCHBOARD_MODEL_TIMEOUT_MS`, `_MAX_RETRIES`, `_RPM`. */
export function resilienceFromEnv(env: Readonly<Record<string, string | undefined>>): ResilienceOptions {
  const num = (key: string, min: number): number | undefined => {
    const raw = env[key];
    if (raw === undefined || raw.trim() === '') return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      throw new ConfigError(key, `must be an integer >= ${min}, got "${raw}"`);
    }
    return n;
  };
  const timeoutMs = num('SWITCHBOARD_MODEL_TIMEOUT_MS', 0);
  const maxRetries = num('SWITCHBOARD_MODEL_MAX_RETRIES', 0);
  const requestsPerMinute = num('SWITCHBOARD_MODEL_RPM', 1);
  return {
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(maxRetries !== undefined ? { maxRetries } : {}),
    ...(requestsPerMinute !== undefined ? { requestsPerMinute } : {}),
  };
}
