import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ToolContext } from '../../src/core/tool.ts';
import { businessStats, openBusinessDb } from '../../examples/enterprise/db.ts';
import { createEnterpriseTools } from '../../examples/enterprise/tools/index.ts';
import { createEnterpriseSystem } from '../../examples/enterprise/agents.ts';

const ctx = (key: string, attempt = 1): ToolContext => ({
  runId: 'run_t',
  callId: key,
  idempotencyKey: `run_t:${key}`,
  attempt,
  actorId: 'tester',
  sessionId: 's',
  agent: 'test',
  signal: new AbortController().signal,
  progress: () => {},
  traceHeaders: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'enterprise-'));
  const biz = openBusinessDb(join(dir, 'business.db'));
  const tools = createEnterpriseTools(biz, { exportDir: join(dir, 'exports') });
  const byName = new Map(tools.all.map((t) => [t.name, t]));
  const tool = (name: string) => {
    const t = byName.get(name);
    assert.ok(t, name);
    return t;
  };
  const done = async () => {
    await biz.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, biz, tools, tool, done };
}

test('the business database is seeded deterministically with the documented volumes', async () => {
  const a = openBusinessDb(':memory:');
  const b = openBusinessDb(':memory:');
  const stats = await businessStats(a);
  assert.equal(stats.customers, 300);
  assert.equal(stats.orders, 2000);
  assert.equal(stats.products, 150);
  assert.equal(stats.kb_articles, 60);
  assert.ok((stats.calendar_slots ?? 0) > 100 && (stats.shipments ?? 0) > 1000 && (stats.tickets ?? 0) > 100);
  const digest = async (x: typeof a) =>
    JSON.stringify(await x.all('SELECT * FROM orders ORDER BY id LIMIT 50'));
  assert.equal(await digest(a), await digest(b));
  await a.close();
  await b.close();
});

test('there are 18 tools, each with a schema, risk class, retry policy, progress milestone, domain and examples', async () => {
  const s = setup();
  try {
    assert.equal(s.tools.all.length, 18);
    for (const t of s.tools.all) {
      assert.ok(t.progress, `${t.name} progress`);
      assert.ok(t.domain, `${t.name} domain`);
      assert.ok(t.examples?.length, `${t.name} examples`);
      assert.ok(t.retry.maxAttempts >= 1);
    }
    const payment = s.tool('process_payment');
    assert.ok(payment.requiresApproval?.({ orderId: 'ORD-10204' }, { actorId: 'a', agent: 'commerce' }));
    const refund = s.tool('process_refund');
    assert.equal(
      refund.requiresApproval?.({ orderId: 'ORD-10009' }, { actorId: 'a', agent: 'commerce' }),
      false,
    );
    assert.ok(refund.requiresApproval?.({ orderId: 'ORD-10003' }, { actorId: 'a', agent: 'commerce' }));
  } finally {
    await s.done();
  }
});

test('a refund repeated with the same idempotency key takes effect once, and reconcile reports it', async () => {
  const s = setup();
  try {
    const refund = s.tool('process_refund');
    const first: unknown = await refund.run({ orderId: 'ORD-10009' }, ctx('c1'));
    const again: unknown = await refund.run({ orderId: 'ORD-10009' }, ctx('c1', 2));
    assert.deepEqual(again, first);
    assert.deepEqual(await s.biz.get('SELECT count(*) AS n FROM refunds'), { n: 1 });
    assert.deepEqual(await refund.reconcile?.('run_t:c1', ctx('c1')), { status: 'applied', result: first });
    assert.deepEqual(await refund.reconcile?.('run_t:other', ctx('other')), { status: 'not-applied' });
    await assert.rejects(
      async (): Promise<unknown> => refund.run({ orderId: 'ORD-10009' }, ctx('c2')),
      /cannot be refunded/,
    );
  } finally {
    await s.done();
  }
});

test('the flaky carrier fails the first lookup with a retryable error and answers the retry', async () => {
  const s = setup();
  try {
    const track = s.tool('track_shipment');
    await assert.rejects(
      async (): Promise<unknown> => track.run({ reference: 'ORD-10421' }, ctx('t1')),
      (e: { retryable?: boolean }) => e.retryable === true,
    );
    const result = (await track.run({ reference: 'ORD-10421' }, ctx('t1', 2))) as { status: string };
    assert.equal(result.status, 'in_transit');
  } finally {
    await s.done();
  }
});

test('emails, tickets, bookings, feedback and exports change the business state', async () => {
  const s = setup();
  try {
    await s.tool('send_email').run({ to: 'a@example.com', body: 'Hello there' }, ctx('e1'));
    await s
      .tool('create_ticket')
      .run({ customer: 'CUS-0004', subject: 'Broken kettle', priority: 'high' }, ctx('k1'));
    await s
      .tool('schedule_meeting')
      .run({ customer: 'CUS-0005', date: '2025-06-04', time: '14:00' }, ctx('m1'));
    await s
      .tool('collect_feedback')
      .run({ customer: 'CUS-0006', rating: 5, comment: 'great and fast' }, ctx('f1'));
    const exported = (await s.tool('export_data').run({ dataset: 'tickets' }, ctx('x1'))) as {
      file: string;
      rows: number;
    };
    const q = (sql: string) => s.biz.all(sql);
    assert.deepEqual(await q('SELECT to_address, status FROM outbox'), [
      { to_address: 'a@example.com', status: 'queued' },
    ]);
    assert.deepEqual(
      await q("SELECT priority FROM tickets WHERE customer_id = 'CUS-0004' AND subject = 'Broken kettle'"),
      [{ priority: 'high' }],
    );
    assert.equal(
      (
        await q(
          "SELECT id FROM calendar_slots WHERE customer_id = 'CUS-0005' AND starts_at >= '2025-06-04T14:00'",
        )
      ).length,
      1,
    );
    assert.deepEqual(await q('SELECT rating, sentiment FROM feedback'), [
      { rating: 5, sentiment: 'positive' },
    ]);
    assert.equal(
      readFileSync(join(s.dir, 'exports', exported.file), 'utf8')
        .trim()
        .split('\n').length,
      exported.rows + 1,
    );
  } finally {
    await s.done();
  }
});

test('end to end: a shipping question is routed to operations and answered by the offline model after a retry', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'enterprise-sys-'));
  const { system, business } = createEnterpriseSystem({ dataDir: dir });
  await system.start();
  try {
    const { runId } = await system.submit({
      actorId: 'u1',
      sessionId: 's1',
      input: 'Where is my order ORD-10421?',
    });
    const run = await system.wait(runId);
    assert.equal(run.status, 'completed');
    assert.equal(run.agent, 'operations');
    assert.match(run.output ?? '', /in transit/);
    const attempts: number[] = [];
    for await (const e of system.events(runId, { after: 0, follow: false })) {
      if (e.type === 'tool.started') attempts.push((e.data as { attempt: number }).attempt);
    }
    assert.deepEqual(attempts, [1, 2]);
  } finally {
    await system.stop();
    await business.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
