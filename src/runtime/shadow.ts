/**
 * Shadow runs (issue 18): placeholder hooks placed by the engine (H3). H6 replaces this file with
 * the implementation: spawning shadow runs at a live run's end, serving recorded tool results to a
 * shadow run's calls, and giving a shadow run its live run's memory.
 */
import type { CallState, RunState } from '../core/run-state.ts';
import type { Commit, Store } from '../store/ports.ts';
import type { Engine } from './engine.ts';
import type { RunHandle } from './handle.ts';

/** The parts of a live run's final commit that create its shadow run, or null (none is due). */
export function shadowSpawnParts(_engine: Engine, _state: RunState): Promise<Partial<Commit> | null> {
  return Promise.resolve(null);
}

/** A shadow run's tool call: served from the live run's record, or denied as a divergence. */
export function performShadowCall(
  _engine: Engine,
  _h: RunHandle,
  _call: CallState,
  _attempt: number,
): Promise<void> {
  return Promise.reject(new Error('shadow runs are not implemented yet'));
}

/** A shadow run's memory: a copy of what its live run loaded; nothing is persisted. */
export function shadowMemory(_engine: Engine, _h: RunHandle): Promise<void> {
  return Promise.resolve();
}

/** The shadow report of a shadow deployment (DeploymentView.shadow), or null when it has none. */
export function shadowReportOf(_store: Store, _deploymentId: string): Promise<unknown> {
  return Promise.resolve(null);
}
