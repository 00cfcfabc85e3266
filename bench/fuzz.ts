/**
 * `npm run fuzz -- --store sqlite|postgres --requests N [--seed S] [--json]`: property-based HTTP
 * fuzzing of a real `switchboard serve` process on 127.0.0.1.
 *
 * The requests are generated with fast-check from the OpenAPI document the server publishes
 * (`/v1/openapi.json`, itself made from the zod schemas the router validates with) and from the
 * admin listener's `createKeyBody` schema: every operation, with values that fit the schema mixed
 * with odd ones — NUL, lone surrogates, invalid UTF-8, RTL and emoji, 1 MB strings, malformed JSON,
 * wrong types, huge and negative numbers, unknown fields and parameters, broken percent-escapes,
 * bad and missing keys, odd headers — sent over raw sockets so nothing is normalised on the way.
 *
 * The property: no answer is ≥ 500, the process never dies and never logs an internal error.
 * Bounded: at most 5,000 requests, loopback only. Exit code 1 when the property fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { z } from 'zod';
import { createKeyBody } from '../src/gateway/schemas.ts';
import { DEFAULT_PLANS } from '../src/gateway/plans.ts';
import { cli, describeWire, keyOf, send, startServer, type Server, type Wire } from './fuzz-wire.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LIBRARY = join(ROOT, 'test', 'fixtures', 'projects', 'library', 'switchboard.config.ts');

/**
 * The test library's configuration with a short `wait: true` bound: a generated `wait` on a run that
 * waits for an approval answers 202 after 1 s instead of holding a worker for 30 s.
 */
const fuzzConfig = (): string => `import base from ${JSON.stringify(pathToFileURL(LIBRARY).href)};
export default { ...base, gateway: { ...base.gateway, limits: { ...base.gateway?.limits, waitTimeoutMs: 1000 } } };
`;
export const MAX_REQUESTS = 5_000;

type Json = Record<string, unknown>;
type Schema = Json & { type?: string | string[]; properties?: Record<string, Schema> };

export interface FuzzOptions {
  store: 'sqlite' | 'postgres';
  requests: number;
  seed?: number;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** PostgreSQL: `postgres://…` (default the local `test` database). */
  databaseUrl?: string;
}

export interface FuzzResult {
  store: string;
  seed: number;
  requests: number;
  operations: number;
  statuses: Record<string, number>;
  /** Answers ≥ 500 (with what was sent, shortened). */
  serverErrors: { status: number; request: string; body: string }[];
  /** Requests the server never answered (socket reset before a status line, or timeout). */
  unanswered: number;
  unansweredSamples: string[];
  /** Requests sent a second time because the first try got no status line (then judged on the second). */
  retried: number;
  crashed: boolean;
  /** Lines the server logged as internal errors (`[gateway] …`, unhandled rejections). */
  internalLogs: string[];
  durationMs: number;
}

// Odd values

const MB = 'x'.repeat(1_000_000);
const oddStrings = [
  '',
  '\u0000',
  'thank\u0000you',
  '\uD800',
  'a\uDFFFb',
  '\uDBFF\uDBFF',
  '\u202Eevil\u202C',
  'שלום עולם',
  '👩‍👩‍👧‍👦🏳️‍🌈',
  '\r\n\t',
  '../../../../etc/passwd',
  '%E0%A4%A',
  "'; DROP TABLE runs; --",
  '${7*7}{{7*7}}',
  '__proto__',
  'constructor',
  ' ',
  'run_00000000000000000000',
  MB,
];
const oddString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...oddStrings) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
);
const oddNumber = fc.oneof(
  fc.constantFrom(-1, 0, -0, 1.5, -(2 ** 63), 2 ** 53 + 1, Number.MAX_VALUE, -Number.MAX_VALUE, 1e-320),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const oddValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    oddString,
    oddNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', '__proto__', 'constructor', '\u0000', 'x'), tie('v'), {
      maxKeys: 3,
    }),
  ),
})).v;

/** JSON text no parser accepts, or accepts as something no schema wants. */
const oddJsonText = fc.constantFrom(
  '{',
  '{"input":',
  '{"input":"a"',
  'nul',
  '[1,2',
  '{"a":1}}',
  '\u0000',
  '{"input":"\\ud800","sessionId":"s"}',
  '{"input":"a\\u0000b","sessionId":"s\\u0000"}',
  '{"limit":1e400}',
  '{"after":123456789012345678901234567890}',
  '{"__proto__":{"admin":true},"input":"x","sessionId":"s"}',
  '['.repeat(50_000) + ']'.repeat(50_000),
  '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000),
  'null',
  'true',
  '"string"',
  '-0',
);

