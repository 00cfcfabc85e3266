/**
 * The one place where errors become HTTP: every route and middleware throws, and
 * {@link errorResponse} turns the error into `{ error: { code, message, details? } }` with a status.
 */
import {
  BudgetExceededError,
  ConflictError,
  NotFoundError,
  SwitchboardError,
  UserError,
} from '../core/errors.ts';
import { createScrubber, scrubText, scrubThrown } from '../core/scrub.ts';

/** An error raised by the gateway itself (authentication, limits, routing), carrying its status. */
export class HttpError extends SwitchboardError {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    code: string,
    message: string,
    options: { details?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

/** The body of every error answer. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export interface MappedError {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

const scrubber = createScrubber();
// No error answer carries a credential, whatever the error quotes (core/scrub.ts).
const body = (code: string, message: string, details?: Record<string, unknown>): ErrorBody => ({
  error: {
    code,
    message: scrubText(message),
    ...(details ? { details: scrubber.value(details) as Record<string, unknown> } : {}),
  },
});

/**
 * Map any thrown value to a status and an error body. Unknown errors are 500 with a generic message:
 * internals never leak to callers (they are reported through `onInternal`).
 */
export function mapError(error: unknown, onInternal?: (error: unknown) => void): MappedError {
  if (error instanceof HttpError) {
    return {
      status: error.status,
      body: body(error.code, error.message, error.details),
      headers: error.headers,
    };
  }
  if (error instanceof UserError) {
    return {
      status: 400,
      body: body(error.code, error.message, error.field ? { field: error.field } : undefined),
      headers: {},
    };
  }
  if (error instanceof NotFoundError)
    return { status: 404, body: body(error.code, error.message), headers: {} };
  if (error instanceof ConflictError)
    return { status: 409, body: body(error.code, error.message, { reason: error.reason }), headers: {} };
  if (error instanceof BudgetExceededError) {
    return {
      status: 422,
      body: body(error.code, error.message, { budget: error.budget, limit: error.limit, used: error.used }),
      headers: {},
    };
  }
  // By code rather than class: permission errors come from modules that may add subclasses.
  if (error instanceof SwitchboardError && error.code === 'forbidden')
    return { status: 403, body: body(error.code, error.message), headers: {} };
  onInternal?.(scrubThrown(scrubber, error));
  return { status: 500, body: body('internal', 'internal error'), headers: {} };
}

/** A 404 that says nothing about whether the thing exists for someone else. */
export const notFound = (what: string): HttpError => new HttpError(404, 'not_found', `${what} not found`);

/** A 400 naming the offending field. */
export const badRequest = (field: string, message: string, extra: Record<string, unknown> = {}): HttpError =>
  new HttpError(400, 'bad_request', `${field}: ${message}`, { details: { field, ...extra } });
