/**
 * `node bench/cold-start.ts [--rounds 15] [--json] [--store sqlite|memory] [--base <checkout>]`:
 * the library's cold start from its build (dist/), split into phases, in fresh processes.
 *
 * Each round forks one child per build (this checkout, and `--base`, an earlier commit's checkout
 * with its own `npm ci && npm run build`, for ratios on a noisy machine); the order of the builds
 * alternates between rounds. A child times, on its own clock from process start:
 *   main     process start → the child's first line (Node's own start, type stripping of this file)
 *   zod      importing zod, as a user's tool definitions do (paid whether or not Switchboard uses it)
 *   import   importing `dist/src/index.js` (what Switchboard itself loads on top of zod)
 *   start    createSystem (the bench/peers workload: two agents, four zod tools) + the store + start()
 *   first    the first run: submit → wait until it completed
 * and the parent times fork → the child's report after the first run (`total`, bench/peers'
 * "cold start"). Medians over rounds are reported.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    json: { type: 'boolean', default: false },
    store: { type: 'string', default: 'sqlite' },
    base: { type: 'string' },
  },
  allowPositionals: true,
  strict: true,
});

const PHASES = ['main', 'zod', 'import', 'start', 'first'] as const;
type Phase = (typeof PHASES)[number];
type Timings = Record<Phase | 'total', number>;

async function child(root: string, storeKind: string): Promise<void> {
  const marks: number[] = [performance.now()];
  const mark = () => marks.push(performance.now());
  const rootUrl = pathToFileURL(`${root}/`);
  const { z } = (await import(new URL('node_modules/zod/index.js', rootUrl).href)) as typeof import('zod');
  mark();
  const sb = (await import(new URL('dist/src/index.js', rootUrl).href)) as typeof import('../src/index.ts');
  mark();
  const wl = await import('./peers/workload.ts');
  const tools = wl.TOOL_NAMES.map((name) => {
    const spec = wl.TOOL_SPECS[name];
    return sb.defineTool({
      name,
      description: spec.description,
      input: z.object(Object.fromEntries(Object.keys(spec.fields).map((f) => [f, z.string()]))),
      risk: name === 'open_ticket' ? 'write' : 'read',
      idempotent: true,
      run: async (args: Record<string, string>) => wl.callTool(name, args),
    });
  });
  const worker = sb.defineAgent({
    name: 'worker',
    responsibility: wl.WORKER_DESCRIPTION,
    instructions: wl.WORKER_INSTRUCTIONS,
    tools,
  });
  const triage = sb.defineAgent({
    name: 'triage',
    responsibility: 'Routes customer requests to the agent that owns them.',
    instructions: wl.TRIAGE_INSTRUCTIONS,
    tools: [],
    delegates: ['worker'],
  });
  const dir = mkdtempSync(join(tmpdir(), 'sb-cold-'));
  const store =
    storeKind === 'memory'
      ? sb.createMemoryStore()
      : sb.createSqliteStore({ path: join(dir, 'switchboard.db') });
  const system = sb.createSystem({ agents: [triage, worker], model: policyModel(wl), store });
  await system.start();
  mark();
  const { runId } = await system.submit({
    actorId: 'bench',
    sessionId: 's1',
    input: wl.INPUT,
    agent: 'triage',
  });
  const run = await system.wait(runId);
  mark();
  if (run.status !== 'completed' || run.output !== wl.EXPECTED_ANSWER)
    throw new Error(`run ended ${run.status}: ${JSON.stringify(run.error ?? run.output)}`);
  const timings: Partial<Timings> = { main: marks[0]! };
  for (let i = 1; i < PHASES.length; i++) timings[PHASES[i]!] = marks[i]! - marks[i - 1]!;
  process.send!({ type: 'first', timings });
  await system.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

/** bench/peers' fake model (the shared policy behind the AI SDK LanguageModelV4 interface), non-streaming. */
function policyModel(wl: typeof import('./peers/workload.ts')) {
  const usage = {
    inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: 10, text: 10, reasoning: undefined },
  };
  async function generate(options: { tools?: { name: string }[]; prompt: unknown }) {
    const shown = (options.tools ?? []).map((t) => t.name);
    const d = await wl.modelStep(
      shown,
      wl.fromAiSdkPrompt(options.prompt as Parameters<typeof wl.fromAiSdkPrompt>[0]),
    );
    if (d.kind === 'final')
      return {
        content: [{ type: 'text', text: d.text }],
        finishReason: { unified: 'stop', raw: undefined },
        usage,
        warnings: [],
      };
    const toolName = d.kind === 'handoff' ? (shown.find((n) => n.includes('worker')) ?? '') : d.name;
    const input = d.kind === 'handoff' ? { task: d.task } : d.args;
    return {
      content: [{ type: 'tool-call', toolCallId: wl.nextCallId(), toolName, input: JSON.stringify(input) }],
      finishReason: { unified: 'tool-calls', raw: undefined },
      usage,
      warnings: [],
    };
  }
  async function doStream(options: Parameters<typeof generate>[0]) {
    const result = await generate(options);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue({ type: 'stream-start', warnings: [] });
        for (const part of result.content) {
          if (part.type === 'text') {
            controller.enqueue({ type: 'text-start', id: 't' });
            controller.enqueue({ type: 'text-delta', id: 't', delta: (part as { text: string }).text });
            controller.enqueue({ type: 'text-end', id: 't' });
          } else controller.enqueue(part);
        }
        controller.enqueue({ type: 'finish', finishReason: result.finishReason, usage: result.usage });
        controller.close();
      },
    });
    return { stream };
  }
  return {
    specificationVersion: 'v4',
    provider: 'bench',
    modelId: 'policy',
    supportedUrls: {},
    doGenerate: generate,
    doStream,
  } as unknown as import('@ai-sdk/provider').LanguageModelV4;
}

