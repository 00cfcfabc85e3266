/**
 * Deployments, the pure part: the strategy grammar, the plan of weights it gives, the alarms that
 * compare a new version's figures with the old one's, and `decideDeployment` — given a deployment
 * record, the time and the figures, the one next thing the driver does (runtime/deployments.ts is
 * a thin loop around it). No I/O, no clock: the time is passed in.
 *
 * Everything the decision needs is in the record's steps: the phase is the last step that moved
 * it, bake timers start at the `at` of the last `shifted` step and stop while paused. So a driver
 * in another process resumes a deployment at the same step, with the same remaining bake time.
 */
import { parseDuration } from './duration.ts';
import { UserError } from './errors.ts';

/** How a deployment moves traffic. */
export type Strategy =
  | { kind: 'all-at-once' }
  | { kind: 'canary'; pct: number; bakeMs: number }
  | { kind: 'linear'; pct: number; everyMs: number }
  | { kind: 'shadow'; pct: number; durationMs: number };

/** The strategy grammar, named in every error about one. */
export const STRATEGY_GRAMMAR =
  'all-at-once | canary:<pct>:<bake> | linear:<pct>:<every> | shadow:<pct>:<duration> (pct an integer 1..100; durations such as 30s, 5m, 1h)';

/** Alarm thresholds; `null` turns one off. Rates are absolute increases, the rest ratios. */
export interface AlarmThresholds {
  errorRate: number | null;
  toolErrorRate: number | null;
  escalationRate: number | null;
  denialRate: number | null;
  p95LatencyRatio: number | null;
  costPerRunRatio: number | null;
}

/** `deployments.validation`: replay recorded runs against the new version, and/or a routing suite. */
export interface ValidationOptions {
  replay: { runs: number; maxDivergenceRate: number } | false;
  suite?: string;
}

/** `deployments` as resolved (every default applied). */
export interface ResolvedDeploymentOptions {
  evaluateEveryMs: number;
  leaseMs: number;
  minRuns: number;
  alarms: AlarmThresholds;
  validation: ValidationOptions;
  source?: string;
}

/** `deployments` as configured: every key optional. */
export interface DeploymentOptions {
  evaluateEveryMs?: number;
  leaseMs?: number;
  minRuns?: number;
  alarms?: Partial<AlarmThresholds>;
  validation?: { replay?: Partial<{ runs: number; maxDivergenceRate: number }> | false; suite?: string };
  source?: string;
}

/** The defaults of `deployments.*` (config.ts DEFAULTS.deployments). */
export const DEPLOYMENT_DEFAULTS = {
  evaluateEveryMs: 1_000,
  leaseMs: 10_000,
  minRuns: 10,
  alarms: {
    errorRate: 0.1,
    toolErrorRate: 0.1,
    escalationRate: 0.1,
    denialRate: 0.1,
    p95LatencyRatio: 2,
    costPerRunRatio: 2,
  },
  validation: { replay: { runs: 20, maxDivergenceRate: 0.2 } },
} as const;

/** A p95 latency alarm also needs the new version at least this much slower, in ms. */
export const P95_MIN_INCREASE_MS = 250;

/** Apply the defaults to configured deployment options. */
export function resolveDeploymentOptions(o: DeploymentOptions = {}): ResolvedDeploymentOptions {
  const d = DEPLOYMENT_DEFAULTS;
  const replay = o.validation?.replay;
  return {
    evaluateEveryMs: o.evaluateEveryMs ?? d.evaluateEveryMs,
    leaseMs: o.leaseMs ?? d.leaseMs,
    minRuns: o.minRuns ?? d.minRuns,
    alarms: { ...d.alarms, ...o.alarms },
    validation: {
      replay: replay === false ? false : { ...d.validation.replay, ...replay },
      ...(o.validation?.suite !== undefined ? { suite: o.validation.suite } : {}),
    },
    ...(o.source !== undefined ? { source: o.source } : {}),
  };
}

const bad = (text: string, why: string): UserError =>
  new UserError(`strategy "${text}": ${why}; expected ${STRATEGY_GRAMMAR}`, 'strategy');

function pctOf(text: string, raw: string): number {
  if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > 100)
    throw bad(text, `percentage "${raw}" is not an integer from 1 to 100`);
  return Number(raw);
}

function durationOf(text: string, raw: string): number {
  let ms: number;
  try {
    ms = parseDuration(raw);
  } catch {
    throw bad(text, `"${raw}" is not a duration`);
  }
  if (!Number.isFinite(ms)) throw bad(text, `"${raw}" is not a duration`);
  return ms;
}

