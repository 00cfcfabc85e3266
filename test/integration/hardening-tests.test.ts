/**
 * Hardening of the tests themselves: a missing service fails CI and is a visible skip locally.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/services/${name}.ts`, import.meta.url));

/** Run one test file in a fresh `node --test`, with `env` on top of this process's (CI unset). */
function nodeTest(file: string, env: NodeJS.ProcessEnv): { status: number | null; out: string } {
  const base = { ...process.env };
  delete base.CI;
  // The parent runner's own switches must not leak into the child run.
  delete base.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', file], {
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const count = (out: string, what: string): number => Number(new RegExp(`ℹ ${what} (\\d+)`).exec(out)?.[1]);

const SERVICES = [
  {
    name: 'PostgreSQL',
    file: fixture('needs-postgres'),
    env: { SWITCHBOARD_TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' },
    says: 'PostgreSQL not reachable at postgres://postgres@127.0.0.1:1/none',
  },
  {
    name: 'Chromium',
    file: fixture('needs-chromium'),
    env: { SWITCHBOARD_CHROMIUM: '/nonexistent/chromium' },
    says: 'Chromium not found at /nonexistent/chromium',
  },
] as const;

describe('hardening #18: a missing service fails CI and is a visible skip locally', () => {
  for (const s of SERVICES) {
    it(`hardening #18: ${s.name} missing with CI=true fails the run`, () => {
      const r = nodeTest(s.file, { ...s.env, CI: 'true' });
      assert.notEqual(r.status, 0, r.out);
      assert.ok(count(r.out, 'fail') >= 1, r.out);
      assert.equal(count(r.out, 'pass'), 0, r.out);
      assert.ok(r.out.includes(s.says), r.out);
      assert.match(r.out, /CI requires it/);
    });

    it(`hardening #18: ${s.name} missing without CI is reported as skipped, not passed`, () => {
      const r = nodeTest(s.file, s.env);
      assert.equal(r.status, 0, r.out);
      assert.equal(count(r.out, 'skipped'), 1, r.out);
      assert.equal(count(r.out, 'pass'), 0, r.out);
      assert.equal(count(r.out, 'fail'), 0, r.out);
      assert.ok(r.out.includes(`﹣ ${s.says}`), r.out);
    });
  }
});
