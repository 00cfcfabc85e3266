/**
 * Governance policies: data, not code. Rules add effects (`allow`, `require-approval`, `deny`) to
 * tool calls by tool, risk class, agent, argument predicates and run facts. Evaluated outside the
 * model; the first matching deny wins over any allow or approval.
 */
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { RISK_CLASSES, type RiskClass } from './tool.ts';
import { lazy } from './lazy.ts';

const oneOrMany = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1)]);

/** The policy schemas, built on first use (a system with no policies never needs them). */
function policySchemas() {
  const argPredicate = z
    .object({
      /** Dotted path into the validated arguments, e.g. `amount` or `refund.amount`. */
      path: z.string().min(1),
      op: z.enum(['gt', 'gte', 'lt', 'lte', 'eq', 'neq', 'in', 'exists']),
      value: z.unknown().optional(),
    })
    .strict();

  /**
   * A condition over history: the calls this rule covers (same tool filters), grouped by argument
   * values (`per`), summed (`sum: 'amount'`) or counted, over the last `windowMs`, this call
   * included. Matches when that total is above `above`. Evaluated atomically by the policy ledger.
   */
  const historyMatch = z
    .object({
      /** Dotted argument path summed; omitted: calls are counted. */
      sum: z.string().min(1).optional(),
      /** Argument paths that group calls (`orderId`), or `$actor` for the run's actor; none: one group. */
      per: oneOrMany(z.string().min(1)).optional(),
      windowMs: z.number().int().positive(),
      above: z.number().min(0),
    })
    .strict();

  const rule = z
    .object({
      id: z.string().min(1),
      effect: z.enum(['allow', 'require-approval', 'deny']),
      /** Shown to approvers and the model. */
      reason: z.string().min(1).optional(),
      match: z
        .object({
          tool: oneOrMany(z.string().min(1)).optional(),
          risk: oneOrMany(z.enum(RISK_CLASSES)).optional(),
          agent: oneOrMany(z.string().min(1)).optional(),
          args: z.array(argPredicate).optional(),
          /** Matches when the run was routed with a confidence below this value. */
          routingConfidenceBelow: z.number().min(0).max(1).optional(),
          /** Matches when the caller's role (the gateway key's) is one of these. */
          callerRole: oneOrMany(z.string().min(1)).optional(),
          /** Matches when the caller's role is none of these (a run with no role matches). */
          callerRoleNot: oneOrMany(z.string().min(1)).optional(),
          /** Matches when a sum or count over earlier admitted calls in a window passes a limit. */
          history: historyMatch.optional(),
        })
        .strict(),
    })
    .strict();
  return { argPredicate, rule };
}
type PolicySchemas = ReturnType<typeof policySchemas>;
const policySchemasOf = lazy(policySchemas);

export type PolicyRule = z.infer<PolicySchemas['rule']>;
export type PolicyEffect = PolicyRule['effect'];

/**
 * Validate policy rules from configuration; a wrong key or value fails with the path named.
 * @example
 * parsePolicies([{ id: 'big-refunds', effect: 'require-approval', reason: 'Refund over $100',
 *   match: { tool: 'process_refund', args: [{ path: 'amount', op: 'gt', value: 100 }] } }]);
 */
export function parsePolicies(raw: unknown): PolicyRule[] {
  if (Array.isArray(raw) && raw.length === 0) return [];
  const parsed = z.array(policySchemasOf().rule).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = ['policies', ...(issue?.path ?? [])].join('.');
    throw new ConfigError(path, issue?.message ?? 'invalid policy');
  }
  const ids = new Set<string>();
  for (const r of parsed.data) {
    if (ids.has(r.id)) throw new ConfigError(`policies.${r.id}`, 'duplicate rule id');
    ids.add(r.id);
  }
  return parsed.data;
}

/** What a rule is evaluated against. */
export interface PolicySubject {
  tool: string;
  risk: RiskClass;
  agent: string;
  args: unknown;
  routingConfidence?: number;
  /** The caller's role, when the gateway authenticated one. */
  role?: string;
  /** The run's actor (for `history.per: '$actor'`). */
  actorId?: string;
}

