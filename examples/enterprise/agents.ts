/**
 * The enterprise support desk: four narrow agents over the 18 business tools, each with one
 * responsibility, 4–5 tools and declared delegations.
 */
import { enterprisePolicies } from './policies.ts';
import { join } from 'node:path';
import type { LanguageModelV4 } from '@ai-sdk/provider';
import { createSqliteStore, createSystem, defineAgent } from '../../src/index.ts';
import type { AgentDefinition, ConfigContext, Store, System, SystemOptions } from '../../src/index.ts';
import { createOfflineModel } from '../../src/models/offline.ts';
import {
  openBusinessDb,
  openPostgresBusinessDb,
  resetBusinessDb,
  type BusinessDb,
  type OpenBusinessDbOptions,
} from './db.ts';
import { createEnterpriseTools } from './tools/index.ts';

export interface EnterpriseAgentsOptions {
  /** Where CSV exports are written. */
  exportDir: string;
  refundApprovalLimit?: number;
}

/**
 * Define the support, commerce, operations and engagement agents over a business database.
 * @example
 * const agents = createEnterpriseAgents(openBusinessDb('biz.db'), { exportDir: 'exports' });
 */
export function createEnterpriseAgents(biz: BusinessDb, options: EnterpriseAgentsOptions): AgentDefinition[] {
  const tools = createEnterpriseTools(biz, options);
  const support = defineAgent({
    name: 'support',
    responsibility:
      'Front desk for customer accounts: customer lookup and identity verification, support tickets, help-centre answers and escalation to humans.',
    instructions: [
      'You are the support desk of an online retailer. Identify the customer (lookup_customer) before acting on an account,',
      'and verify identity (verify_identity) before any account change. Answer policy questions from the knowledge base.',
      'Open a ticket for problems that need follow-up; escalate to a human for legal threats, abuse or anything out of policy.',
      'Orders, refunds, discounts and payments belong to commerce; parcels, stock and reports to operations;',
      'emails, calls, feedback and translation to engagement — delegate those.',
    ].join(' '),
    tools: tools.support,
    delegates: ['commerce', 'operations', 'engagement'],
    examples: [
      'Look up the account of jane.cooper@example.com',
      'Find the customer account of Omar Haddad',
      'Who is customer CUS-0042?',
      'What is your return policy?',
      'How do I reset my password?',
      'How long do refunds take to arrive?',
      'Is there a warranty on your products?',
      'Do you ship internationally?',
      'I want to open a complaint about a broken kettle',
      'Open a support ticket for CUS-0042: the blender is defective',
      'I want to talk to a manager',
      'I will sue you, get me a human now',
      'Escalate ticket TCK-5012 to a specialist',
      'Verify my identity, my date of birth is 1985-04-12',
      'Authenticate customer jane.cooper@example.com with postcode 62701',
      'Please verify the identity of this customer, postcode 53703',
      'Look up the customer and show their loyalty tier',
    ],
    budget: { maxDelegationDepth: 2 },
  });
  const commerce = defineAgent({
    name: 'commerce',
    responsibility: 'Orders and money: order search, refunds, discount codes and payments.',
    instructions: [
      'You handle orders and money. Find orders with search_orders. Refund only paid orders, never more than was paid;',
      'large refunds and every payment wait for an approver — tell the customer so. One discount code per unpaid order.',
      'For parcel tracking delegate to operations; for confirmation emails delegate to engagement.',
    ].join(' '),
    tools: tools.commerce,
    delegates: ['operations', 'engagement'],
    examples: [
      'Refund order ORD-10042',
      'I want my money back for order ORD-10042',
      'Please refund $25 on ORD-10042, the item arrived damaged',
      'I want a refund',
      'Show my recent orders',
      'Show me order ORD-10042',
      'What did jane.cooper@example.com buy recently?',
      'List the pending orders of CUS-0042',
      'Apply discount code SAVE15 to ORD-10042',
      'Can I use the coupon WELCOME10 on my order?',
      'Pay for order ORD-10042 by card',
      'Take payment for ORD-10042 with paypal',
      'Charge my pending order by bank transfer',
      'Refund my last order',
      'The promo code did not work on my order',
    ],
  });
  const operations = defineAgent({
    name: 'operations',
    responsibility:
      'Logistics and back office: where a parcel or order delivery is (shipment tracking, carrier, delivery dates), product inventory and stock, business reports and CSV data exports.',
    instructions: [
      'You handle parcels, stock and reporting. Track shipments by order id or tracking number; the carrier API is flaky,',
      'so a retry is normal. Check stock by SKU or product name. Generate reports and export data to CSV when asked.',
    ].join(' '),
    tools: tools.operations,
    examples: [
      'Where is my order ORD-10042?',
      'Where is my parcel?',
      'Track TRK-AB12CD34',
      'When will my package be delivered?',
      'Has my order shipped yet?',
      'Is the Aurora Desk Lamp in stock?',
      'How many units of SKU-1042 are in the warehouse?',
      'Which products are low in stock?',
      'Generate a sales report for May',
      'Make a report of support tickets',
      'Give me the refunds report',
      'Export all customers to CSV',
      'Download the orders data as a CSV file',
      'Do you have the Cedar Kettle in stock?',
      'Is this product available or out of stock?',
      'How many units of SKU-1042 are left?',
      'Track my delivery, has it shipped?',
    ],
  });
  const engagement = defineAgent({
    name: 'engagement',
    responsibility:
      'Customer communication: emails, booking calls with a representative, feedback and ratings, sentiment of messages and translation.',
    instructions: [
      'You handle customer communication. Send emails through send_email (they queue in the outbox), book calls in free',
      'calendar slots, record feedback with its rating, read the sentiment of messages and translate short texts.',
      'Translation and sentiment here are small deterministic implementations; say so if asked.',
    ].join(' '),
    tools: tools.engagement,
    examples: [
      'Email jane.cooper@example.com that her parcel has shipped',
      'Send an email to the customer saying the replacement is on its way',
      'Book a call for CUS-0042 on 2025-06-04',
      'Schedule a call with a representative',
      'I would like an appointment with someone',
      'I want to leave feedback: 5 stars',
      'Rate your service 4 out of 5',
      'Translate "thank you for your order" into spanish',
      'Translate this message to english',
      'Is this message angry?',
      'What is the sentiment of this review?',
      'Translate "merci beaucoup" to english',
      'Leave feedback for customer CUS-0042, "great service"',
      'Give us 3 stars',
      'Email the customer a confirmation',
    ],
  });
  return [support, commerce, operations, engagement];
}

