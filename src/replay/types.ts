/** The shapes of a replay: what it runs against, and what it reports. */
import type { JournalEvent } from '../core/events.ts';
import type { PolicyRule } from '../core/policy.ts';
import type { AgentRouter, ToolRetriever } from '../core/routing-port.ts';
import type { AgentRuntime } from '../runtime/agents.ts';

/** What the replay runs against: the code's agents and routing (e.g. `replayConfigOf(system)`). */
export interface ReplayConfig {
  agents: ReadonlyMap<string, AgentRuntime>;
  router?: AgentRouter | undefined;
  retrievers?: ReadonlyMap<string, ToolRetriever> | undefined;
  defaultAgent?: string | undefined;
  /**
   * The governance rules calls are admitted under. Omitted: policies are not re-evaluated, and a
   * recorded approval or policy denial is served from the journal (with a note).
   */
  policies?: readonly PolicyRule[] | undefined;
  /**
   * Ask the model again for agents whose version differs from the recording (a changed
   * instruction, model or tool set). Off: every model output is served from the journal.
   */
  live?: boolean;
}

export type DivergenceKind =
  'route' | 'agent' | 'tools-shown' | 'model-request' | 'model-response' | 'tool-call' | 'decision' | 'child';

export interface Divergence {
  runId: string;
  /** The recorded event at which the code would do something else. */
  seq: number;
  /** The agent step (model call number) where it happens; 0 before the first model call. */
  step: number;
  kind: DivergenceKind;
  agent: string | null;
  recorded: unknown;
  replayed: unknown;
  message: string;
}

export interface RunReplay {
  runId: string;
  agent: string | null;
  status: string;
  eventsReplayed: number;
  eventsTotal: number;
  decisions: number;
  modelOutputsServed: number;
  modelCallsMade: number;
  toolOutputsServed: number;
  notes: string[];
  divergence: Divergence | null;
  children: RunReplay[];
}

/** Source of recorded journals (a store's journal, or a fixture's runs). */
export type JournalSource = (runId: string) => Promise<readonly JournalEvent[]>;
