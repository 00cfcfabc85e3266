import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

describe('README', () => {
  it('the quick start runs as written and prints the answer', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(code, 'README has a ts code block');
    // Inside the package, so `import 'switchboard'` resolves to this checkout (self-reference).
    const dir = new URL(`../.readme-${process.pid}/`, import.meta.url).pathname;
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(`${dir}quick.ts`, code);
      const { stdout } = await run(process.execPath, ['quick.ts'], { cwd: dir, timeout: 60_000 });
      assert.match(stdout, /1 run\.submitted/);
      assert.match(stdout, /Order ORD-7 is in transit\./);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
