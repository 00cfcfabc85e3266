/**
 * Named fault-injection points at commit boundaries. Disabled unless the composition root passes a
 * spec (from `SWITCHBOARD_FAULTS`); when a point fires, the process dies at once with SIGKILL — no
 * cleanup, no flush — exactly like a power cut at that boundary.
 *
 * Spec: `seed=<n>,p=<probability>[,points=a|b]` fires each listed (default: every) point with
 * probability p from a seeded PRNG.
 */
import { ConfigError } from '../core/errors.ts';
import { mulberry32 } from '../core/random.ts';
export const FAULT_POINTS = [
  'afterSubmitCommit',
  'afterModelBeforeJournal',
  'afterToolStartedCommit',
  'afterToolBeforeJournal',
  'afterOutcomeCommit',
  'afterDelegationCommit',
  'beforeFinalCommit',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export interface Faults {
  hit(point: FaultPoint): void;
}

export const noFaults: Faults = { hit: () => {} };

/** The seeded PRNG of fault schedules (re-exported for tests and the chaos harness). */
export { mulberry32 };

/** Parse a fault spec; throws on a malformed one so a typo never silently disables chaos. */
export function parseFaults(
  spec: string | undefined,
  kill: () => void = () => process.kill(process.pid, 'SIGKILL'),
): Faults {
  if (!spec) return noFaults;
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const [k, v] = part.split('=');
    if (!k || v === undefined) throw new ConfigError('SWITCHBOARD_FAULTS', `malformed part "${part}"`);
    fields.set(k.trim(), v.trim());
  }
  for (const k of fields.keys()) {
    if (!['seed', 'p', 'points'].includes(k))
      throw new ConfigError('SWITCHBOARD_FAULTS', `unknown key "${k}"`);
  }
  const seed = Number(fields.get('seed') ?? '1');
  const p = Number(fields.get('p') ?? '0.05');
  if (!Number.isFinite(seed) || !(p >= 0 && p <= 1))
    throw new ConfigError('SWITCHBOARD_FAULTS', 'seed must be a number, p in [0,1]');
  const listed = fields.get('points')?.split('|') ?? [...FAULT_POINTS];
  for (const point of listed) {
    if (!(FAULT_POINTS as readonly string[]).includes(point))
      throw new ConfigError('SWITCHBOARD_FAULTS', `unknown point "${point}"`);
  }
  const enabled = new Set(listed);
  const random = mulberry32(seed);
  return {
    hit(point) {
      if (enabled.has(point) && random() < p) kill();
    },
  };
}