// Values that fit a JSON schema (the OpenAPI document's), mutated at every level

/** An arbitrary for values that fit `schema`, each property replaced by an odd value now and then. */
export function fromSchema(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  const odd = depth > 4 ? fc.constant(null) : oddValue;
  if (!schema) return odd;
  const mutate = (a: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
    fc.oneof({ weight: 5, arbitrary: a }, { weight: 1, arbitrary: odd });
  if (Array.isArray(schema.enum)) return mutate(fc.constantFrom(...(schema.enum as unknown[])));
  if ('const' in schema) return mutate(fc.constant(schema.const));
  const alts = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (alts?.length) return fc.oneof(...alts.map((s) => fromSchema(s, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string': {
      const min = Number(schema.minLength ?? 0);
      const max = Math.min(Number(schema.maxLength ?? 40), 40);
      // Odd text that is still a string: it passes the type check and reaches the store.
      const nasty = fc
        .tuple(fc.string({ minLength: 1, maxLength: 8 }), oddString)
        .map(([a, b]) => (b.length > 1000 ? b : a + b));
      return fc.oneof(
        { weight: 4, arbitrary: fc.string({ minLength: Math.min(min, max), maxLength: Math.max(min, max) }) },
        { weight: 2, arbitrary: nasty },
        { weight: 1, arbitrary: odd },
      );
    }
    case 'integer':
      return mutate(
        fc.integer({
          min: Math.max(Number(schema.minimum ?? -1e6), -1e6),
          max: Math.min(Number(schema.maximum ?? 1e6), 1e6),
        }),
      );
    case 'number':
      return mutate(fc.double({ noNaN: true, noDefaultInfinity: true }));
    case 'boolean':
      return mutate(fc.boolean());
    case 'array':
      return mutate(fc.array(fromSchema(schema.items as Schema, depth + 1), { maxLength: 4 }));
    case 'object': {
      const props = schema.properties ?? {};
      const required = (schema.required as string[] | undefined) ?? [];
      const record = fc.record(
        Object.fromEntries(Object.entries(props).map(([k, s]) => [k, fromSchema(s, depth + 1)])),
        { requiredKeys: required.filter((k) => k in props) },
      );
      // Sometimes with a field no schema knows.
      const extra = fc.option(fc.tuple(fc.constantFrom('extra', 'actorId', '__proto__', 'role'), odd), {
        freq: 5,
      });
      return mutate(
        fc
          .tuple(record, extra)
          .map(([r, e]) => (e ? Object.assign(Object.create(null) as Json, r, { [e[0]]: e[1] }) : r)),
      );
    }
    default:
      return odd;
  }
}

// Requests

/** Percent-encode the UTF-8 bytes of `s` (lone surrogates become U+FFFD, as any client sends them). */
const pct = (s: string): string =>
  [...Buffer.from(s, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9._~-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0')}`,
    )
    .join('');

const garbagePercent = fc.constantFrom(
  '%E0%A4%A',
  '%',
  '%ZZ',
  '%00',
  '%FF%FE',
  '%C0%AF',
  '%ED%A0%80',
  '%25%',
);

interface Operation {
  listener: 'public' | 'admin';
  method: string;
  /** OpenAPI path, `{id}` for parameters. */
  path: string;
  auth: boolean;
  query: Record<string, Schema>;
  body: Schema | null;
}

/** Every operation of the OpenAPI document, plus the admin listener's key routes. */
export function operationsOf(openapi: Json): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(openapi.paths as Record<string, Record<string, Json>>)) {
    for (const [method, op] of Object.entries(methods)) {
      const query: Record<string, Schema> = {};
      for (const p of (op.parameters as Json[] | undefined) ?? [])
        if (p.in === 'query') query[String(p.name)] = p.schema as Schema;
      const content = (op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
      ops.push({
        listener: 'public',
        method: method.toUpperCase(),
        path,
        auth: !(Array.isArray(op.security) && op.security.length === 0),
        query,
        body: (content?.['application/json']?.schema as Schema | undefined) ?? null,
      });
    }
  }
  const keyBody = z.toJSONSchema(createKeyBody(Object.keys(DEFAULT_PLANS)), { io: 'input' }) as Schema;
  ops.push(
    { listener: 'admin', method: 'POST', path: '/admin/keys', auth: true, query: {}, body: keyBody },
    { listener: 'admin', method: 'GET', path: '/admin/keys', auth: true, query: {}, body: null },
    { listener: 'admin', method: 'DELETE', path: '/admin/keys/{id}', auth: true, query: {}, body: null },
  );
  return ops;
}

interface Fixtures {
  keys: { admin: string; user: string; approver: string; operator: string; free: string; revoked: string };
  runIds: string[];
}

const authArb = (f: Fixtures) =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .constantFrom(f.keys.admin, f.keys.user, f.keys.approver, f.keys.operator)
        .map((k) => [['Authorization', `Bearer ${k}`]]),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(f.keys.free, f.keys.revoked).map((k) => [['Authorization', `Bearer ${k}`]]),
    },
    { weight: 1, arbitrary: fc.constantFrom(f.keys.user, 'sbk_nope').map((k) => [['X-API-Key', k]]) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(
          'Bearer',
          'Bearer ',
          'Basic dXNlcjpwYXNz',
          'Bearer a b',
          `Bearer ${'k'.repeat(5000)}`,
          'bearer sbk_x',
          'Bearer sbk_\u00ff',
        )
        .map((v) => [['Authorization', v]]),
    },
    { weight: 1, arbitrary: fc.constant([]) },
  ) as fc.Arbitrary<[string, string][]>;

