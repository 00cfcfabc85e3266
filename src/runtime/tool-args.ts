/**
 * Tool-call arguments the model wrote that are not JSON: parsed, flagged and denied by the shared
 * output decisions (core/decisions/output.ts), re-exported here for the runtime's callers.
 */
export {
  argumentsDenial,
  replayedInput,
  toolCallInput,
  type ArgumentsError,
} from '../core/decisions/output.ts';
