/**
 * The enterprise business data on both backends: the same seed gives the same rows on SQLite and
 * PostgreSQL, every tool gives the same results on both, seeding and idempotency keys hold across
 * concurrent callers, and odd text is treated alike. PostgreSQL is required: unreachable is a failure.
 */
import { test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { AnyTool, ToolContext } from '../../src/core/tool.ts';
import { ToolError } from '../../src/core/errors.ts';
import { dropPostgresSchemas } from '../../src/store/postgres/admin.ts';
import {
  type BusinessDb,
  businessStats,
  DEFAULT_SEED,
  openBusinessDb,
  openPostgresBusinessDb,
  schemaSql,
} from '../../examples/enterprise/db.ts';
import { toPositional } from '../../examples/enterprise/db-postgres.ts';
import { createEnterpriseTools } from '../../examples/enterprise/tools/index.ts';
import { POSTGRES_URL, requirePostgres } from '../helpers.ts';

// Every test here needs PostgreSQL: in CI the file fails without it, locally it reports a skip.
const pgThere = await requirePostgres();
const test = (name: string, fn: () => Promise<void>): void => void nodeTest(name, { skip: !pgThere }, fn);

const TABLES = [...schemaSql('sqlite').matchAll(/CREATE TABLE (\w+)/g)].map((m) => m[1] as string);
const SEED = DEFAULT_SEED;

const ctx = (key: string, attempt = 1): ToolContext => ({
  runId: 'run_pg',
  callId: key,
  idempotencyKey: `run_pg:${key}`,
  attempt,
  actorId: 'tester',
  sessionId: 's',
  agent: 'test',
  signal: new AbortController().signal,
  progress: () => {},
  traceHeaders: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
});

const newSchema = (): string => `sb_biz_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

async function openPg(schema: string): Promise<BusinessDb> {
  try {
    return await openPostgresBusinessDb({ url: POSTGRES_URL, schema, seed: SEED });
  } catch (error) {
    throw new Error(`this test needs PostgreSQL at ${POSTGRES_URL}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

interface Backend {
  biz: BusinessDb;
  run: (name: string, args: unknown, key: string, attempt?: number) => Promise<unknown>;
  tool: (name: string) => AnyTool;
  exportDir: string;
}

/** A fresh SQLite file and a fresh PostgreSQL schema from the same seed, with the tools over each. */
async function openBoth(): Promise<{ sqlite: Backend; postgres: Backend; close: () => Promise<void> }> {
  const schema = newSchema();
  const pgDb = await openPg(schema);
  const dir = mkdtempSync(join(tmpdir(), 'enterprise-pg-'));
  const backend = (biz: BusinessDb, name: string): Backend => {
    const exportDir = join(dir, `exports-${name}`);
    const tools = new Map(createEnterpriseTools(biz, { exportDir }).all.map((t) => [t.name, t]));
    const tool = (toolName: string) => {
      const t = tools.get(toolName);
      assert.ok(t, toolName);
      return t;
    };
    // As the engine does: validate (defaults applied) before running.
    const run = async (toolName: string, args: unknown, key: string, attempt = 1) => {
      const t = tool(toolName);
      return (await t.run(t.input.parse(args), ctx(key, attempt))) as unknown;
    };
    return { biz, run, tool, exportDir };
  };
  const postgres = backend(pgDb, 'postgres');
  const sqlite = backend(openBusinessDb(join(dir, 'business.db'), { seed: SEED }), 'sqlite');
  return {
    sqlite,
    postgres,
    close: async () => {
      await sqlite.biz.close();
      await postgres.biz.close();
      await dropPostgresSchemas(POSTGRES_URL, [schema]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every row of every table, in key order. */
async function dump(biz: BusinessDb): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of TABLES) out[table] = await biz.all(`SELECT * FROM ${table} ORDER BY 1, 2`);
  return out;
}

/** A call's outcome, errors included, so both backends can be compared on failures too. */
async function outcome(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await call() };
  } catch (error) {
    return { error: (error as Error).message, retryable: (error as ToolError).retryable };
  }
}

test('the same seed gives the same tables, row counts and rows on SQLite and PostgreSQL', async () => {
  const { sqlite, postgres, close } = await openBoth();
  try {
    assert.deepEqual(await businessStats(postgres.biz), await businessStats(sqlite.biz));
    const [a, b] = [await dump(sqlite.biz), await dump(postgres.biz)];
    for (const table of TABLES) {
      assert.equal(b[table]?.length, a[table]?.length, `${table} row count`);
      assert.deepEqual(b[table], a[table], `${table} rows`);
    }
    assert.equal(a.customers?.length, 300);
    assert.equal(a.orders?.length, 2000);
    assert.equal(postgres.biz.path.startsWith('postgres:sb_biz_'), true);
    assert.deepEqual(await postgres.biz.get("SELECT * FROM orders WHERE id = 'ORD-10042'"), {
      ...(await sqlite.biz.get("SELECT * FROM orders WHERE id = 'ORD-10042'")),
    });
  } finally {
    await close();
  }
});

test('both adapters keep ? inside literals, return integers as numbers and roll back a failed transaction', async () => {
  const { sqlite, postgres, close } = await openBoth();
  try {
    assert.equal(toPositional('SELECT \'?\', "a?", ? -- ?\n, ?'), 'SELECT \'?\', "a?", $1 -- ?\n, $2');
    const stockless = await sqlite.biz.get(
      'SELECT count(*) AS n, sum(stock) AS s FROM products WHERE stock < 5',
    );
    assert.equal(typeof (stockless as { n: unknown }).n, 'number');
    for (const { biz } of [sqlite, postgres]) {
      assert.deepEqual(await biz.get("SELECT 'it''s ?' AS lit, ? AS v", 'x'), { lit: "it's ?", v: 'x' });
      assert.deepEqual(
        await biz.get('SELECT count(*) AS n, sum(stock) AS s FROM products WHERE stock < 5'),
        stockless,
      );
      const city = "SELECT city FROM customers WHERE id = 'CUS-0001'";
      const before = await biz.get(city);
      await assert.rejects(
        biz.transaction(async (tx) => {
          await tx.run("UPDATE customers SET city = 'Nowhere' WHERE id = 'CUS-0001'");
          assert.deepEqual(await tx.get(city), { city: 'Nowhere' });
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.deepEqual(await biz.get(city), before);
      assert.deepEqual(biz.getSync('SELECT total_cents FROM orders WHERE id = ?', 'ORD-10003'), {
        total_cents: 38998,
      });
      assert.equal(biz.getSync("SELECT id FROM orders WHERE id = 'nope'"), undefined);
    }
  } finally {
    await close();
  }
});

test('every enterprise tool gives the same results and leaves the same rows on both backends', async () => {
  const { sqlite, postgres, close } = await openBoth();
  try {
    const pending = await sqlite.biz.all<{ id: string }>(
      "SELECT id FROM orders WHERE status = 'pending' ORDER BY id LIMIT 2",
    );
    const [forDiscount, forPayment] = pending.map((o) => o.id);
    const calls: Array<[string, unknown]> = [
      ['lookup_customer', { query: 'CUS-0042' }],
      ['lookup_customer', { query: 'Find the account of Priya Haddad' }],
      ['verify_identity', { customer: 'CUS-0003', dateOfBirth: '1990-01-01' }],
      ['create_ticket', { customer: 'CUS-0004', subject: 'Broken kettle', priority: 'high' }],
      ['search_knowledge_base', { query: 'what is the return policy' }],
      ['escalate_to_human', { reason: 'customer threatens legal action', customer: 'CUS-0004' }],
      ['search_orders', { customer: 'CUS-0042' }],
      ['search_orders', { orderId: 'ORD-10042' }],
      ['process_refund', { orderId: 'ORD-10009' }],
      ['process_refund', { orderId: 'ORD-10003', amount: 25, reason: 'late' }],
      ['process_refund', { orderId: 'ORD-10009' }],
      ['apply_discount', { orderId: forDiscount, code: 'WELCOME10' }],
      ['apply_discount', { orderId: forDiscount, code: 'SAVE15' }],
      ['process_payment', { orderId: forPayment, method: 'paypal' }],
      ['track_shipment', { reference: 'ORD-10421' }],
      ['track_shipment', { reference: 'ORD-10421' }],
      ['track_shipment', { reference: 'ORD-10001' }],
      ['check_inventory', { product: 'which products are low in stock' }],
      ['check_inventory', { product: 'SKU-1042' }],
      ['generate_report', { report: 'sales', from: '2025-05-01', to: '2025-05-31' }],
      ['generate_report', { report: 'refunds' }],
      ['generate_report', { report: 'inventory' }],
      ['generate_report', { report: 'tickets' }],
      ['generate_report', { report: 'shipping' }],
      ['send_email', { to: 'Jane@Example.com', body: 'Your replacement ships today' }],
      ['schedule_meeting', { customer: 'CUS-0005', date: '2025-06-04', time: '14:00', topic: 'refund' }],
      ['collect_feedback', { customer: 'CUS-0006', rating: 2, comment: 'support was slow' }],
      ['analyze_sentiment', { text: 'the parcel was late and the box was damaged' }],
      ['translate_text', { text: 'your refund has been processed', targetLanguage: 'spanish' }],
      ['export_data', { dataset: 'tickets' }],
      ['export_data', { dataset: 'orders' }],
    ];
    const results = new Map<Backend, unknown[]>();
    for (const b of [sqlite, postgres]) {
      const seen: unknown[] = [];
      for (const [i, [name, args]] of calls.entries()) {
        const result = (await outcome(() => b.run(name, args, `c${i}`))) as {
          ok?: { file?: string; summary?: string };
        };
        // Export files differ by directory only; their names and contents must match.
        if (result.ok?.file) {
          const file = result.ok.file;
          seen.push({
            ...result,
            ok: { ...result.ok, file: basename(file), summary: result.ok.summary?.replace(b.exportDir, '') },
            csv: readFileSync(join(b.exportDir, file), 'utf8'),
          });
        } else seen.push(result);
      }
      results.set(b, seen);
    }
    const [a, p] = [results.get(sqlite) ?? [], results.get(postgres) ?? []];
    for (const [i, [name]] of calls.entries()) assert.deepEqual(p[i], a[i], `call ${i} ${name}`);
    // The second full refund and the flaky carrier's first answer fail alike; the rest succeed.
    assert.deepEqual(
      a.flatMap((r, i) => ((r as { error?: string }).error !== undefined ? [i] : [])),
      [10, 14],
    );
    assert.equal((a[14] as { retryable: boolean }).retryable, true);
    assert.match((a[10] as { error: string }).error, /cannot be refunded/);
    assert.deepEqual(await dump(postgres.biz), await dump(sqlite.biz));
    for (const b of [sqlite, postgres]) {
      const gate = b.tool('process_refund').requiresApproval;
      const who = { actorId: 'a', agent: 'commerce' };
      assert.ok(gate?.({ orderId: 'ORD-10003' }, who), `${b.biz.kind}: 364.98 left needs approval`);
      assert.equal(gate?.({ orderId: 'ORD-10009' }, who), false, `${b.biz.kind}: nothing left to refund`);
      assert.deepEqual(await b.tool('process_refund').reconcile?.('run_pg:c8', ctx('c8')), {
        status: 'applied',
        result: (a[8] as { ok: unknown }).ok,
      });
    }
  } finally {
    await close();
  }
});

test('two processes opening a fresh PostgreSQL schema together seed it exactly once', async () => {
  const schema = newSchema();
  try {
    const [one, two] = await Promise.all([openPg(schema), openPg(schema)]);
    try {
      const reference = openBusinessDb(':memory:', { seed: SEED });
      const expected = await businessStats(reference);
      await reference.close();
      assert.deepEqual(await businessStats(one), expected);
      assert.deepEqual(await businessStats(two), expected);
      assert.deepEqual(await one.all('SELECT key, value FROM meta ORDER BY key'), [
        { key: 'schema_version', value: '1' },
        { key: 'seed', value: String(SEED) },
      ]);
    } finally {
      await one.close();
      await two.close();
    }
  } finally {
    await dropPostgresSchemas(POSTGRES_URL, [schema]);
  }
});

test('a write repeated with the same idempotency key takes effect once on PostgreSQL, even concurrently', async () => {
  const { sqlite, postgres, close } = await openBoth();
  try {
    for (const b of [postgres, sqlite]) {
      const first = await b.run('process_refund', { orderId: 'ORD-10003', amount: 10 }, 'r1');
      assert.deepEqual(await b.run('process_refund', { orderId: 'ORD-10003', amount: 10 }, 'r1', 2), first);
      const racing = await Promise.all(
        [1, 2, 3].map(() => b.run('send_email', { to: 'a@example.com', body: 'once only' }, 'e1')),
      );
      assert.deepEqual(racing[1], racing[0]);
      assert.deepEqual(racing[2], racing[0]);
      // Different keys at once: each applies, with its own id (generated under the write lock).
      const distinct = (await Promise.all(
        [1, 2, 3, 4].map((n) =>
          b.run('create_ticket', { customer: 'CUS-0002', subject: `Issue ${n}` }, `t${n}`),
        ),
      )) as Array<{ ticketId: string }>;
      assert.equal(new Set(distinct.map((t) => t.ticketId)).size, 4, b.biz.kind);
      assert.deepEqual(await b.biz.all('SELECT order_id, amount_cents FROM refunds'), [
        { order_id: 'ORD-10003', amount_cents: 1000 },
      ]);
      assert.deepEqual(await b.biz.get("SELECT refunded_cents FROM orders WHERE id = 'ORD-10003'"), {
        refunded_cents: 1000,
      });
      assert.deepEqual(await b.biz.get('SELECT count(*) AS n FROM outbox'), { n: 1 });
      assert.deepEqual(await b.biz.get('SELECT count(*) AS n FROM tool_results'), { n: 6 });
    }
  } finally {
    await close();
  }
});

test('emoji, right-to-left text, lone surrogates and a 1 MB body round-trip alike; NUL is refused on both', async () => {
  const { sqlite, postgres, close } = await openBoth();
  try {
    const odd = 'Kettle 😀 cracked — שלום مرحبا ‏ 🇺🇦 broken \uD83D half \uDC00 pair';
    const big = 'שלום 😀 مرحبا ✓ '.repeat(70_000);
    assert.ok(big.length > 1_000_000);
    for (const b of [sqlite, postgres]) {
      const kind = b.biz.kind;
      const ticket = (await b.run('create_ticket', { customer: 'CUS-0007', subject: odd }, 'o1')) as {
        ticketId: string;
      };
      await b.run('collect_feedback', { customer: 'CUS-0007', rating: 4, comment: odd }, 'o2');
      const email = (await b.run('send_email', { to: 'x@example.com', body: big }, 'o3')) as {
        emailId: string;
      };
      await b.run('send_email', { to: 'y@example.com', subject: odd, body: odd }, 'o4');
      // UTF-8 has no lone surrogates: both backends store U+FFFD for them, and keep the rest exactly.
      const stored = odd.toWellFormed();
      assert.notEqual(stored, odd);
      assert.deepEqual(
        await b.biz.get('SELECT subject, description FROM tickets WHERE id = ?', ticket.ticketId),
        {
          subject: stored,
          description: stored,
        },
        kind,
      );
      assert.deepEqual(await b.biz.get("SELECT comment FROM feedback WHERE customer_id = 'CUS-0007'"), {
        comment: stored,
      });
      assert.deepEqual(
        await b.biz.get("SELECT subject, body FROM outbox WHERE to_address = 'y@example.com'"),
        {
          subject: stored,
          body: stored,
        },
      );
      const row = await b.biz.get<{ body: string }>('SELECT body FROM outbox WHERE id = ?', email.emailId);
      assert.equal(row?.body.length, big.length, kind);
      assert.ok(row?.body === big, `${kind}: the 1 MB body comes back unchanged`);

      for (const [name, args] of [
        ['send_email', { to: 'z@example.com', body: 'before\u0000after' }],
        ['create_ticket', { customer: 'CUS-0007', subject: 'nul \u0000 here' }],
      ] as const) {
        await assert.rejects(
          b.run(name, args, `nul-${name}`),
          (e: unknown) => e instanceof ToolError && e.retryable === false && /NUL character/.test(e.message),
          `${kind} ${name}`,
        );
        assert.deepEqual(await b.tool(name).reconcile?.(`run_pg:nul-${name}`, ctx('nul')), {
          status: 'not-applied',
        });
      }
      assert.deepEqual(
        await b.biz.get("SELECT count(*) AS n FROM outbox WHERE to_address = 'z@example.com'"),
        {
          n: 0,
        },
      );
    }
    assert.deepEqual(await dump(postgres.biz), await dump(sqlite.biz));
  } finally {
    await close();
  }
});