const extraHeaders = fc.array(
  fc.oneof(
    fc.tuple(fc.constant('Idempotency-Key'), fc.constantFrom('', 'k', 'x'.repeat(300), 'ünï')),
    fc.tuple(
      fc.constant('Last-Event-ID'),
      fc.constantFrom('-1', 'abc', '1e400', '99999999999999999999', '3', ''),
    ),
    fc.tuple(
      fc.constant('traceparent'),
      fc.constantFrom('00-zz', 'ff-' + '0'.repeat(32) + '-' + '0'.repeat(16) + '-01', ''),
    ),
    fc.tuple(fc.constant('Accept'), fc.constantFrom('text/event-stream', '*/*', 'application/xml')),
    fc.tuple(fc.constant('X-Request-Id'), fc.constantFrom('ok-1', 'a'.repeat(500), 'bad id')),
    fc.tuple(fc.constant('Origin'), fc.constantFrom('https://evil.example', 'null')),
  ),
  { maxLength: 3 },
);

const idArb = (f: Fixtures) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...f.runIds).map(pct) },
    { weight: 2, arbitrary: oddString.map((s) => pct(s.slice(0, 400))) },
    { weight: 1, arbitrary: garbagePercent },
    { weight: 1, arbitrary: fc.constantFrom('..%2F..%2Fetc', '%2e%2e', 'a'.repeat(5000)) },
  );

function queryArb(op: Operation): fc.Arbitrary<string> {
  const names = Object.keys(op.query);
  const pairs = fc.array(
    fc.oneof(
      ...(names.length
        ? [
            {
              weight: 4,
              arbitrary: fc
                .constantFrom(...names)
                .chain((n) => fromSchema(op.query[n]).map((v) => [n, v] as const)),
            },
          ]
        : []),
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom('unknown', '__proto__', 'limit[]'), oddValue) },
    ),
    { maxLength: 3 },
  );
  return fc.tuple(pairs, fc.option(garbagePercent, { freq: 8 })).map(([ps, garbage]) => {
    const text = ps
      .map(([k, v]) => `${pct(k)}=${pct(typeof v === 'string' ? v : JSON.stringify(v ?? null))}`)
      .join('&');
    const all = garbage ? (text ? `${text}&${garbage}=${garbage}` : `${garbage}`) : text;
    return all ? `?${all}` : '';
  });
}

const bodyArb = (op: Operation): fc.Arbitrary<Buffer | null> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fromSchema(op.body ?? undefined).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
    },
    { weight: 2, arbitrary: oddJsonText.map((t) => Buffer.from(t)) },
    // Invalid UTF-8 inside a JSON string.
    {
      weight: 1,
      arbitrary: fc.constant(
        Buffer.concat([
          Buffer.from('{"input":"'),
          Buffer.from([0xff, 0xfe, 0xc0]),
          Buffer.from('","sessionId":"s"}'),
        ]),
      ),
    },
    { weight: 1, arbitrary: fc.constant(null) },
  );