/** Paths the enterprise example uses under a data directory. */
export function enterprisePaths(dataDir: string) {
  return {
    businessDb: join(dataDir, 'business.db'),
    store: join(dataDir, 'switchboard.db'),
    exports: join(dataDir, 'exports'),
  };
}

/** Open (creating and seeding on first use) the business database under `dataDir`. */
export function openEnterpriseBusiness(dataDir: string, options: OpenBusinessDbOptions = {}): BusinessDb {
  return openBusinessDb(enterprisePaths(dataDir).businessDb, options);
}

/** Every enterprise agent shows the model its best few tools per step (tool retrieval). */
export function withToolRetrieval(agents: AgentDefinition[], topK = 5): AgentDefinition[] {
  return agents.map((a) => ({ ...a, toolRetrieval: { enabled: true, topK, pinned: [] } }));
}

/** Routing of the reference system. */
export const ENTERPRISE_ROUTING = {
  // Calibrated on the agents' routing examples (leave-one-out) and fixed off-topic requests, never
  // on the scenarios that score it: `node examples/enterprise/routing-calibration.ts` (a test
  // checks that this is the value it gives).
  threshold: 0.47,
  // A narrow agent's catalog is small: always show its best few tools rather than abstain.
  toolThreshold: 0,
} as const;

/**
 * The agents of the reference system for one process: the business data follows Switchboard's
 * store (SQLite file in the data directory, or schema `<schema>_business` on PostgreSQL).
 */
export async function enterpriseAgents(ctx: ConfigContext): Promise<AgentDefinition[]> {
  const paths = enterprisePaths(ctx.dataDir);
  const business =
    ctx.store.kind === 'postgres'
      ? await openPostgresBusinessDb({
          url: ctx.store.url,
          schema: `${ctx.store.schema}_business`,
          reset: ctx.reset,
        })
      : ctx.reset
        ? resetBusinessDb(paths.businessDb)
        : openBusinessDb(paths.businessDb);
  ctx.onClose(() => business.close());
  return withToolRetrieval(createEnterpriseAgents(business, { exportDir: paths.exports }));
}

export interface EnterpriseSystemOptions {
  /** Holds business.db, switchboard.db (unless a store is given) and exports/. */
  dataDir: string;
  /** The agents' model; the offline model (no LLM) when absent. */
  model?: LanguageModelV4;
  store?: Store;
  /** Recreate the business database from its seed first. */
  reset?: boolean;
  /** Tools shown per model step besides pinned ones (tool retrieval); default 5. */
  toolsShown?: number;
  /** Adjust the agent definitions before the system is built (e.g. a worker's `--concurrency`). */
  transformAgents?: (agents: AgentDefinition[]) => AgentDefinition[];
  /** Passed through to createSystem (clock, leases, faults, …). */
  system?: Partial<Omit<SystemOptions, 'agents' | 'model' | 'store'>>;
}

export interface EnterpriseSystem {
  system: System;
  business: BusinessDb;
  agents: AgentDefinition[];
  paths: ReturnType<typeof enterprisePaths>;
}

/**
 * The enterprise support desk as a running Switchboard system in code (tests, benchmarks): business
 * data seeded on first use, four agents, the agent router and a tool retriever per agent — the
 * same system `switchboard.config.ts` describes.
 * @example
 * const { system } = createEnterpriseSystem({ dataDir: '.switchboard' });
 * await system.start();
 * const { runId } = await system.submit({ actorId: 'u1', sessionId: 's1', input: 'Where is ORD-10042?' });
 * console.log((await system.wait(runId)).output);
 */
export { enterprisePolicies };

export function createEnterpriseSystem(options: EnterpriseSystemOptions): EnterpriseSystem {
  const paths = enterprisePaths(options.dataDir);
  const business = options.reset ? resetBusinessDb(paths.businessDb) : openBusinessDb(paths.businessDb);
  const defined = withToolRetrieval(
    createEnterpriseAgents(business, { exportDir: paths.exports }),
    options.toolsShown ?? 5,
  );
  const agents = options.transformAgents ? options.transformAgents(defined) : defined;
  const system = createSystem({
    ...options.system,
    agents,
    model: options.model ?? createOfflineModel(),
    store: options.store ?? createSqliteStore({ path: paths.store }),
    dataDir: options.dataDir,
    routerThreshold: ENTERPRISE_ROUTING.threshold,
    toolThreshold: ENTERPRISE_ROUTING.toolThreshold,
    policies: [...enterprisePolicies(), ...(options.system?.policies ?? [])],
  });
  return { system, business, agents, paths };
}