function runChild(root: string): Promise<Timings> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    let timings: Timings | undefined;
    const c = fork(fileURLToPath(import.meta.url), ['child', root, '--store', values.store], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    c.on('message', (m: { type: string; timings: Timings }) => {
      if (m.type === 'first') timings = { ...m.timings, total: performance.now() - t0 };
    });
    c.on('error', fail);
    c.on('exit', (code) =>
      timings && code === 0 ? done(timings) : fail(new Error(`child ${root} exited ${code}`)),
    );
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function parent(): Promise<void> {
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  const builds: [string, string][] = [['current', fileURLToPath(new URL('..', import.meta.url))]];
  if (values.base) builds.push(['base', resolve(values.base)]);
  const samples = new Map(builds.map(([name]) => [name, [] as Timings[]]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...builds].reverse() : builds;
    for (const [name, root] of order) samples.get(name)!.push(await runChild(root));
  }
  const keys = [...PHASES, 'total'] as const;
  const result: Record<string, Record<string, number>> = {};
  for (const [name] of builds)
    result[name] = Object.fromEntries(keys.map((k) => [k, median(samples.get(name)!.map((t) => t[k]))]));
  if (values.json) {
    console.log(JSON.stringify({ store: values.store, rounds, medians: result }, null, 2));
    return;
  }
  console.log(`cold start, ${values.store} store, medians of ${rounds} rounds (ms)`);
  console.log(['build', ...keys].map((k) => k.padStart(8)).join(''));
  for (const [name] of builds)
    console.log([name, ...keys.map((k) => result[name]![k]!.toFixed(1))].map((v) => v.padStart(8)).join(''));
  if (values.base)
    console.log(
      ['ratio', ...keys.map((k) => (result.current![k]! / result.base![k]!).toFixed(2))]
        .map((v) => v.padStart(8))
        .join(''),
    );
}

if (positionals[0] === 'child') await child(positionals[1]!, values.store);
else await parent();
