/** The 18 enterprise tools, built over one business database. */
import type { AnyTool } from '../../../src/core/tool.ts';
import type { BusinessDb } from '../db.ts';
import type { ToolEnv } from './common.ts';
import { commerceTools } from './commerce.ts';
import { engagementTools } from './engagement.ts';
import { operationsTools } from './operations.ts';
import { supportTools } from './support.ts';

export type { ToolEnv } from './common.ts';

/** Refunds above this many dollars wait for an approver unless configured otherwise. */
export const DEFAULT_REFUND_APPROVAL_LIMIT = 100;

export interface EnterpriseToolsOptions {
  exportDir: string;
  refundApprovalLimit?: number;
}

/**
 * Build every enterprise tool over `biz`, grouped by the agent that owns them.
 * @example
 * const tools = createEnterpriseTools(openBusinessDb(':memory:'), { exportDir: '/tmp/exports' });
 * tools.commerce.map((t) => t.name); // ['search_orders', 'process_refund', 'apply_discount', 'process_payment']
 */
export function createEnterpriseTools(biz: BusinessDb, options: EnterpriseToolsOptions) {
  const env: ToolEnv = {
    biz,
    exportDir: options.exportDir,
    refundApprovalLimit: options.refundApprovalLimit ?? DEFAULT_REFUND_APPROVAL_LIMIT,
  };
  const s = supportTools(env);
  const c = commerceTools(env);
  const o = operationsTools(env);
  const e = engagementTools(env);
  const support: AnyTool[] = [
    s.lookupCustomer,
    s.verifyIdentity,
    s.createTicket,
    s.searchKnowledgeBase,
    s.escalate,
  ];
  const commerce: AnyTool[] = [c.searchOrders, c.processRefund, c.applyDiscount, c.processPayment];
  const operations: AnyTool[] = [o.trackShipment, o.checkInventory, o.generateReport, o.exportData];
  const engagement: AnyTool[] = [
    e.sendEmail,
    e.scheduleMeeting,
    e.collectFeedback,
    e.analyzeSentiment,
    e.translateText,
  ];
  return {
    support,
    commerce,
    operations,
    engagement,
    all: [...support, ...commerce, ...operations, ...engagement],
  };
}