/** Parse a strategy (`canary:10:5m`, …); a {@link UserError} naming the grammar otherwise. */
export function parseStrategy(text: string): Strategy {
  if (typeof text !== 'string') throw bad(String(text), 'not a string');
  const t = text.trim();
  if (t === 'all-at-once') return { kind: 'all-at-once' };
  const parts = t.split(':');
  const [kind, pct, time] = parts;
  if (parts.length !== 3 || (kind !== 'canary' && kind !== 'linear' && kind !== 'shadow'))
    throw bad(text, 'unknown form');
  const p = pctOf(text, pct ?? '');
  const ms = durationOf(text, time ?? '');
  if (kind === 'canary') return { kind, pct: p, bakeMs: ms };
  if (kind === 'linear') return { kind, pct: p, everyMs: ms };
  if (ms <= 0) throw bad(text, 'a shadow needs a duration above 0');
  return { kind, pct: p, durationMs: ms };
}

/**
 * Parse `v1=90,v2=10`: integer weights ≥ 0 summing to 100, each version once and in `known`
 * (the agent's published labeled versions) when given. A {@link UserError} (`weights`) otherwise.
 */
export function parseWeights(text: string, known?: ReadonlySet<string>): Record<string, number> {
  const out: Record<string, number> = {};
  const usage = 'write <version>=<weight>[,<version>=<weight>], integer weights summing to 100';
  if (typeof text !== 'string' || text.trim() === '')
    throw new UserError(`weights are empty: ${usage}`, 'weights');
  for (const part of text.split(',')) {
    const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]{0,39})\s*=\s*(\d{1,3})\s*$/.exec(part);
    if (!m) throw new UserError(`weights: "${part.trim()}" is not <version>=<weight>: ${usage}`, 'weights');
    const [, version = '', weight = '0'] = m;
    if (version in out) throw new UserError(`weights: version ${version} is given twice`, 'weights');
    out[version] = Number(weight);
  }
  return checkWeights(out, known);
}

/** Check a weights object (`{ v1: 90, v2: 10 }`) by the rules of {@link parseWeights}. */
export function checkWeights(
  weights: Readonly<Record<string, unknown>>,
  known?: ReadonlySet<string>,
): Record<string, number> {
  if (typeof weights !== 'object' || weights === null || Array.isArray(weights))
    throw new UserError('weights must be an object of version → integer weight', 'weights');
  let sum = 0;
  for (const [version, w] of Object.entries(weights)) {
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 100)
      throw new UserError(`weights: ${version} must be an integer from 0 to 100`, 'weights');
    if (known && !known.has(version))
      throw new UserError(
        `weights: ${version} is not a published labeled version (only labeled versions (defineAgent version) can take weighted traffic)`,
        'weights',
      );
    sum += w;
  }
  if (sum !== 100) throw new UserError(`weights sum to ${sum}, not 100`, 'weights');
  return { ...(weights as Record<string, number>) };
}

/** One shift of a plan: the alias's weights after it, and how long to bake before the next. */
export interface PlanShift {
  weights: Record<string, number>;
  /** Share of the new version after the shift (%). */
  pct: number;
  bakeMs: number;
}

/** Weights with `pct`% on `to` and the rest on `from` (100% drops `from`). */
export function splitWeights(from: string, to: string, pct: number): Record<string, number> {
  return pct >= 100 ? { [to]: 100 } : { [from]: 100 - pct, [to]: pct };
}

/** The shifts of a strategy, in order; a shadow has none (it never changes weights). */
export function planOf(strategy: Strategy, from: string, to: string): PlanShift[] {
  const shift = (pct: number, bakeMs: number): PlanShift => ({
    weights: splitWeights(from, to, pct),
    pct,
    bakeMs,
  });
  switch (strategy.kind) {
    case 'all-at-once':
      return [shift(100, 0)];
    case 'canary':
      return strategy.pct >= 100
        ? [shift(100, strategy.bakeMs)]
        : [shift(strategy.pct, strategy.bakeMs), shift(100, 0)];
    case 'linear': {
      const out: PlanShift[] = [];
      for (let p = strategy.pct; ; p += strategy.pct) {
        out.push(shift(Math.min(p, 100), strategy.everyMs));
        if (p >= 100) return out;
      }
    }
    case 'shadow':
      return [];
  }
}

/** What a version did over a window (telemetry/version-figures.ts computes it). */
export interface Figures {
  runs: number;
  finished: number;
  completed: number;
  failed: number;
  escalated: number;
  errorRate: number;
  toolErrorRate: number;
  escalationRate: number;
  denialRate: number;
  p95LatencyMs: number;
  costPerRun: number;
  tokensPerRun: number;
}

