/**
 * The engine's pure decisions, shared with replay so the two cannot drift: the route of a run, the
 * tools shown at a step, whether a call may go ahead, and what a model answer says. No store, no
 * clock, no I/O: inputs are plain data (run state, agent, policies, the model's output).
 */
export { chooseRoute, type RouteChoice, type RouteConfig, type RouteSubject } from './route.ts';
export { retrievalQuery, retrieverOf, stepTools, type StepTools } from './retrieval.ts';
export {
  admitCall,
  decideCall,
  governCall,
  governedOf,
  policySubject,
  type AdmissionAgent,
  type Admitted,
  type BuiltinInputs,
  type CallDecision,
  type CallInput,
  type CallSubject,
  type DelegationArgs,
  type Denied,
  type EscalationArgs,
  type GovernedTool,
  type HistoryLookup,
} from './admission.ts';
export {
  argumentsDenial,
  canonical,
  parseModelOutput,
  replayedInput,
  toolCallInput,
  type ArgumentsError,
  type ModelOutput,
  type OutputPart,
} from './output.ts';
