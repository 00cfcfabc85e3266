/**
 * The error a model provider's failure becomes: the provider's own status and message, its class
 * (src/models/error-classes.ts: what can fix it, and so whether a retry can), whether Switchboard
 * retried it, and how many attempts were made. Output the model got wrong is not a provider error
 * but the model's fault: {@link ModelOutputError}, a {@link ModelBehaviorError} from core.
 */
import { ModelBehaviorError, SwitchboardError } from '../core/errors.ts';
import type { ModelErrorClass } from './error-classes.ts';

export type { ModelErrorClass } from './error-classes.ts';

/** Why a provider call failed. */
export type ProviderFailure = 'http' | 'timeout' | 'network' | 'rate-limited' | 'stream';

/** A model provider refused or failed a call (HTTP status, timeout, connection). */
export class ModelProviderError extends SwitchboardError {
  readonly code = 'model_provider';
  /** `openai-compatible`, `anthropic.messages`, … (the AI SDK provider id). */
  readonly provider: string;
  readonly modelId: string;
  /** HTTP status the provider answered with, when it answered. */
  readonly status: number | undefined;
  readonly failure: ProviderFailure;
  /** What can fix it; the run's error reports it (`details.class`). */
  readonly class: ModelErrorClass;
  /** True for the classes a retry can fix: rate limits, overload, transient failures. */
  readonly retryable: boolean;
  /** Set when the endpoint refuses tool calling as such (llama-server without `--jinja`, …). */
  readonly toolsUnsupported: boolean;
  /** Attempts made, the failing one included. */
  readonly attempts: number;
  constructor(
    message: string,
    fields: {
      provider: string;
      modelId: string;
      status?: number | undefined;
      failure: ProviderFailure;
      class: ModelErrorClass;
      retryable: boolean;
      toolsUnsupported?: boolean;
      attempts?: number;
      cause?: unknown;
    },
  ) {
    super(message, { cause: fields.cause });
    this.toolsUnsupported = fields.toolsUnsupported ?? false;
    this.provider = fields.provider;
    this.modelId = fields.modelId;
    this.status = fields.status;
    this.failure = fields.failure;
    this.class = fields.class;
    this.retryable = fields.retryable;
    this.attempts = fields.attempts ?? 1;
  }

  /** The same failure after `attempts` tries (the message says so once retries ran out). */
  withAttempts(attempts: number): ModelProviderError {
    if (attempts <= 1) return this;
    return new ModelProviderError(`${this.message} (gave up after ${attempts} attempts)`, {
      provider: this.provider,
      modelId: this.modelId,
      status: this.status,
      failure: this.failure,
      class: this.class,
      retryable: this.retryable,
      toolsUnsupported: this.toolsUnsupported,
      attempts,
      cause: this.cause,
    });
  }
}

/**
 * The model's output could not be used: the server's own parser rejected it (`origin: 'server'`,
 * e.g. llama.cpp's "does not match the expected … format" 500), or the answer was malformed
 * (`'response'`). Class `model_behaviour`: a blind retry repeats it; a server-side parse failure is
 * re-asked once with the error stated (src/models/resilient.ts), then the run fails with this.
 */
export class ModelOutputError extends ModelBehaviorError {
  readonly class = 'model_behaviour' as const;
  readonly origin: 'server' | 'response';
  readonly provider: string;
  readonly modelId: string;
  readonly status: number | undefined;
  /** Calls made, the re-ask included. */
  readonly attempts: number;
  constructor(
    message: string,
    fields: {
      origin: 'server' | 'response';
      provider: string;
      modelId: string;
      status?: number | undefined;
      attempts?: number;
      cause?: unknown;
    },
  ) {
    super(message, { cause: fields.cause });
    this.origin = fields.origin;
    this.provider = fields.provider;
    this.modelId = fields.modelId;
    this.status = fields.status;
    this.attempts = fields.attempts ?? 1;
  }

  /** The same failure after `attempts` calls. */
  withAttempts(attempts: number): ModelOutputError {
    if (attempts <= 1) return this;
    return new ModelOutputError(`${this.message} (again after a re-ask; ${attempts} calls)`, {
      origin: this.origin,
      provider: this.provider,
      modelId: this.modelId,
      status: this.status,
      attempts,
      cause: this.cause,
    });
  }
}
