import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

describe('chaos', () => {
  it('a workload killed with SIGKILL at seeded fault points completes every run with no duplicate effect', async () => {
    const script = new URL('./chaos.ts', import.meta.url).pathname;
    const { stdout } = await run(
      process.execPath,
      [script, '--runs', '8', '--seed', '11', '--p', '0.05', '--json'],
      {
        timeout: 300_000,
      },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
    assert.equal(result.runs, 8);
    assert.equal(result.completed, 8);
    assert.equal(result.duplicateEffects, 0);
    assert.ok((result.kills ?? 0) > 0, 'the seed must make the worker die at least once');
    // charge + reserve + notice per run, each exactly once.
    assert.equal(result.effects, 24);
  });
});
