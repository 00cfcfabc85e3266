/** Commerce tools: order search, refunds, discount codes, payments. */
import { z } from 'zod';
import { defineTool } from '../../../src/core/tool.ts';
import { ToolError } from '../../../src/core/errors.ts';
import { money, toCents, toDollars } from '../db.ts';
import {
  type ToolEnv,
  customerRef,
  findCustomer,
  findOrder,
  nextId,
  type OrderRow,
  once,
  orderId,
  READ_RETRY,
  reconcileFrom,
  WRITE_RETRY,
} from './common.ts';

const ORDER_STATUSES = [
  'pending',
  'paid',
  'shipped',
  'delivered',
  'cancelled',
  'refunded',
  'partially_refunded',
] as const;

export function commerceTools(env: ToolEnv) {
  const { biz } = env;

  const searchOrders = defineTool({
    name: 'search_orders',
    description:
      'Search orders by order id or by customer, optionally filtered by status; returns items, totals, discounts and refunds, newest first.',
    input: z.object({
      orderId: orderId().optional(),
      customer: customerRef().optional(),
      status: z.enum(ORDER_STATUSES).optional().describe('Only orders in this status'),
      limit: z.number().int().min(1).max(20).default(5).describe('How many orders to return'),
    }),
    risk: 'read',
    idempotent: true,
    retry: READ_RETRY,
    domain: 'commerce',
    progress: 'Searching orders',
    examples: [
      'Show me order ORD-10042',
      'What are the recent orders of jane.cooper@example.com?',
      'List pending orders for CUS-0042',
      'What did I buy?',
    ],
    run: async ({ orderId: id, customer, status, limit }) => {
      const where: string[] = [];
      const params: string[] = [];
      if (id) {
        where.push('o.id = ?');
        params.push(id.toUpperCase());
      }
      if (customer) {
        where.push('o.customer_id = ?');
        params.push((await findCustomer(biz, customer)).id);
      }
      if (status) {
        where.push('o.status = ?');
        params.push(status);
      }
      if (where.length === 0) {
        throw new ToolError('give an order id or a customer to search orders', { retryable: false });
      }
      const rows = await biz.all<OrderRow>(
        `SELECT o.* FROM orders o WHERE ${where.join(' AND ')} ORDER BY o.created_at DESC, o.id DESC LIMIT ${limit}`,
        ...params,
      );
      const itemsOf = async (orderId: string) =>
        (
          await biz.all<{ name: string; quantity: number }>(
            'SELECT p.name, i.quantity FROM order_items i JOIN products p ON p.id = i.product_id WHERE i.order_id = ? ORDER BY p.name',
            orderId,
          )
        ).map((i) => `${i.quantity} × ${i.name}`);
      const orders = await Promise.all(
        rows.map(async (o) => ({
          orderId: o.id,
          customerId: o.customer_id,
          status: o.status,
          placedAt: o.created_at.slice(0, 10),
          total: toDollars(o.total_cents),
          discountCode: o.discount_code,
          refunded: toDollars(o.refunded_cents),
          items: await itemsOf(o.id),
        })),
      );
      const list = orders.map((o) => `${o.orderId} (${o.status}, ${money(toCents(o.total))}, ${o.placedAt})`);
      return {
        orders,
        summary: orders.length
          ? `Found ${orders.length} order(s): ${list.join('; ')}.`
          : 'No matching orders.',
      };
    },
  });

  // The runtime asks `requiresApproval` synchronously, hence the one synchronous read.
  const refundTotal = (id: string, amount: number | undefined): number => {
    if (amount !== undefined) return amount;
    const order = biz.getSync<{ total_cents: number; refunded_cents: number }>(
      'SELECT total_cents, refunded_cents FROM orders WHERE id = ?',
      id.toUpperCase(),
    );
    return order ? toDollars(order.total_cents - order.refunded_cents) : 0;
  };

  const processRefund = defineTool({
    name: 'process_refund',
    description: `Refund a paid order to the original payment method, fully or a given amount. Refunds over $${env.refundApprovalLimit} need a manager's approval.`,
    input: z.object({
      orderId: orderId(),
      amount: z
        .number()
        .positive()
        .optional()
        .describe('Amount to refund in dollars; the full remaining amount when absent'),
      reason: z.string().max(300).optional().describe('Why the customer is refunded'),
    }),
    risk: 'financial',
    idempotent: false,
    retry: WRITE_RETRY,
    domain: 'commerce',
    progress: (args) => `Processing a refund for order ${args.orderId}`,
    examples: [
      'Refund order ORD-10042',
      'Please refund $25 on ORD-10042, the item arrived late',
      'I want my money back for my last order',
    ],
    requiresApproval: ({ orderId: id, amount }) => {
      let total: number;
      try {
        total = refundTotal(id, amount);
      } catch (error) {
        // Unpriced is unapproved: when the balance cannot be read, a person decides.
        return `the refund on ${id} could not be priced (${(error as Error).message})`;
      }
      return total > env.refundApprovalLimit
        ? `refund of ${money(toCents(total))} exceeds the $${env.refundApprovalLimit} limit`
        : false;
    },
    // Policies over history add up what a refund really pays, also when it names no amount.
    policyArgs: ({ orderId: id, amount }) => {
      try {
        return { amount: refundTotal(id, amount) };
      } catch {
        return {};
      }
    },
    reconcile: reconcileFrom(biz),
    run: ({ orderId: id, amount, reason }, ctx) =>
      once(biz, 'process_refund', ctx, async (tx) => {
        const order = await findOrder(tx, id);
        if (!['paid', 'shipped', 'delivered', 'partially_refunded'].includes(order.status)) {
          throw new ToolError(`order ${order.id} is ${order.status} and cannot be refunded`, {
            retryable: false,
          });
        }
        const remaining = order.total_cents - order.refunded_cents;
        const cents = amount === undefined ? remaining : toCents(amount);
        if (cents > remaining) {
          throw new ToolError(
            `refund of ${money(cents)} exceeds the ${money(remaining)} left on ${order.id}`,
            {
              retryable: false,
            },
          );
        }
        const refundId = await nextId(tx, 'refunds', 'REF', 5);
        const status = cents === remaining ? 'refunded' : 'partially_refunded';
        await tx.run(
          "INSERT INTO refunds (id, order_id, amount_cents, reason, status, created_at, idempotency_key) VALUES (?,?,?,?,'issued',?,?)",
          refundId,
          order.id,
          cents,
          reason ?? 'customer request',
          biz.now().toISOString(),
          ctx.idempotencyKey,
        );
        await tx.run(
          'UPDATE orders SET refunded_cents = refunded_cents + ?, status = ? WHERE id = ?',
          cents,
          status,
          order.id,
        );
        return {
          refundId,
          orderId: order.id,
          amount: toDollars(cents),
          orderStatus: status,
          summary: `Refund ${refundId} of ${money(cents)} issued for order ${order.id}; it reaches the original payment method in 5-7 business days.`,
        };
      }),
  });

  const applyDiscount = defineTool({
    name: 'apply_discount',
    description:
      'Apply a discount code (coupon, promo or voucher code) to an unpaid order after checking it is active, unexpired and above its minimum order value.',
    input: z.object({
      orderId: orderId(),
      code: z
        .string()
        .regex(/^[A-Z]{3,9}\d{1,2}$/)
        .describe('Discount code, e.g. SAVE15'),
    }),
    risk: 'write',
    // Applying the same code to the same order twice changes nothing the second time.
    idempotent: true,
    retry: WRITE_RETRY,
    domain: 'commerce',
    progress: (args) => `Applying discount code ${args.code}`,
    examples: ['Apply code SAVE15 to order ORD-10042', 'Can I use the coupon WELCOME10 on my order?'],
    // Checked and applied under the write lock: two concurrent calls cannot both use the last code.
    run: ({ orderId: id, code }) =>
      biz.transaction(async (tx) => {
        const order = await findOrder(tx, id);
        if (order.discount_code === code) {
          return {
            orderId: order.id,
            code,
            applied: true,
            total: toDollars(order.total_cents),
            summary: `Code ${code} is already applied to ${order.id}; the total is ${money(order.total_cents)}.`,
          };
        }
        const row = await tx.get<{
          percent_off: number;
          min_order_cents: number;
          expires_at: string;
          active: number;
          max_uses: number;
          uses: number;
        }>('SELECT * FROM discount_codes WHERE code = ?', code);
        const refuse = (why: string) => ({
          orderId: order.id,
          code,
          applied: false,
          total: toDollars(order.total_cents),
          summary: `Code ${code} cannot be applied to ${order.id}: ${why}.`,
        });
        if (!row || !row.active) return refuse('the code does not exist or is inactive');
        if (row.expires_at < biz.now().toISOString())
          return refuse(`the code expired on ${row.expires_at.slice(0, 10)}`);
        if (row.uses >= row.max_uses) return refuse('the code has been used up');
        if (order.status !== 'pending') return refuse(`the order is already ${order.status}`);
        if (order.discount_code)
          return refuse(`code ${order.discount_code} is already applied (one code per order)`);
        if (order.subtotal_cents < row.min_order_cents)
          return refuse(`the order is below the ${money(row.min_order_cents)} minimum`);
        const discount = Math.round((order.subtotal_cents * row.percent_off) / 100);
        const total = order.subtotal_cents - discount;
        await tx.run(
          'UPDATE orders SET discount_code = ?, discount_cents = ?, total_cents = ? WHERE id = ?',
          code,
          discount,
          total,
          order.id,
        );
        await tx.run('UPDATE discount_codes SET uses = uses + 1 WHERE code = ?', code);
        return {
          orderId: order.id,
          code,
          applied: true,
          discount: toDollars(discount),
          total: toDollars(total),
          summary: `Code ${code} applied to ${order.id}: ${row.percent_off}% off (${money(discount)}); the new total is ${money(total)}.`,
        };
      }),
  });

  const processPayment = defineTool({
    name: 'process_payment',
    description:
      'Take payment for a pending order by card, bank transfer or PayPal. Every payment needs an approver before it is charged.',
    input: z.object({
      orderId: orderId(),
      method: z.enum(['card', 'bank_transfer', 'paypal']).default('card').describe('Payment method'),
    }),
    risk: 'financial',
    idempotent: false,
    retry: WRITE_RETRY,
    domain: 'commerce',
    progress: (args) => `Charging order ${args.orderId}`,
    examples: [
      'Pay for order ORD-10042 by card',
      'Charge my pending order ORD-10042 with paypal',
      'Take payment for this order',
    ],
    requiresApproval: ({ orderId: id }) => `every payment needs approval (order ${id})`,
    reconcile: reconcileFrom(biz),
    run: ({ orderId: id, method }, ctx) =>
      once(biz, 'process_payment', ctx, async (tx) => {
        const order = await findOrder(tx, id);
        if (order.status !== 'pending') {
          throw new ToolError(`order ${order.id} is ${order.status}, not awaiting payment`, {
            retryable: false,
          });
        }
        const paymentId = await nextId(tx, 'payments', 'PAY', 5);
        await tx.run(
          "INSERT INTO payments (id, order_id, amount_cents, method, status, created_at, idempotency_key) VALUES (?,?,?,?,'captured',?,?)",
          paymentId,
          order.id,
          order.total_cents,
          method,
          biz.now().toISOString(),
          ctx.idempotencyKey,
        );
        await tx.run("UPDATE orders SET status = 'paid' WHERE id = ?", order.id);
        return {
          paymentId,
          orderId: order.id,
          amount: toDollars(order.total_cents),
          method,
          summary: `Payment ${paymentId} of ${money(order.total_cents)} captured by ${method.replace('_', ' ')} for order ${order.id}.`,
        };
      }),
  });

  return { searchOrders, processRefund, applyDiscount, processPayment };
}
