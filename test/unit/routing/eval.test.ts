import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runEval } from '../../../src/cli/eval.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

async function run(argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runEval(argv, (l) => lines.push(l));
  return { code, lines };
}

void test('eval --json prints exactly the documented keys for an agents suite', async () => {
  const { code, lines } = await run([fixture('agents-suite.json'), '--json']);
  assert.equal(code, 0);
  assert.equal(lines.length, 1);
  const r = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
  assert.deepEqual(Object.keys(r).sort(), [
    'abstainRecall',
    'cases',
    'falseAbstainRate',
    'fitMs',
    'kind',
    'latencyMs',
    'recallAt',
    'suite',
    'top1',
  ]);
  assert.equal(r.suite, 'fixture-agents');
  assert.equal(r.kind, 'agents');
  assert.equal(r.cases, 4);
  assert.equal(r.top1, 1);
  assert.equal(r.abstainRecall, 1);
  assert.equal(r.falseAbstainRate, 0);
  assert.deepEqual(Object.keys(r.recallAt as object), ['1', '3', '5', '10']);
  assert.deepEqual(Object.keys(r.latencyMs as object).sort(), ['p50', 'p99']);
});

void test('eval on a tools suite counts a hit only when every expected tool is in the top k', async () => {
  const { code, lines } = await run([fixture('tools-suite.json'), '--k', '1,2', '--json']);
  assert.equal(code, 0);
  const r = JSON.parse(lines[0] ?? '') as { recallAt: Record<string, number>; abstainRecall: number };
  assert.equal(r.recallAt['1'], 0.5, 'the two-tool case cannot be a hit at k=1');
  assert.equal(r.recallAt['2'], 1);
  assert.equal(r.abstainRecall, 1, 'the per-case catalog has nothing for translation');
});

void test('eval prints a readable report without --json', async () => {
  const { code, lines } = await run([fixture('agents-suite.json')]);
  assert.equal(code, 0);
  assert.ok(lines.some((l) => /^top-1 accuracy \(in scope\)\s+100\.0%/.test(l)));
  assert.ok(lines.some((l) => /^abstention recall \(oos\)\s+100\.0%/.test(l)));
  assert.ok(lines.some((l) => /^latency\s+p50 .* ms\s+p99 .* ms/.test(l)));
});

void test('a malformed suite exits non-zero naming the bad field', async () => {
  const { code, lines } = await run([fixture('malformed-suite.json')]);
  assert.equal(code, 1);
  assert.match(lines.join('\n'), /field cases\.0\.expected/);
});

void test('unknown flags and bad --k values exit non-zero with a one-line reason', async () => {
  const unknown = await run([fixture('agents-suite.json'), '--fast']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.lines.length, 1);
  assert.match(unknown.lines[0] ?? '', /--fast/);
  const badK = await run([fixture('agents-suite.json'), '--k', '1,x']);
  assert.equal(badK.code, 2);
  assert.match(badK.lines[0] ?? '', /--k/);
  const missing = await run([]);
  assert.equal(missing.code, 2);
  const unreadable = await run([fixture('does-not-exist.json')]);
  assert.equal(unreadable.code, 1);
});
