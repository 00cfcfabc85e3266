/** Operations tools: shipment tracking, inventory, reports, CSV exports. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { defineTool } from '../../../src/core/tool.ts';
import { ToolError } from '../../../src/core/errors.ts';
import { money } from '../db.ts';
import { type ToolEnv, ISO_DATE, READ_RETRY, SHIPMENT_REF } from './common.ts';
import { toCsv } from './csv.ts';
import { stem, words } from './support.ts';

interface ShipmentRow {
  id: string;
  order_id: string;
  carrier: string;
  tracking_number: string;
  status: string;
  shipped_at: string;
  eta: string;
  last_location: string;
  carrier_failures_remaining: number;
}

const REPORTS = ['sales', 'refunds', 'inventory', 'tickets', 'shipping'] as const;
const DATASETS = [
  'orders',
  'customers',
  'products',
  'tickets',
  'refunds',
  'feedback',
  'escalations',
] as const;

export function operationsTools(env: ToolEnv) {
  const { biz } = env;

  const trackShipment = defineTool({
    name: 'track_shipment',
    description:
      'Track the shipping status of a delivery with the carrier by order id or tracking number: where the parcel is, carrier and estimated delivery date.',
    input: z.object({
      reference: z
        .string()
        .regex(SHIPMENT_REF)
        .describe('Order id (ORD-10042) or tracking number (TRK-AB12CD34)'),
    }),
    risk: 'read',
    idempotent: true,
    // The carrier API is flaky: retry quickly, a few times.
    retry: { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 2000, factor: 2 },
    domain: 'operations',
    progress: 'Checking the parcel with the carrier',
    examples: [
      'Where is my order ORD-10042?',
      'Track parcel TRK-AB12CD34',
      'When will my package arrive?',
      'Has my delivery shipped yet?',
    ],
    run: async ({ reference }) => {
      const ref = reference.toUpperCase();
      const row = ref.startsWith('ORD-')
        ? await biz.get<ShipmentRow>('SELECT * FROM shipments WHERE order_id = ?', ref)
        : await biz.get<ShipmentRow>('SELECT * FROM shipments WHERE tracking_number = ?', ref);
      if (!row) {
        if (ref.startsWith('ORD-')) {
          const order = await biz.get<{ status: string }>('SELECT status FROM orders WHERE id = ?', ref);
          if (!order) throw new ToolError(`no order ${ref}`, { retryable: false });
          return {
            orderId: ref,
            shipped: false,
            summary: `Order ${ref} has not shipped yet (it is ${order.status}).`,
          };
        }
        throw new ToolError(`no shipment with tracking number ${ref}`, { retryable: false });
      }
      if (row.carrier_failures_remaining > 0) {
        // The seeded flaky carrier: the first lookup times out, the retry succeeds.
        await biz.run(
          'UPDATE shipments SET carrier_failures_remaining = carrier_failures_remaining - 1 WHERE id = ?',
          row.id,
        );
        throw new ToolError(`${row.carrier} tracking API timed out`, { retryable: true });
      }
      const status = row.status.replaceAll('_', ' ');
      return {
        orderId: row.order_id,
        trackingNumber: row.tracking_number,
        carrier: row.carrier,
        status: row.status,
        lastLocation: row.last_location,
        eta: row.eta,
        summary:
          row.status === 'delivered'
            ? `Order ${row.order_id} was delivered by ${row.carrier} (tracking ${row.tracking_number}).`
            : `Order ${row.order_id} is ${status} with ${row.carrier} (tracking ${row.tracking_number}), last seen at ${row.last_location}; estimated delivery ${row.eta}.`,
      };
    },
  });

  const checkInventory = defineTool({
    name: 'check_inventory',
    description:
      'Check product inventory: stock level, warehouse and price of a product by SKU or product name, or list items low in stock.',
    input: z.object({
      product: z.string().min(2).describe('Product SKU (SKU-1042), product name, or "low stock"'),
    }),
    risk: 'read',
    idempotent: true,
    retry: READ_RETRY,
    domain: 'operations',
    progress: 'Checking stock levels',
    examples: [
      'Is the Aurora Desk Lamp in stock?',
      'How many units of SKU-1042 do we have?',
      'Which products are low in stock?',
    ],
    run: async ({ product }) => {
      type Product = {
        id: string;
        name: string;
        category: string;
        price_cents: number;
        stock: number;
        reorder_level: number;
        warehouse: string;
      };
      const describe = (p: Product) => ({
        sku: p.id,
        name: p.name,
        stock: p.stock,
        warehouse: p.warehouse,
        price: p.price_cents / 100,
        status: p.stock === 0 ? 'out_of_stock' : p.stock < p.reorder_level ? 'low_stock' : 'in_stock',
      });
      const sku = /\bSKU-\d{4}\b/i.exec(product)?.[0];
      const all = await biz.all<Product>('SELECT * FROM products ORDER BY id');
      if (!sku && /\blow (?:in |on )?stock\b|\bout of stock\b|\breorder\b|\brunning low\b/i.test(product)) {
        const low = all
          .filter((p) => p.stock < p.reorder_level)
          .sort((a, b) => a.stock - b.stock || a.id.localeCompare(b.id));
        return {
          products: low.slice(0, 10).map(describe),
          lowStockCount: low.length,
          summary: `${low.length} products are below their reorder level; the lowest: ${low
            .slice(0, 5)
            .map((p) => `${p.name} (${p.id}, ${p.stock} left)`)
            .join(', ')}.`,
        };
      }
      let match: Product | undefined;
      if (sku) match = all.find((p) => p.id === sku.toUpperCase());
      else {
        const q = product.toLowerCase();
        match = all.find((p) => q.includes(p.name.toLowerCase()));
        if (!match) {
          const qw = new Set(words(product).map(stem));
          match = all
            .map((p) => ({
              p,
              n: words(p.name)
                .map(stem)
                .filter((w) => qw.has(w)).length,
            }))
            .filter((s) => s.n > 0)
            .sort((a, b) => b.n - a.n)[0]?.p;
        }
      }
      if (!match) throw new ToolError(`no product matches "${product}"`, { retryable: false });
      const d = describe(match);
      return {
        products: [d],
        summary:
          d.status === 'out_of_stock'
            ? `${d.name} (${d.sku}) is out of stock in the ${d.warehouse} warehouse; restocks usually take 2 weeks.`
            : `${d.name} (${d.sku}): ${d.stock} in stock in the ${d.warehouse} warehouse at ${money(match.price_cents)}${d.status === 'low_stock' ? ' (low stock)' : ''}.`,
      };
    },
  });

  const generateReport = defineTool({
    name: 'generate_report',
    description:
      'Generate a business report with totals and breakdowns: sales revenue, refunds, inventory, support tickets or shipping performance, for an optional date range.',
    input: z.object({
      report: z.enum(REPORTS).describe('Which report'),
      from: z.string().regex(ISO_DATE).optional().describe('Start date YYYY-MM-DD (inclusive)'),
      to: z.string().regex(ISO_DATE).optional().describe('End date YYYY-MM-DD (inclusive)'),
    }),
    risk: 'read',
    idempotent: true,
    retry: READ_RETRY,
    domain: 'operations',
    progress: (args) => `Generating the ${args.report} report`,
    examples: [
      'Generate a sales report for 2025-05-01 to 2025-05-31',
      'Give me the refunds report',
      'How are support tickets trending? Make a tickets report',
    ],
    run: async ({ report, from, to }) => {
      const lo = from ?? '0000-01-01';
      const hi = `${to ?? '9999-12-31'}T23:59:59.999Z`;
      const range = from || to ? ` from ${from ?? 'the start'} to ${to ?? 'today'}` : '';
      const q = (sql: string) => biz.all<Record<string, string | number>>(sql, lo, hi);
      switch (report) {
        case 'sales': {
          const rows = await q(
            'SELECT status, count(*) AS orders, sum(total_cents) AS cents FROM orders WHERE created_at BETWEEN ? AND ? GROUP BY status ORDER BY status',
          );
          const revenue = rows
            .filter((r) => r.status !== 'cancelled' && r.status !== 'pending')
            .reduce((s, r) => s + Number(r.cents), 0);
          const count = rows.reduce((s, r) => s + Number(r.orders), 0);
          return {
            report,
            rows,
            summary: `Sales report${range}: ${count} orders, revenue ${money(revenue)}.`,
          };
        }
        case 'refunds': {
          const rows = await q(
            'SELECT count(*) AS refunds, coalesce(sum(amount_cents), 0) AS cents FROM refunds WHERE created_at BETWEEN ? AND ?',
          );
          const r = rows[0] ?? { refunds: 0, cents: 0 };
          return {
            report,
            rows,
            summary: `Refunds report${range}: ${r.refunds} refunds totalling ${money(Number(r.cents))}.`,
          };
        }
        case 'inventory': {
          // CASE, not a summed comparison: PostgreSQL booleans do not add up.
          const rows = await biz.all<Record<string, number | string>>(
            'SELECT category, count(*) AS products, sum(stock) AS units, sum(CASE WHEN stock < reorder_level THEN 1 ELSE 0 END) AS low FROM products GROUP BY category ORDER BY category',
          );
          const low = rows.reduce((s, r) => s + Number(r.low), 0);
          return {
            report,
            rows,
            summary: `Inventory report: ${rows.length} categories, ${low} products below reorder level.`,
          };
        }
        case 'tickets': {
          const rows = await q(
            'SELECT status, count(*) AS tickets FROM tickets WHERE created_at BETWEEN ? AND ? GROUP BY status ORDER BY status',
          );
          const parts = rows.map((r) => `${r.tickets} ${r.status}`).join(', ');
          return { report, rows, summary: `Tickets report${range}: ${parts || 'no tickets'}.` };
        }
        case 'shipping': {
          const rows = await q(
            'SELECT status, count(*) AS shipments FROM shipments WHERE shipped_at BETWEEN ? AND ? GROUP BY status ORDER BY status',
          );
          const parts = rows.map((r) => `${r.shipments} ${String(r.status).replaceAll('_', ' ')}`).join(', ');
          return { report, rows, summary: `Shipping report${range}: ${parts || 'no shipments'}.` };
        }
      }
    },
  });

  const exportData = defineTool({
    name: 'export_data',
    description:
      'Export a dataset (orders, customers, products, tickets, refunds, feedback, escalations) to a CSV file.',
    input: z.object({
      dataset: z.enum(DATASETS).describe('Which table to export'),
    }),
    risk: 'write',
    // The file name derives from the idempotency key: a repeat overwrites the same file.
    idempotent: true,
    retry: READ_RETRY,
    domain: 'operations',
    progress: (args) => `Exporting ${args.dataset} to CSV`,
    examples: ['Export all customers to CSV', 'Download the orders as a CSV file', 'Export the refunds data'],
    run: async ({ dataset }, ctx) => {
      const rows = await biz.all(`SELECT * FROM ${dataset} ORDER BY 1`);
      const columns = Object.keys(rows[0] ?? {}).filter((c) => c !== 'idempotency_key');
      mkdirSync(env.exportDir, { recursive: true });
      // The result names the file inside the export directory, never the server's path to it.
      const file = `${dataset}-${ctx.idempotencyKey.replace(/[^A-Za-z0-9_-]/g, '_')}.csv`;
      // Cells are escaped against formula injection: a customer named "=HYPERLINK(…)" stays text.
      writeFileSync(join(env.exportDir, file), toCsv(columns, rows));
      return {
        dataset,
        rows: rows.length,
        file,
        summary: `Exported ${rows.length} ${dataset} rows to ${file}.`,
      };
    },
  });

  return { trackShipment, checkInventory, generateReport, exportData };
}