/** One request for `op`, with odd auth, path, query, headers and body. */
function requestArb(op: Operation, f: Fixtures): fc.Arbitrary<Wire> {
  return fc
    .record({
      auth: op.auth ? authArb(f) : fc.oneof(fc.constant([] as [string, string][]), authArb(f)),
      id: idArb(f),
      query: queryArb(op),
      headers: extraHeaders,
      body: op.body ? bodyArb(op) : fc.option(bodyArb(op), { freq: 6 }),
      type: fc.constantFrom(
        'application/json',
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        '',
      ),
      from: fc.integer({ min: 2, max: 254 }),
    })
    .map((r) => ({
      listener: op.listener,
      method: op.method,
      path: op.path.replace('{id}', r.id) + r.query,
      headers: [
        ...r.auth,
        ...r.headers,
        ...(r.body && r.type ? ([['Content-Type', r.type]] as [string, string][]) : []),
      ],
      body: r.body,
      from: `127.0.0.${r.from}`,
    }));
}

/** Methods and paths no operation has: traversal, garbage escapes, unknown routes, the WebSocket. */
const strayArb = (f: Fixtures): fc.Arbitrary<Wire> =>
  fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE'),
      path: fc.oneof(
        fc.constantFrom(
          '/',
          '/v1',
          '/v1/',
          '/v1/runs/',
          '/v1//runs',
          '/%E0%A4%A',
          '/..%2f..%2fetc%2fpasswd',
          '/v1/%00',
          '/assets/%ZZ.js',
          '/' + 'a'.repeat(8000),
          '/v1/ws',
          '/v1/ws?ticket=%E0%A4%A',
          '/v1/ws?ticket=wst_nope',
        ),
        garbagePercent.map((g) => `/v1/runs/${g}/events`),
      ),
      auth: authArb(f),
      upgrade: fc.boolean(),
      from: fc.integer({ min: 2, max: 254 }),
    })
    .map((r) => ({
      listener: 'public' as const,
      method: r.upgrade ? 'GET' : r.method,
      path: r.path,
      headers: [
        ...r.auth,
        ...(r.upgrade
          ? ([
              ['Connection', 'Upgrade'],
              ['Upgrade', 'websocket'],
              ['Sec-WebSocket-Version', '13'],
              ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
            ] as [string, string][])
          : []),
      ],
      body: null,
      from: `127.0.0.${r.from}`,
    }));

