// The Markdown report of run.ts: per workload (best, realistic) the speed, memory and ratio
// tables, the realistic adapters' limitations, and the issue's goals, met or missed, computed
// from the rows.
import os from 'node:os';

export type Workload = 'best' | 'realistic';

export const METRICS = [
  'overheadMsPerStep',
  'cpuMsPerStep',
  'runsPerSecC1',
  'runsPerSecC32',
  'overheadMsPerStepLatency',
  'runsPerSecC1Latency',
  'runsPerSecC32Latency',
  'peakRss',
  'peakHeap',
  'coldStartMs',
  'rssAfterFirstRun',
  'heapAfterGc',
  'allocBytesPerRun',
  'stepsPerRun',
] as const;
export type Metric = (typeof METRICS)[number];

export type Row = {
  framework: string;
  label: string;
  version: string;
  workload: Workload;
  durable: boolean;
  store: string;
  limitations: string[];
  modelCallsPerRun: number;
  rounds: number;
} & Record<Metric, number>;

const MB = 2 ** 20;
const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const isSwitchboard = (r: Row) => r.framework.startsWith('switchboard');
const min = (rows: Row[], key: Metric) =>
  rows.length ? rows.reduce((a, b) => (b[key] < a[key] ? b : a)) : undefined;
const max = (rows: Row[], key: Metric) =>
  rows.length ? rows.reduce((a, b) => (b[key] > a[key] ? b : a)) : undefined;
const verdict = (ok: boolean) => (ok ? 'met' : 'missed');

const TITLES: Record<Workload, string> = {
  best: 'Best case (workload.ts: triage hands off to a worker that calls 3 tools)',
  realistic:
    'Realistic (realistic.ts: routing, tool retrieval, a two-turn session with memory, a delegation between ' +
    'specialists, a non-idempotent write with a progress milestone)',
};