export interface PolicyDecision {
  effect: PolicyEffect;
  /** Why, for approvers, the model and the journal. */
  reasons: string[];
  /** Ids of the rules that matched. */
  rules: string[];
}

const list = <T>(v: T | T[] | undefined): T[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v : [v];

function at(value: unknown, path: string): unknown {
  let cur = value;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function holds(p: z.infer<PolicySchemas['argPredicate']>, args: unknown): boolean {
  const v = at(args, p.path);
  switch (p.op) {
    case 'exists':
      return v !== undefined && v !== null;
    case 'eq':
      return v === p.value;
    case 'neq':
      return v !== p.value;
    case 'in':
      return Array.isArray(p.value) && p.value.includes(v);
    default: {
      if (typeof v !== 'number' || typeof p.value !== 'number') return false;
      if (p.op === 'gt') return v > p.value;
      if (p.op === 'gte') return v >= p.value;
      if (p.op === 'lt') return v < p.value;
      return v <= p.value;
    }
  }
}

export function ruleMatches(rule: PolicyRule, s: PolicySubject): boolean {
  const m = rule.match;
  if (list(m.tool) && !list(m.tool)?.includes(s.tool)) return false;
  if (list(m.risk) && !list(m.risk)?.includes(s.risk)) return false;
  if (list(m.agent) && !list(m.agent)?.includes(s.agent)) return false;
  if (m.args && !m.args.every((p) => holds(p, s.args))) return false;
  if (
    m.routingConfidenceBelow !== undefined &&
    !(s.routingConfidence !== undefined && s.routingConfidence < m.routingConfidenceBelow)
  ) {
    return false;
  }
  if (m.callerRole && !(s.role !== undefined && list(m.callerRole)?.includes(s.role))) return false;
  if (m.callerRoleNot && s.role !== undefined && list(m.callerRoleNot)?.includes(s.role)) return false;
  return true;
}

/** What one history rule asks of the policy ledger for one call. */
export interface HistoryCheck {
  rule: PolicyRule;
  /** The rule id and the grouping values. */
  key: string;
  /** What this call adds (NaN when the summed argument is not a number: the rule then matches). */
  amount: number;
  windowMs: number;
  above: number;
}

/**
 * The history rules whose other conditions match this call, with the ledger key and amount. The
 * engine reserves each atomically; a refused reservation makes the rule match.
 */
export function historyChecks(rules: readonly PolicyRule[], s: PolicySubject): HistoryCheck[] {
  const out: HistoryCheck[] = [];
  for (const rule of rules) {
    const h = rule.match.history;
    if (!h || !ruleMatches(rule, s)) continue;
    const group = (list(h.per) ?? []).map((p) =>
      p === '$actor' ? (s.actorId ?? null) : (at(s.args, p) ?? null),
    );
    const raw = h.sum === undefined ? 1 : at(s.args, h.sum);
    const amount = typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 ? raw : Number.NaN;
    out.push({
      rule,
      key: `${rule.id}|${JSON.stringify(group)}`,
      amount,
      windowMs: h.windowMs,
      above: h.above,
    });
  }
  return out;
}

/**
 * Evaluate every rule: any deny → deny; else any require-approval → require-approval; else allow.
 * A history rule matches only when its id is in `historyHits` (the ledger refused its reservation);
 * `historyReasons` says why, with the totals.
 */
export function evaluatePolicies(
  rules: readonly PolicyRule[],
  s: PolicySubject,
  historyHits: ReadonlyMap<string, string> = new Map(),
): PolicyDecision {
  const matched = rules.filter((r) => (r.match.history ? historyHits.has(r.id) : ruleMatches(r, s)));
  const why = (r: PolicyRule): string => {
    const base = r.reason ?? `policy ${r.id}`;
    const detail = historyHits.get(r.id);
    return detail ? `${base} (${detail})` : base;
  };
  const deny = matched.find((r) => r.effect === 'deny');
  if (deny) return { effect: 'deny', reasons: [why(deny)], rules: [deny.id] };
  const approvals = matched.filter((r) => r.effect === 'require-approval');
  if (approvals.length)
    return { effect: 'require-approval', reasons: approvals.map(why), rules: approvals.map((r) => r.id) };
  return { effect: 'allow', reasons: [], rules: matched.map((r) => r.id) };
}
