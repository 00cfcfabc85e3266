/**
 * Policies over history at admission: each history rule that covers a call asks the policy ledger
 * to check and reserve atomically (store/ledger-port.ts). Admitted: the amount is counted and the
 * rule does not match. Refused: the rule matches (approval or deny), with the totals in its reason.
 *
 * What counts: a call that goes ahead — reserved at admission, or recorded unconditionally when an
 * approved call is dispatched. A call that does not go ahead (another rule denies it, or it waits
 * for approval) releases its reservations at once; a call that fails for good releases them with
 * its outcome. A retried or re-admitted call reuses its reservation (same id), never counts twice.
 */
import { createHash } from 'node:crypto';
import { historyChecks, type PolicyRule, type PolicySubject } from '../core/policy.ts';
import type { CallState } from '../core/run-state.ts';
import type { PolicyLedger } from '../store/ledger-port.ts';
import type { RunHandle } from './handle.ts';

/** What admission over history needs of the engine (the engine itself is passed). */
interface HistoryEngine {
  readonly opts: { readonly policies: readonly PolicyRule[]; readonly ledger?: PolicyLedger };
  readonly store: { now(): number };
}

/**
 * The ledger holds a digest of the grouping values (order ids, customer ids, actor ids), never the
 * values: nothing personal stays in it, so erasing an actor need not — and does not — reset the
 * limits that actor's calls count towards.
 */
const ledgerKey = (ruleId: string, key: string): string =>
  `${ruleId}|${createHash('sha256').update(key).digest('base64url')}`;

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/**
 * Reserve this call under every history rule that covers it; returns the rules that match (their
 * reservation was refused) with why. `approved`: the call was approved, so it is recorded, not judged.
 */
export async function admitHistory(
  engine: HistoryEngine,
  h: RunHandle,
  c: CallState,
  subject: PolicySubject,
  approved: boolean,
): Promise<Map<string, string>> {
  const hits = new Map<string, string>();
  const checks = historyChecks(engine.opts.policies, subject);
  if (checks.length === 0) return hits;
  const ledger = engine.opts.ledger;
  const now = engine.store.now();
  for (const check of checks) {
    const where = check.key.slice(check.rule.id.length + 1);
    if (!ledger || Number.isNaN(check.amount)) {
      // Fail closed: without a ledger, or with nothing to add up, the rule cannot say "within limits".
      if (!approved)
        hits.set(
          check.rule.id,
          ledger ? `${check.rule.match.history?.sum} is not a number` : 'no policy ledger',
        );
      continue;
    }
    const verdict = await ledger.reserve({
      id: `${h.runId}:${c.call.callId}:${check.rule.id}`,
      key: ledgerKey(check.rule.id, check.key),
      amount: check.amount,
      limit: approved ? null : check.above,
      since: now - check.windowMs,
      now,
      runId: h.runId,
      callId: c.call.callId,
    });
    if (!verdict.admitted) {
      const what = check.rule.match.history?.sum ? `${check.rule.match.history.sum} totals` : 'calls number';
      hits.set(
        check.rule.id,
        `${what} ${fmt(verdict.total)} for ${where} within ${fmt(check.windowMs / 3_600_000)} h, over ${fmt(check.above)}`,
      );
    }
  }
  return hits;
}

/** The call did not go ahead, or failed for good: it no longer counts. */
export async function releaseHistory(engine: HistoryEngine, h: RunHandle, c: CallState): Promise<void> {
  if (!engine.opts.ledger || !engine.opts.policies.some((r) => r.match.history)) return;
  await engine.opts.ledger.release(h.runId, c.call.callId);
}