function tables(rows: Row[], out: string[]): void {
  out.push(
    'Speed (fake model with zero latency unless marked @50 ms):',
    '',
    '| Framework | Version | Model calls/run | Steps/run | Overhead/step (ms) | CPU/step (ms) | Runs/s c=1 | Runs/s c=32 | Overhead/step @50 ms (ms) | Runs/s c=1 @50 ms | Runs/s c=32 @50 ms |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  );
  for (const r of rows)
    out.push(
      `| ${r.label} | ${r.version} | ${r.modelCallsPerRun} | ${r.stepsPerRun} | ${fixed(r.overheadMsPerStep, 3)} | ` +
        `${fixed(r.cpuMsPerStep, 3)} | ` +
        `${fixed(r.runsPerSecC1, 0)} | ${fixed(r.runsPerSecC32, 0)} | ${fixed(r.overheadMsPerStepLatency, 3)} | ` +
        `${fixed(r.runsPerSecC1Latency, 2)} | ${fixed(r.runsPerSecC32Latency, 0)} |`,
    );
  out.push(
    '',
    'Memory and start-up:',
    '',
    '| Framework | Peak RSS (MB) | Peak heap (MB) | RSS after first run (MB) | Live heap after GC (MB) | Cold start to first run (ms) | Allocated/run (KB) |',
    '|---|--:|--:|--:|--:|--:|--:|',
  );
  for (const r of rows)
    out.push(
      `| ${r.label} | ${fixed(r.peakRss / MB, 0)} | ${fixed(r.peakHeap / MB, 0)} | ${fixed(r.rssAfterFirstRun / MB, 0)} | ` +
        `${fixed(r.heapAfterGc / MB, 1)} | ${fixed(r.coldStartMs, 0)} | ${fixed(r.allocBytesPerRun / 1024, 0)} |`,
    );
  const base = rows.find((r) => r.framework === 'switchboard-sqlite');
  if (!base) return;
  out.push(
    '',
    'Ratios Switchboard (SQLite, durable) / peer. Below 1 favours Switchboard for overhead, memory, cold start and ' +
      'allocations; above 1 favours it for runs/s:',
    '',
    '| Peer | Overhead/step | CPU/step | Runs/s c=1 | Runs/s c=32 | Overhead/step @50 ms | Runs/s c=32 @50 ms | Peak RSS | Peak heap | RSS after first run | Cold start | Allocated/run |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  );
  const ratio = (a: number, b: number) => fixed(a / b, 2);
  for (const r of rows.filter((x) => x !== base))
    out.push(
      `| ${r.label} | ${ratio(base.overheadMsPerStep, r.overheadMsPerStep)} | ${ratio(base.cpuMsPerStep, r.cpuMsPerStep)} | ` +
        `${ratio(base.runsPerSecC1, r.runsPerSecC1)} | ` +
        `${ratio(base.runsPerSecC32, r.runsPerSecC32)} | ${ratio(base.overheadMsPerStepLatency, r.overheadMsPerStepLatency)} | ` +
        `${ratio(base.runsPerSecC32Latency, r.runsPerSecC32Latency)} | ${ratio(base.peakRss, r.peakRss)} | ` +
        `${ratio(base.peakHeap, r.peakHeap)} | ${ratio(base.rssAfterFirstRun, r.rssAfterFirstRun)} | ` +
        `${ratio(base.coldStartMs, r.coldStartMs)} | ${ratio(base.allocBytesPerRun, r.allocBytesPerRun)} |`,
    );
}

/** The issue's goals, each met or missed on one workload's rows (or why it cannot be judged). */
export function goalLines(rows: Row[]): string[] {
  const sqlite = rows.find((r) => r.framework === 'switchboard-sqlite');
  const memory = rows.find((r) => r.framework === 'switchboard-memory');
  const peers = rows.filter((r) => !isSwitchboard(r));
  const lines: string[] = [];
  const need = (what: string) => `not judged (${what} not measured)`;

  const fastestInMemory = min(
    peers.filter((r) => !r.durable),
    'overheadMsPerStep',
  );
  lines.push(
    `1. Durable Switchboard (SQLite) ms/step at c=1 ≤ the fastest in-memory peer: ` +
      (sqlite && fastestInMemory
        ? `${fixed(sqlite.overheadMsPerStep, 3)} ms vs ${fixed(fastestInMemory.overheadMsPerStep, 3)} ms ` +
          `(${fastestInMemory.label}) → ${verdict(sqlite.overheadMsPerStep <= fastestInMemory.overheadMsPerStep)}.`
        : `${need(sqlite ? 'an in-memory peer' : 'switchboard-sqlite')}.`),
  );
  const bestC32 = max(peers, 'runsPerSecC32');
  lines.push(
    `2. Durable Switchboard (SQLite) runs/s at c=32 ≥ 3× the best peer: ` +
      (sqlite && bestC32
        ? `${fixed(sqlite.runsPerSecC32, 0)} vs 3 × ${fixed(bestC32.runsPerSecC32, 0)} = ${fixed(3 * bestC32.runsPerSecC32, 0)} ` +
          `(${bestC32.label}) → ${verdict(sqlite.runsPerSecC32 >= 3 * bestC32.runsPerSecC32)}.`
        : `${need(sqlite ? 'a peer' : 'switchboard-sqlite')}.`),
  );
  const fastest = min(peers, 'overheadMsPerStep');
  const rss = [sqlite, memory].filter((r): r is Row => r !== undefined);
  const rssOk = rss.length === 2 && rss.every((r) => r.peakRss <= 120 * MB);
  lines.push(
    `3. In-memory Switchboard ms/step ≤ 1/3 of the fastest peer, and peak RSS ≤ 120 MB (SQLite and in-memory): ` +
      (memory && fastest
        ? `${fixed(memory.overheadMsPerStep, 3)} ms vs ${fixed(fastest.overheadMsPerStep / 3, 3)} ms (${fastest.label} / 3); `
        : `${need(memory ? 'a peer' : 'switchboard-memory')}; `) +
      `peak RSS ${rss.map((r) => `${r.framework} ${fixed(r.peakRss / MB, 0)} MB`).join(', ') || 'n/a'} → ` +
      (memory && fastest && rss.length === 2
        ? `${verdict(memory.overheadMsPerStep <= fastest.overheadMsPerStep / 3 && rssOk)}.`
        : 'not judged.'),
  );
  const cold = rows.filter(isSwitchboard);
  lines.push(
    `4. Cold start ≤ 200 ms: ` +
      (cold.length
        ? `${cold.map((r) => `${r.framework} ${fixed(r.coldStartMs, 0)} ms`).join(', ')} → ` +
          `${verdict(cold.every((r) => r.coldStartMs <= 200))}.`
        : `${need('Switchboard')}.`),
  );
  // 5: per store that has a durable Switchboard, against the fastest durable peer on that store.
  const stores = [...new Set(rows.filter((r) => r.durable).map((r) => r.store))];
  const parts: string[] = [];
  const met: boolean[] = [];
  for (const store of stores) {
    // The first durable Switchboard on the store in FRAMEWORKS order: the default configuration
    // (switchboard-sqlite before its synchronous=NORMAL diagnostic).
    const sb = rows.find((r) => isSwitchboard(r) && r.durable && r.store === store);
    const peer = min(
      peers.filter((r) => r.durable && r.store === store),
      'overheadMsPerStep',
    );
    if (!sb || !peer) {
      parts.push(`${store}: not judged (${sb ? 'no durable peer' : 'no durable Switchboard'} measured)`);
      continue;
    }
    const ok = sb.overheadMsPerStep <= peer.overheadMsPerStep / 3;
    met.push(ok);
    parts.push(
      `${store}: ${fixed(sb.overheadMsPerStep, 3)} ms vs ${fixed(peer.overheadMsPerStep / 3, 3)} ms (${peer.label} / 3) → ${verdict(ok)}`,
    );
  }
  lines.push(
    `5. Durable Switchboard ms/step ≤ 1/3 of the fastest durable peer on the same store: ` +
      (parts.length ? `${parts.join('; ')}.` : `${need('a durable framework')}.`) +
      (met.length ? ` Overall → ${verdict(met.every(Boolean))}.` : ''),
  );
  return lines;
}

export function printMarkdown(
  rows: Row[],
  unavailable: Map<string, string>,
  workloads: Workload[],
  rounds: number,
): void {
  process.stdout.write(markdownReport(rows, unavailable, workloads, rounds));
}

/** The Markdown report as text (run.ts --json --markdown <file> writes it beside the JSON rows). */
export function markdownReport(
  rows: Row[],
  unavailable: Map<string, string>,
  workloads: Workload[],
  rounds: number,
): string {
  const cpu = os.cpus();
  const out: string[] = [
    `Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB RAM, ` +
      `${os.type()} ${os.release()}, Node ${process.version}. Medians of ${rounds} interleaved rounds, one process per framework and workload per round.`,
  ];
  for (const w of workloads) {
    const own = rows.filter((r) => r.workload === w);
    out.push('', `## ${TITLES[w]}`, '');
    if (own.length) tables(own, out);
    if (w === 'realistic') {
      const limited = own.filter((r) => r.limitations.length > 0);
      if (limited.length) {
        out.push(
          '',
          'Limitations: what a framework could not do in the realistic workload (the closest documented ' +
            'feature stands in), and settings it needed beyond its defaults:',
          '',
        );
        for (const r of limited) out.push(`- ${r.label}: ${r.limitations.join('; ')}.`);
      }
    }
    for (const [key, reason] of unavailable)
      if (key.endsWith(`/${w}`)) out.push('', `Unavailable: ${key.split('/')[0]}: ${reason.split('\n')[0]}`);
    if (own.length) out.push('', `Goals (${w} workload):`, '', ...goalLines(own));
  }
  return `${out.join('\n')}\n`;
}