/** Run the fuzz against a fresh `serve` on `options.store`. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const requests = Math.min(Math.max(1, Math.floor(options.requests)), MAX_REQUESTS);
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const dir = mkdtempSync(join(tmpdir(), 'sb-fuzz-'));
  const schema = `sb_fuzz_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const databaseUrl = options.databaseUrl ?? 'postgres://postgres@127.0.0.1:5432/test';
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('SWITCHBOARD_') && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  env.SWITCHBOARD_DATA_DIR = join(dir, 'data');
  const config = join(dir, 'switchboard.config.ts');
  writeFileSync(config, fuzzConfig());
  let server: Server | null = null;
  try {
    if (options.store === 'postgres') {
      env.SWITCHBOARD_DATABASE_URL = databaseUrl;
      env.SWITCHBOARD_DATABASE_SCHEMA = schema;
      cli(['migrate'], env, config);
    }
    // One admin key from the CLI; the rest through the admin listener (one process start, not six).
    const admin = keyOf(
      cli(
        ['keys', 'create', '--name', 'fuzz-admin', '--role', 'admin', '--plan', 'unlimited', '--json'],
        env,
        config,
      ),
    );
    const up = (server = await startServer(env, config));
    const adminApi = async (method: string, path: string, body?: Json): Promise<Json> => {
      const res = await fetch(`http://127.0.0.1:${up.adminPort}${path}`, {
        method,
        headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Json;
    };
    const create = async (name: string, role: string, plan = 'unlimited'): Promise<Json> =>
      adminApi('POST', '/admin/keys', { name, role, plan });
    const revoked = await create('fuzz-revoked', 'user');
    await adminApi('DELETE', `/admin/keys/${String(revoked.id)}`);
    const keys = {
      admin,
      user: String((await create('fuzz-user', 'user')).key),
      approver: String((await create('fuzz-approver', 'approver')).key),
      operator: String((await create('fuzz-operator', 'operator')).key),
      free: String((await create('fuzz-free', 'user', 'free')).key),
      revoked: String(revoked.key),
    };
    const started = performance.now();
    const statuses: Record<string, number> = {};
    const serverErrors: FuzzResult['serverErrors'] = [];
    const unansweredSamples: string[] = [];
    // A real run of the user's, so id routes reach their handlers and the store.
    const submitted = await fetch(`http://127.0.0.1:${up.port}/v1/runs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${keys.user}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ input: 'Do you have The Quiet Harbour?', sessionId: 'fuzz', wait: true }),
    });
    const { runId } = (await submitted.json()) as { runId: string };
    const f: Fixtures = { keys, runIds: [runId, 'run_missing'] };
    const openapi = (await (await fetch(`http://127.0.0.1:${up.port}/v1/openapi.json`)).json()) as Json;
    const ops = operationsOf(openapi);
    const arb = fc.oneof(
      { weight: 9, arbitrary: fc.oneof(...ops.map((op) => requestArb(op, f))) },
      { weight: 1, arbitrary: strayArb(f) },
    );
    const wires = fc.sample(arb, { numRuns: requests, seed });
    let next = 0;
    let retried = 0;
    const worker = async (): Promise<void> => {
      while (next < wires.length && !up.exited()) {
        const w = wires[next++]!;
        const port = w.listener === 'admin' ? up.adminPort : up.port;
        let r = await send(w, port);
        if (r.status === 0) {
          // No status line: a reset racing an early answer (the server answered and closed before
          // reading the body) or a stall on a loaded machine. Sent once more; a request that is
          // really never answered fails again and counts as unanswered.
          retried++;
          r = await send(w, port, 15_000);
        }
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status === 0 && unansweredSamples.push(describeWire(w)) > 10) unansweredSamples.shift();
        if (r.status >= 500) serverErrors.push({ status: r.status, request: describeWire(w), body: r.head });
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
    // Still alive and well after it all.
    const health = await fetch(`http://127.0.0.1:${up.port}/readyz`).catch(() => null);
    if (!health || health.status !== 200)
      serverErrors.push({ status: health?.status ?? 0, request: 'GET /readyz after the fuzz', body: '' });
    return {
      store: options.store,
      seed,
      requests: wires.length,
      operations: ops.length,
      statuses,
      serverErrors,
      unanswered: statuses['0'] ?? 0,
      unansweredSamples,
      retried,
      crashed: up.exited(),
      internalLogs: up.stderr.filter((l) => /\[gateway\]|Unhandled|uncaught|^\s+at /i.test(l)).slice(0, 50),
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (options.store === 'postgres') {
      const { dropPostgresSchemas } = await import('../src/store/postgres/admin.ts');
      await dropPostgresSchemas(databaseUrl, [schema, `${schema}_boss`]);
    }
  }
}

/** The property holds: nothing ≥ 500, no crash, nothing logged as internal. */
export const passed = (r: FuzzResult): boolean =>
  r.serverErrors.length === 0 && !r.crashed && r.internalLogs.length === 0;

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      store: { type: 'string', default: 'sqlite' },
      requests: { type: 'string', default: '2000' },
      seed: { type: 'string' },
      concurrency: { type: 'string', default: '8' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.store !== 'sqlite' && values.store !== 'postgres') {
    console.error('--store must be sqlite or postgres');
    process.exit(2);
  }
  const result = await runFuzz({
    store: values.store,
    requests: Number(values.requests),
    concurrency: Number(values.concurrency),
    ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
    ...(process.env.SWITCHBOARD_TEST_DATABASE_URL
      ? { databaseUrl: process.env.SWITCHBOARD_TEST_DATABASE_URL }
      : {}),
  });
  if (values.json) console.log(JSON.stringify({ ...result, passed: passed(result) }, null, 2));
  else {
    console.log(
      `fuzz ${result.store}: ${result.requests} requests over ${result.operations} operations in ${(result.durationMs / 1000).toFixed(1)} s (seed ${result.seed})`,
    );
    console.log(`statuses: ${JSON.stringify(result.statuses)}`);
    console.log(
      `≥ 500: ${result.serverErrors.length}, crashed: ${result.crashed}, internal errors logged: ${result.internalLogs.length}, unanswered: ${result.unanswered}`,
    );
    for (const e of result.serverErrors.slice(0, 10))
      console.log(`  ${e.status} ${e.request}\n    ${e.body}`);
    for (const l of result.internalLogs.slice(0, 10)) console.log(`  log: ${l}`);
  }
  process.exit(passed(result) ? 0 : 1);
}
