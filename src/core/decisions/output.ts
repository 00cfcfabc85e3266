/**
 * What a model's answer says, decided once for the engine and for replay: its text, and its tool
 * calls with their arguments parsed. Tool-call arguments the model wrote that are not JSON (output
 * cut at the token limit, plain text where JSON belongs — small models do this often) are kept raw
 * and flagged: the call is denied saying what was wrong, with the model's own text quoted once, and
 * replayed to the model with empty arguments, because a provider SDK would JSON-encode the raw
 * string a second time.
 */
import type { ToolCallData } from '../events.ts';

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

/** The parts of a model answer that matter here (a provider's content parts are wider). */
export type OutputPart =
  | { type: 'text'; text: string }
  | { type: 'tool-call'; toolCallId: string; toolName: string; input: string }
  | { type: string };

/** A model answer as journaled in `model.responded`: its text and its tool calls. */
export interface ModelOutput {
  text: string;
  toolCalls: ToolCallData[];
}

/**
 * Read a model answer. Call ids are `s<step>c<n>`, unique within the run; only an answer without
 * tool calls is the run's final answer.
 * @example
 * parseModelOutput([{ type: 'tool-call', toolCallId: 'x', toolName: 'lookup', input: '{}' }], 'tool-calls', 1);
 * // { text: '', toolCalls: [{ callId: 's1c1', modelCallId: 'x', toolName: 'lookup', input: {} }] }
 */
export function parseModelOutput(
  content: readonly OutputPart[],
  finishReason: string,
  step: number,
): ModelOutput {
  let text = '';
  const toolCalls: ToolCallData[] = [];
  for (const part of content) {
    if (isText(part)) text += part.text;
    else if (isToolCall(part)) {
      toolCalls.push({
        callId: `s${step}c${toolCalls.length + 1}`,
        modelCallId: part.toolCallId,
        toolName: part.toolName,
        ...toolCallInput(part.input, finishReason),
      });
    }
  }
  return { text, toolCalls };
}

const isText = (p: OutputPart): p is { type: 'text'; text: string } => p.type === 'text';
const isToolCall = (p: OutputPart): p is Extract<OutputPart, { type: 'tool-call' }> => p.type === 'tool-call';

/** JSON with sorted keys: argument comparison independent of key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}
