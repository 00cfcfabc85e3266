/**
 * Tool-call arguments the model wrote that are not JSON. Small models do this often: output cut
 * at the token limit (`finish_reason: length`) in the middle of the arguments, or plain text where
 * JSON belongs. Such a call is journaled with its raw text and flagged; it is denied saying what
 * was wrong, with the model's own text quoted once — and replayed to the model with empty
 * arguments, because a provider SDK would JSON-encode the raw string a second time.
 */
import type { ToolCallData } from '../core/events.ts';

/** Why a call's arguments could not be used: not JSON at all, or cut off by the output cap. */
export type ArgumentsError = NonNullable<ToolCallData['argumentsError']>;

/** Most of the model's own text quoted back in a denial. */
const QUOTE_CHARS = 2000;

/**
 * The input of a tool call from its raw argument text: parsed JSON, or the raw text with the
 * reason it is unusable (`cut-off` when the answer ended at the output cap).
 * @example
 * toolCallInput('{"id":"A', 'length'); // { input: '{"id":"A', argumentsError: 'cut-off' }
 */
export function toolCallInput(
  raw: string,
  finishReason: string,
): { input: unknown; argumentsError?: ArgumentsError } {
  if (raw.trim() === '') return { input: {} };
  try {
    return { input: JSON.parse(raw) as unknown };
  } catch {
    return { input: raw, argumentsError: finishReason === 'length' ? 'cut-off' : 'not-json' };
  }
}

/** The denial a flagged call gets: what was wrong, and the model's text as it wrote it. */
export function argumentsDenial(call: ToolCallData, error: ArgumentsError): string {
  const raw = typeof call.input === 'string' ? call.input : JSON.stringify(call.input);
  const quoted = raw.length > QUOTE_CHARS ? `${raw.slice(0, QUOTE_CHARS)}… (${raw.length} characters)` : raw;
  const why =
    error === 'cut-off'
      ? 'were cut off: your reply reached its output token limit before the JSON was complete'
      : 'were not valid JSON';
  return `The arguments of ${call.toolName} ${why}. You wrote:\n${quoted}\nCall ${call.toolName} again with its arguments as one complete JSON object.`;
}

/** The input to replay to the model for a call: empty arguments for a flagged one (see above). */
export const replayedInput = (call: ToolCallData): unknown => (call.argumentsError ? {} : call.input);