/** The new and the old version's figures over the same window. */
export interface FigurePair {
  new: Figures;
  old: Figures;
  /** Window start (ms); the old figures may come from its last runs when it has too few there. */
  since: number;
  oldBasis: 'window' | 'last-runs';
}

export type AlarmName = keyof AlarmThresholds | 'version_not_served';

/** One alarm that tripped: the figures on each side and the threshold. */
export interface TrippedAlarm {
  alarm: AlarmName;
  new: number;
  old: number;
  threshold: number;
  reason: string;
}

const RATE_ALARMS = ['errorRate', 'toolErrorRate', 'escalationRate', 'denialRate'] as const;

const pct1 = (x: number): string => `${(x * 100).toFixed(1)}%`;

/**
 * Compare the new version with the old. Nothing is judged before the new version has `minRuns`
 * finished runs in the window (`judged: false`). Rates trip on an absolute increase above the
 * threshold; p95 latency on a ratio (and at least {@link P95_MIN_INCREASE_MS} more); cost per run
 * on a ratio. Ratios need old figures to compare with.
 */
export function evaluateAlarms(
  pair: Pick<FigurePair, 'new' | 'old'>,
  alarms: AlarmThresholds,
  minRuns: number,
): { judged: boolean; tripped: TrippedAlarm[] } {
  const n = pair.new;
  const o = pair.old;
  if (n.finished < Math.max(1, minRuns)) return { judged: false, tripped: [] };
  const tripped: TrippedAlarm[] = [];
  for (const name of RATE_ALARMS) {
    const threshold = alarms[name];
    if (threshold === null) continue;
    if (n[name] - o[name] > threshold)
      tripped.push({
        alarm: name,
        new: n[name],
        old: o[name],
        threshold,
        reason: `${name} ${pct1(n[name])} vs ${pct1(o[name])} (more than +${pct1(threshold)})`,
      });
  }
  const lat = alarms.p95LatencyRatio;
  if (
    lat !== null &&
    o.finished > 0 &&
    n.p95LatencyMs > o.p95LatencyMs * lat &&
    n.p95LatencyMs - o.p95LatencyMs >= P95_MIN_INCREASE_MS
  )
    tripped.push({
      alarm: 'p95LatencyRatio',
      new: n.p95LatencyMs,
      old: o.p95LatencyMs,
      threshold: lat,
      reason: `p95 latency ${n.p95LatencyMs} ms vs ${o.p95LatencyMs} ms (more than ×${lat})`,
    });
  const cost = alarms.costPerRunRatio;
  if (cost !== null && o.finished > 0 && o.costPerRun > 0 && n.costPerRun > o.costPerRun * cost)
    tripped.push({
      alarm: 'costPerRunRatio',
      new: n.costPerRun,
      old: o.costPerRun,
      threshold: cost,
      reason: `cost per run $${n.costPerRun.toFixed(6)} vs $${o.costPerRun.toFixed(6)} (more than ×${cost})`,
    });
  return { judged: true, tripped };
}

/** The part of a deployment record the decision reads (store/deployment-port.ts DeploymentRecord). */
export interface DeploymentLike {
  from: string;
  to: string;
  strategy: string;
  status: 'in_progress' | 'paused' | 'succeeded' | 'rolled_back' | 'failed';
  steps: readonly { at: number; weights: Record<string, number>; decision: string; reason: string }[];
  state: Record<string, unknown>;
}

/** The one next thing a driver does with a deployment. */
export type DeploymentAction =
  | { kind: 'validate'; phase: 'pre' | 'post' }
  | { kind: 'shift'; index: number; shift: PlanShift }
  | { kind: 'baked'; index: number; shift: PlanShift }
  | { kind: 'shadow-start' }
  | { kind: 'shadow-finish' }
  | { kind: 'alarm'; tripped: TrippedAlarm[]; figures: FigurePair }
  | { kind: 'rollback'; reason: string }
  | { kind: 'succeed' }
  | { kind: 'fail'; reason: string }
  | { kind: 'wait'; until: number | null; reason: string };

/** Decisions that only record an operator's or the clock's pause: they never change the phase. */
const CLOCK_DECISIONS = new Set(['paused', 'resumed']);

/** Where a deployment stands, read from its steps. */
export interface DeploymentPhase {
  /** The last step that moved the phase (not `paused`/`resumed`). */
  last: string;
  /** How many plan shifts were written. */
  shifts: number;
  /** When the current bake (or shadow) window began: the last `shifted`/`promoted`/`shadow_started` step. */
  windowAt: number | null;
}

