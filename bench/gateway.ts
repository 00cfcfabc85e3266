/**
 * `npm run bench:gateway -- --json`: the gateway under load, server and clients in separate
 * processes on 127.0.0.1.
 *
 * 1. runs/s through `POST /v1/runs` (autocannon; a zero-latency policy model does model → tool →
 *    model → answer on the durable SQLite store): admission rate and latency, then how fast the
 *    admitted runs complete.
 * 2. `--connections` (10,000) concurrent WebSockets held open; a sample of them `sendMessage` at a
 *    steady rate and time the first progress frame (p50/p99) — right after the sockets opened and
 *    again after an idle spell — with server RSS before, held, held once idle, and after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { z } from 'zod';
import { defineAgent } from '../src/core/agent.ts';
import { defineTool } from '../src/core/tool.ts';
import { createSqliteKeyStore, issueKey } from '../src/gateway/keys.ts';
import { createGateway } from '../src/gateway/server.ts';
import { policyModel, toolResults } from '../src/models/scripted.ts';
import { startIdleCompaction } from '../src/cli/idle-gc.ts';
import { createSqliteStore } from '../src/store/sqlite/store.ts';
import { createSystem } from '../src/system.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    server: { type: 'boolean', default: false },
    duration: { type: 'string', default: '10' },
    http: { type: 'string', default: '64' },
    connections: { type: 'string', default: '10000' },
    samples: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '200' },
    synchronous: { type: 'string', default: 'FULL' },
  },
  strict: true,
});

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;

/** Server mode (child process): system + gateway; prints one JSON line with its URL and key. */
async function server(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-gw-'));
  const check = defineTool({
    name: 'check_order',
    description: 'Check an order',
    input: z.object({ id: z.number() }),
    risk: 'read',
    idempotent: true,
    progress: 'Checking your order…',
    run: ({ id }) => ({ id, status: 'shipped' }),
  });
  const model = policyModel(({ prompt }) =>
    toolResults(prompt).length === 0
      ? { toolCalls: [{ toolName: 'check_order', input: { id: 7 } }] }
      : { text: 'Order 7 has shipped.' },
  );
  const agent = defineAgent({
    name: 'orders',
    responsibility: 'Answer order questions',
    instructions: 'Be brief.',
    tools: [check],
    concurrency: 32,
  });
  const store = createSqliteStore({
    path: join(dir, 'switchboard.db'),
    synchronous: values.synchronous as 'FULL' | 'NORMAL',
  });
  const system = createSystem({ agents: [agent], model, store, onWarning: () => {}, onError: () => {} });
  await system.start();
  const keys = createSqliteKeyStore({ path: join(dir, 'gateway.db') });
  const { key } = await issueKey(keys, { name: 'bench', role: 'user', plan: 'unlimited' });
  const gateway = createGateway({
    system,
    keys,
    port: 0,
    adminPort: 0,
    consoleDir: false,
    onError: () => {},
    adminRoutes: {
      // RSS and socket counts alone: reading them must not allocate what it measures.
      '/bench/rss': () =>
        Promise.resolve(Response.json({ rssMb: round(process.memoryUsage().rss / 1e6), ...gateway.stats() })),
      '/bench/stats': async () => {
        const done = await system.list({ status: 'completed', limit: 1_000_000 });
        const last = done.reduce((m, r) => Math.max(m, r.updatedAt), 0);
        const first = done.reduce((m, r) => Math.min(m, r.createdAt), Number.POSITIVE_INFINITY);
        return Response.json({
          completed: done.length,
          firstCreatedAt: first,
          lastCompletedAt: last,
          rssMb: round(process.memoryUsage().rss / 1e6),
          ...gateway.stats(),
        });
      },
    },
  });
  const { url, adminUrl } = await gateway.start();
  // As `switchboard serve` does: give memory back once the process goes quiet after work.
  startIdleCompaction();
  console.log(JSON.stringify({ url, adminUrl, key }));
  process.on('SIGTERM', () => {
    void gateway.stop().then(async () => {
      await system.stop();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

interface Stats {
  completed: number;
  firstCreatedAt: number;
  lastCompletedAt: number;
  rssMb: number;
  wsConnections: number;
  subscriptions: number;
}

async function startServer(): Promise<{ child: ChildProcess; url: string; adminUrl: string; key: string }> {
  const child = spawn(
    process.execPath,
    [new URL(import.meta.url).pathname, '--server', '--synchronous', values.synchronous],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  return { child, ...(JSON.parse(line) as { url: string; adminUrl: string; key: string }) };
}

/** Long enough for the server's idle compaction (2 s windows) to see a quiet window. */
const idle = (): Promise<void> => new Promise((r) => setTimeout(r, 6_000));

const stats = async (adminUrl: string): Promise<Stats> =>
  (await (await fetch(`${adminUrl}/bench/stats`)).json()) as Stats;
const rss = async (adminUrl: string): Promise<Pick<Stats, 'rssMb' | 'wsConnections'>> =>
  (await (await fetch(`${adminUrl}/bench/rss`)).json()) as Stats;

async function httpPhase(url: string, adminUrl: string, key: string) {
  let n = 0;
  const before = await stats(adminUrl);
  const started = Date.now();
  const result = await autocannon({
    url,
    connections: Number(values.http),
    duration: Number(values.duration),
    requests: [
      {
        method: 'POST',
        path: '/v1/runs',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        setupRequest: (req) => ({
          ...req,
          body: JSON.stringify({ input: 'Where is order 7?', sessionId: `s${n++}` }),
        }),
      },
    ],
  });
  const submitted = result['2xx'];
  // Wait for every admitted run to complete (polled: the bench is not a test).
  let s = await stats(adminUrl);
  const deadline = Date.now() + 120_000;
  while (s.completed - before.completed < submitted && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    s = await stats(adminUrl);
  }
  const completed = s.completed - before.completed;
  const completionS = (s.lastCompletedAt - started) / 1000;
  return {
    connections: Number(values.http),
    durationS: Number(values.duration),
    accepted: submitted,
    non2xx: result.non2xx,
    errors: result.errors,
    acceptedPerS: round(submitted / Number(values.duration)),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    completed,
    completedPerS: round(completed / completionS),
    completionS: round(completionS, 2),
  };
}

/**
 * `samples` connections spread over the pool send one message each at `--rate`; the time from send
 * to the first progress frame, per message. `offset` keeps sessions and message ids distinct.
 */
async function progressLatency(
  sockets: WebSocket[],
  samples: number,
  offset: number,
): Promise<{ p50: number; p99: number; max: number }> {
  const target = sockets.length;
  const interval = 1000 / Number(values.rate);
  const latencies: number[] = [];
  await new Promise<void>((resolve) => {
    let sent = 0;
    let received = 0;
    const timer = setInterval(() => {
      if (sent >= samples) return clearInterval(timer);
      const ws = sockets[Math.floor((sent * target) / samples)]!;
      const t0 = performance.now();
      let done = false;
      const onMessage = (data: Buffer): void => {
        if (done) return;
        const f = JSON.parse(data.toString('utf8')) as { type: string; event?: { type: string } };
        if (f.type === 'event' && f.event?.type === 'progress') {
          done = true;
          ws.off('message', onMessage);
          latencies.push(performance.now() - t0);
          if (++received === samples) resolve();
        }
      };
      ws.on('message', onMessage);
      const n = offset + sent;
      ws.send(
        JSON.stringify({
          action: 'sendMessage',
          sessionId: `ws${n}`,
          text: 'Where is order 7?',
          clientMessageId: `m${n}`,
        }),
      );
      sent++;
    }, interval);
  });
  return {
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    max: round(Math.max(...latencies)),
  };
}

async function wsPhase(url: string, adminUrl: string, key: string) {
  const wsUrl = url.replace('http://', 'ws://') + '/v1/ws';
  const target = Number(values.connections);
  const sockets: WebSocket[] = [];
  // The HTTP phase's runs are done: RSS once the server has been idle (its idle compaction ran).
  await idle();
  const rssBefore = (await rss(adminUrl)).rssMb;
  const openStarted = performance.now();
  const batch = 500;
  for (let i = 0; i < target; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, target - i) }, () => {
        const ws = new WebSocket(wsUrl, {
          headers: { Authorization: `Bearer ${key}` },
          perMessageDeflate: false,
        });
        sockets.push(ws);
        return new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
      }),
    );
  }
  const openS = (performance.now() - openStarted) / 1000;
  const { wsConnections: held, rssMb: rssHeld } = await rss(adminUrl);
  const samples = Math.min(Number(values.samples), target);
  // Right after the sockets opened (the order of the figure issue 20 quotes), then again after an
  // idle spell: V8's memory reducer and the server's idle compaction shrink the heap while idle, and
  // the first traffic after it pays for growing it back.
  const busy = await progressLatency(sockets, samples, 0);
  await idle();
  const rssHeldIdle = (await rss(adminUrl)).rssMb;
  const afterIdle = await progressLatency(sockets, samples, samples);
  const after = await rss(adminUrl);
  for (const ws of sockets) ws.terminate();
  return {
    connections: target,
    held,
    openS: round(openS, 2),
    samples,
    ratePerS: Number(values.rate),
    progressLatencyMs: busy,
    progressAfterIdleMs: afterIdle,
    serverRssMb: { before: rssBefore, held: rssHeld, heldIdle: rssHeldIdle, after: after.rssMb },
  };
}

async function main(): Promise<void> {
  if (values.server) return server();
  const s = await startServer();
  try {
    const http = await httpPhase(s.url, s.adminUrl, s.key);
    if (!values.json) console.log('POST /v1/runs', http);
    const ws = await wsPhase(s.url, s.adminUrl, s.key);
    if (!values.json) console.log('WebSocket', ws);
    const out = {
      bench: 'gateway',
      node: process.version,
      cpus: (await import('node:os')).cpus().length,
      store: `sqlite synchronous=${values.synchronous}`,
      http,
      ws,
    };
    if (values.json) console.log(JSON.stringify(out, null, 2));
  } finally {
    s.child.kill('SIGTERM');
  }
}

await main();
