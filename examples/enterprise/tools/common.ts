/** Shared pieces of the enterprise tools: id patterns, row lookups and exactly-once effects. */
import { z } from 'zod';
import type { BusinessDb, BusinessQueries, BusinessTx } from '../db.ts';
import type { ReconcileResult, ToolContext } from '../../../src/core/tool.ts';
import { ToolError } from '../../../src/core/errors.ts';

/** What every tool factory receives. */
export interface ToolEnv {
  biz: BusinessDb;
  /** Where `export_data` writes CSV files. */
  exportDir: string;
  /** Refunds above this many dollars wait for an approver. */
  refundApprovalLimit: number;
}

// Identifier formats. They are also the JSON-schema `pattern`s, which is how a model (the offline
// one included) learns what an order id looks like.
export const ORDER_ID = /^ORD-\d{5}$/;
export const CUSTOMER_ID = /^CUS-\d{4}$/;
export const TICKET_ID = /^TCK-\d{4,}$/;
export const CUSTOMER_REF = /^(?:CUS-\d{4}|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})$/;
export const SHIPMENT_REF = /^(?:ORD-\d{5}|TRK-[A-Z0-9]{8})$/;
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export const orderId = () => z.string().regex(ORDER_ID).describe('Order id, e.g. ORD-10042');
export const customerRef = () =>
  z.string().regex(CUSTOMER_REF).describe('Customer id (e.g. CUS-0042) or the customer email address');

export interface CustomerRow {
  id: string;
  name: string;
  email: string;
  phone: string;
  tier: string;
  language: string;
  city: string;
  postcode: string;
  date_of_birth: string;
  verified_at: string | null;
}

export interface OrderRow {
  id: string;
  customer_id: string;
  status: string;
  created_at: string;
  subtotal_cents: number;
  discount_code: string | null;
  discount_cents: number;
  total_cents: number;
  refunded_cents: number;
}

/** Find a customer by id or email; a ToolError (not retryable) when there is none. */
export async function findCustomer(q: BusinessQueries, ref: string): Promise<CustomerRow> {
  // lower() on both sides: the portable spelling of SQLite's COLLATE NOCASE for ASCII emails.
  const row = ref.includes('@')
    ? await q.get<CustomerRow>('SELECT * FROM customers WHERE lower(email) = lower(?)', ref.trim())
    : await q.get<CustomerRow>('SELECT * FROM customers WHERE id = ?', ref.trim().toUpperCase());
  if (!row) throw new ToolError(`no customer matches ${ref}`, { retryable: false });
  return row;
}

export async function findOrder(q: BusinessQueries, id: string): Promise<OrderRow> {
  const row = await q.get<OrderRow>('SELECT * FROM orders WHERE id = ?', id.trim().toUpperCase());
  if (!row) throw new ToolError(`no order ${id}`, { retryable: false });
  return row;
}

/** The result an earlier call with this idempotency key recorded, if any. */
export async function recordedResult<T>(q: BusinessQueries, key: string): Promise<T | undefined> {
  const row = await q.get<{ result: string }>(
    'SELECT result FROM tool_results WHERE idempotency_key = ?',
    key,
  );
  return row ? (JSON.parse(row.result) as T) : undefined;
}

/**
 * Apply a side effect exactly once per idempotency key: a repeat returns the first result. The
 * effect and its recorded result commit in one transaction, so a crash leaves both or neither —
 * which is what lets `reconcile` answer truthfully.
 */
export async function once<T>(
  biz: BusinessDb,
  tool: string,
  ctx: ToolContext,
  effect: (tx: BusinessTx) => Promise<T>,
): Promise<T> {
  const earlier = await recordedResult<T>(biz, ctx.idempotencyKey);
  if (earlier !== undefined) return earlier;
  return biz.transaction(async (tx) => {
    // Checked again under the write lock: a concurrent call with the same key may have committed
    // between the look above and the lock, and then this one must not apply the effect again.
    const raced = await recordedResult<T>(tx, ctx.idempotencyKey);
    if (raced !== undefined) return raced;
    const result = await effect(tx);
    await tx.run(
      'INSERT INTO tool_results (idempotency_key, tool, result, created_at) VALUES (?,?,?,?)',
      ctx.idempotencyKey,
      tool,
      JSON.stringify(result),
      biz.now().toISOString(),
    );
    return result;
  });
}

/** The `reconcile` hook shared by effectful tools: applied iff a result was recorded under the key. */
export const reconcileFrom =
  (biz: BusinessDb) =>
  async (key: string): Promise<ReconcileResult> => {
    const result = await recordedResult<unknown>(biz, key);
    return result === undefined ? { status: 'not-applied' } : { status: 'applied', result };
  };

/** Next id of the form PREFIX-000123 for a table whose ids share the prefix (call it under the write lock). */
export async function nextId(
  q: BusinessQueries,
  table: string,
  prefix: string,
  width: number,
  start = 0,
): Promise<string> {
  const row = await q.get<{ id: string }>(
    `SELECT id FROM ${table} WHERE id LIKE ? ORDER BY length(id) DESC, id DESC LIMIT 1`,
    `${prefix}-%`,
  );
  const last = row ? Number(row.id.slice(prefix.length + 1)) : start;
  return `${prefix}-${String(last + 1).padStart(width, '0')}`;
}

/** Retry policy for tools that only read: a couple of quick retries. */
export const READ_RETRY = { maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 1000, factor: 2 };
/** Retry policy for effectful tools: they honour idempotency keys, so retrying is safe. */
export const WRITE_RETRY = { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 2000, factor: 2 };
