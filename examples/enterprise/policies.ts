/**
 * Governance of the reference system, as data. The refund limit holds over history: refunds on
 * one order, and refunds to one customer, add up over 24 hours, so $99 four times is $396, not
 * four refunds under $100. Exporting every customer's personal data needs an operator (or admin)
 * key, or an approver's decision.
 */
import type { PolicyRule } from '../../src/core/policy.ts';
import { DEFAULT_REFUND_APPROVAL_LIMIT } from './tools/index.ts';

const DAY = 24 * 3600_000;

/** The reference system's policies (`policies` of switchboard.config.ts and createEnterpriseSystem). */
export function enterprisePolicies(refundApprovalLimit = DEFAULT_REFUND_APPROVAL_LIMIT): PolicyRule[] {
  return [
    {
      id: 'refunds-per-order-24h',
      effect: 'require-approval',
      reason: `refunds on one order above $${refundApprovalLimit} in 24 h need a manager's approval`,
      match: {
        tool: 'process_refund',
        history: { sum: 'amount', per: 'orderId', windowMs: DAY, above: refundApprovalLimit },
      },
    },
    {
      id: 'refunds-per-customer-24h',
      effect: 'require-approval',
      reason: `refunds to one customer above $${refundApprovalLimit * 3} in 24 h need a manager's approval`,
      match: {
        tool: 'process_refund',
        history: { sum: 'amount', per: '$actor', windowMs: DAY, above: refundApprovalLimit * 3 },
      },
    },
    {
      id: 'export-customer-personal-data',
      effect: 'require-approval',
      reason: "exporting every customer's personal data needs an operator, or an approval",
      match: {
        tool: 'export_data',
        args: [{ path: 'dataset', op: 'eq', value: 'customers' }],
        callerRoleNot: ['operator', 'admin'],
      },
    },
  ];
}
