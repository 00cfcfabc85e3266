/**
 * `switchboard/testing`: what users need to test their own agents — scripted and policy models,
 * in-memory store, a manual clock.
 */
export { scriptedModel, policyModel, toolResults, userText } from './models/scripted.ts';
export type { ScriptedModel, ScriptedResponse, RecordedCall, PolicyInput } from './models/scripted.ts';
export { createMemoryStore } from './store/memory/store.ts';
export { manualClock } from './testing/clock.ts';
export type { ManualClock } from './testing/clock.ts';