/** Read the phase of a deployment from its steps. */
export function phaseOf(d: Pick<DeploymentLike, 'steps'>): DeploymentPhase {
  let last = 'started';
  let shifts = 0;
  let windowAt: number | null = null;
  for (const s of d.steps) {
    if (CLOCK_DECISIONS.has(s.decision)) continue;
    last = s.decision;
    if (s.decision === 'shifted') shifts += 1;
    if (s.decision === 'shifted' || s.decision === 'promoted' || s.decision === 'shadow_started')
      windowAt = s.at;
  }
  return { last, shifts, windowAt };
}

/** Time a window has run at `now`, the paused spans after `since` left out (pause stops the clock). */
export function elapsedSince(d: Pick<DeploymentLike, 'steps'>, since: number, now: number): number {
  let paused = 0;
  let pausedAt: number | null = null;
  for (const s of d.steps) {
    if (s.at < since) continue;
    if (s.decision === 'paused' && pausedAt === null) pausedAt = s.at;
    if (s.decision === 'resumed' && pausedAt !== null) {
      paused += s.at - pausedAt;
      pausedAt = null;
    }
  }
  if (pausedAt !== null) paused += now - pausedAt;
  return Math.max(0, now - since - paused);
}

/**
 * The window the alarms judge now (since the last shift that gave the new version traffic), or
 * null when there is nothing to judge (no traffic yet, or the deployment is over).
 */
export function judgeWindow(d: DeploymentLike): number | null {
  if (d.status !== 'in_progress' && d.status !== 'paused') return null;
  const p = phaseOf(d);
  if (p.last !== 'shifted' && p.last !== 'baked' && p.last !== 'promoted') return null;
  return p.windowAt;
}

/**
 * The next action of a deployment at `now`. `figures` are the new and old versions' figures over
 * {@link judgeWindow} (null when not computed); `alarms`/`minRuns` judge them.
 */
export function decideDeployment(
  d: DeploymentLike,
  now: number,
  figures: FigurePair | null,
  o: { alarms: AlarmThresholds; minRuns: number; evaluateEveryMs: number },
): DeploymentAction {
  if (d.status !== 'in_progress' && d.status !== 'paused')
    return { kind: 'wait', until: null, reason: `deployment ${d.status}` };
  const strategy = parseStrategy(d.strategy);
  const plan = planOf(strategy, d.from, d.to);
  const p = phaseOf(d);
  // Alarms roll back even while paused: pausing stops the clock, never the watch.
  if (figures && judgeWindow(d) !== null) {
    const verdict = evaluateAlarms(figures, o.alarms, o.minRuns);
    if (verdict.tripped.length > 0) return { kind: 'alarm', tripped: verdict.tripped, figures };
  }
  if (p.last === 'alarm') return { kind: 'rollback', reason: 'alarm' };
  if (p.last === 'validation_failed')
    return p.shifts > 0 || d.steps.some((s) => s.decision === 'promoted')
      ? { kind: 'rollback', reason: 'post-traffic validation failed' }
      : { kind: 'fail', reason: 'pre-traffic validation failed' };
  if (p.last === 'post_validated' || p.last === 'shadow_finished') return { kind: 'succeed' };
  const tick = now + o.evaluateEveryMs;
  if (d.status === 'paused') return { kind: 'wait', until: tick, reason: 'paused' };
  if (strategy.kind === 'shadow') {
    if (p.last !== 'shadow_started') return { kind: 'shadow-start' };
    const left = strategy.durationMs - elapsedSince(d, p.windowAt ?? now, now);
    if (left <= 0) return { kind: 'shadow-finish' };
    return { kind: 'wait', until: Math.min(now + left, tick), reason: 'shadowing' };
  }
  if (p.last === 'started') return { kind: 'validate', phase: 'pre' };
  if (p.last === 'promoted') return { kind: 'validate', phase: 'post' };
  if (p.last === 'validated' || p.last === 'baked') {
    const next = plan[p.shifts];
    return next ? { kind: 'shift', index: p.shifts, shift: next } : { kind: 'validate', phase: 'post' };
  }
  if (p.last === 'shifted') {
    const current = plan[p.shifts - 1];
    if (!current) return { kind: 'validate', phase: 'post' };
    const left = current.bakeMs - elapsedSince(d, p.windowAt ?? now, now);
    if (left <= 0)
      return current.bakeMs > 0
        ? { kind: 'baked', index: p.shifts - 1, shift: current }
        : plan[p.shifts]
          ? { kind: 'shift', index: p.shifts, shift: plan[p.shifts] as PlanShift }
          : { kind: 'validate', phase: 'post' };
    return { kind: 'wait', until: Math.min(now + left, tick), reason: `baking ${current.pct}%` };
  }
  return { kind: 'fail', reason: `unexpected step ${p.last}` };
}
