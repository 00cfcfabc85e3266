/** A thrown value as journaled error data: name, code, message and the error's own fields. */
import type { ErrorData } from '../core/events.ts';

/** Unscrubbed: the engine journals `engine.errorOf(error)`, which scrubs secrets. */
export const errorData = (error: unknown): ErrorData => {
  if (error instanceof Error) {
    const details: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(error)) {
      if (!['cause', 'stack', 'name', 'code', 'message'].includes(k)) details[k] = v;
    }
    const own = (error as { code?: unknown }).code;
    const code = typeof own === 'string' ? own : 'error';
    return {
      name: error.name,
      code,
      message: error.message,
      ...(Object.keys(details).length ? { details } : {}),
    };
  }
  return { name: 'Error', code: 'error', message: String(error) };
};
