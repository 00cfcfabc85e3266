// Summarizes a V8 .cpuprofile (from `node --cpu-prof`, or run.ts --profile): self time by
// function and by area (Switchboard module, framework package, node internals, idle, GC).
//
//   node bench/peers/profile-summary.ts <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const top = Number(topArg ?? 25);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

function area(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : `(native) ${name}`;
  // Switchboard's own files, from any checkout: its sources or their build (dist/src/…).
  const sb = /\/(?:dist\/)?src\/([^/]+\/?[^/]*)/.exec(url);
  if (sb && !url.includes('node_modules')) return `switchboard src/${sb[1]}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `pkg ${pkg[1]}`;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  if (url.includes('/bench/peers/')) return 'bench harness';
  return url;
}

const byFunction = new Map<string, number>();
const byArea = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const { functionName, url, lineNumber } = n.callFrame;
  const short = url.replace(/^.*\/(src|node_modules)\//, '$1/');
  const key = `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const a = area(url, functionName);
  byArea.set(a, (byArea.get(a) ?? 0) + us);
}
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled)`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(
      `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`,
    );
};
print('Self time by area', byArea);
print('Self time by function', byFunction);

// Callers (two frames up) of the heaviest Switchboard functions: who asks the store for work.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (id: number | undefined) => {
  const n = id === undefined ? undefined : byId.get(id);
  if (!n) return '(root)';
  const { functionName, url, lineNumber } = n.callFrame;
  return `${functionName || '(anonymous)'} ${url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${lineNumber + 1}`;
};
const heavy = [...byFunction]
  .filter(([k]) => k.includes('src/') && !k.includes('node_modules'))
  .sort((a, b) => b[1] - a[1])
  .slice(0, 4);
for (const [k] of heavy) {
  const callers = new Map<string, number>();
  for (const [id, us] of selfUs) {
    if (label(id) !== k) continue;
    const p1 = parent.get(id);
    const chain = `${label(p1)}  ←  ${label(p1 === undefined ? undefined : parent.get(p1))}`;
    callers.set(chain, (callers.get(chain) ?? 0) + us);
  }
  print(`Callers of ${k}`, callers);
}
