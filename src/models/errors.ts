/**
 * The error a model provider's failure becomes: the provider's own status and message, whether
 * Switchboard retried it, and how many attempts were made. Malformed output is not a provider error
 * but the model's fault: {@link ModelBehaviorError} from core.
 */
import { SwitchboardError } from '../core/errors.ts';

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
  /** True for 408/409/429/5xx, timeouts and dropped connections. */
  readonly retryable: boolean;
  /** Attempts made, the failing one included. */
  readonly attempts: number;
  constructor(
    message: string,
    fields: {
      provider: string;
      modelId: string;
      status?: number | undefined;
      failure: ProviderFailure;
      retryable: boolean;
      attempts?: number;
      cause?: unknown;
    },
  ) {
    super(message, { cause: fields.cause });
    this.provider = fields.provider;
    this.modelId = fields.modelId;
    this.status = fields.status;
    this.failure = fields.failure;
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
      retryable: this.retryable,
      attempts,
      cause: this.cause,
    });
  }
}
