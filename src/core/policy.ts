/**
 * Governance policies: data, not code. Rules add effects (`allow`, `require-approval`, `deny`) to
 * tool calls by tool, risk class, agent, argument predicates and run facts. Evaluated outside the
 * model; the first matching deny wins over any allow or approval.
 */
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { RISK_CLASSES, type RiskClass } from './tool.ts';

const oneOrMany = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1)]);

const argPredicate = z
  .object({
    /** Dotted path into the validated arguments, e.g. `amount` or `refund.amount`. */
    path: z.string().min(1),
    op: z.enum(['gt', 'gte', 'lt', 'lte', 'eq', 'neq', 'in', 'exists']),
    value: z.unknown().optional(),
  })
  .strict();

export const policyRuleSchema = z
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
      })
      .strict(),
  })
  .strict();

export type PolicyRule = z.infer<typeof policyRuleSchema>;
export type PolicyEffect = PolicyRule['effect'];

/**
 * Validate policy rules from configuration; a wrong key or value fails with the path named.
 * @example
 * parsePolicies([{ id: 'big-refunds', effect: 'require-approval', reason: 'Refund over $100',
 *   match: { tool: 'process_refund', args: [{ path: 'amount', op: 'gt', value: 100 }] } }]);
 */
export function parsePolicies(raw: unknown): PolicyRule[] {
  const parsed = z.array(policyRuleSchema).safeParse(raw);
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

function holds(p: z.infer<typeof argPredicate>, args: unknown): boolean {
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
  return true;
}

/** Evaluate every rule: any deny → deny; else any require-approval → require-approval; else allow. */
export function evaluatePolicies(rules: readonly PolicyRule[], s: PolicySubject): PolicyDecision {
  const matched = rules.filter((r) => ruleMatches(r, s));
  const why = (r: PolicyRule): string => r.reason ?? `policy ${r.id}`;
  const deny = matched.find((r) => r.effect === 'deny');
  if (deny) return { effect: 'deny', reasons: [why(deny)], rules: [deny.id] };
  const approvals = matched.filter((r) => r.effect === 'require-approval');
  if (approvals.length)
    return { effect: 'require-approval', reasons: approvals.map(why), rules: approvals.map((r) => r.id) };
  return { effect: 'allow', reasons: [], rules: matched.map((r) => r.id) };
}
