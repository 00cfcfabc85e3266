/**
 * `switchboard dev` through the real binary: a run in flight when the configuration is saved
 * continues on the new code after the restart, and the step it had recorded is not repeated
 * (counted from the project's own ledger file).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const SRC = pathToFileURL(fileURLToPath(new URL('../../src/index.ts', import.meta.url))).href;

/** A project whose second tool blocks until a GO file exists; VERSION is what a save changes. */
const config = (version: string): string => `import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { defineAgent, defineConfig, defineTool } from '${SRC}';

const VERSION = '${version}';
const dir = import.meta.dirname;

const stamp = defineTool({
  name: 'stamp_ledger',
  description: 'Stamp the ledger with a mark',
  input: z.object({}),
  risk: 'write',
  // Not idempotent: its outcome is committed before the next step, so it must never run twice.
  run: (_args, ctx) => {
    appendFileSync(join(dir, 'ledger.jsonl'), JSON.stringify({ key: ctx.idempotencyKey, version: VERSION }) + '\\n');
    return { summary: 'The ledger is stamped.' };
  },
});
const waitForGo = defineTool({
  name: 'wait_for_go',
  description: 'Wait for the go signal',
  input: z.object({}),
  risk: 'read',
  idempotent: true,
  retry: { maxAttempts: 20, initialDelayMs: 50, maxDelayMs: 200 },
  run: async (_args, ctx) => {
    appendFileSync(join(dir, 'waits.jsonl'), JSON.stringify({ version: VERSION, attempt: ctx.attempt }) + '\\n');
    while (!existsSync(join(dir, 'GO'))) {
      if (ctx.signal.aborted) throw new Error('stopped while waiting');
      await new Promise((r) => setTimeout(r, 25));
    }
    return { summary: 'Go arrived under ' + VERSION + '.' };
  },
});
const clerk = defineAgent({
  name: 'clerk',
  responsibility: 'Stamp the ledger and wait for the go signal',
  instructions: 'Stamp, then wait.',
  tools: [stamp, waitForGo],
});
export default defineConfig({ agents: [clerk], limits: { pollMs: 50, sweepIntervalMs: 200, leaseMs: 2000 } });
`;

describe('switchboard dev', { timeout: 120_000 }, () => {
  // Inside the checkout, so the project's `import 'zod'` resolves as it would in a real project.
  const dir = mkdtempSync(fileURLToPath(new URL('../.dev-', import.meta.url)));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('restarts on save; the run in flight continues on the new code without repeating its recorded step', async () => {
    const file = join(dir, 'switchboard.config.ts');
    writeFileSync(file, config('v1'));
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env))
      if (!k.startsWith('SWITCHBOARD_') && k !== 'NODE_TEST_CONTEXT') env[k] = v;
    const child = spawn(process.execPath, [BIN, 'dev', '--port', '0', '--admin-port', '0'], {
      cwd: dir,
      env,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const waitFor = async (re: RegExp, ms = 30_000): Promise<RegExpExecArray> => {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = re.exec(out);
        if (m) return m;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await waitFor(/\[dev\] serving .*clerk/);
      const url = (await waitFor(/switchboard gateway on (http:\/\/[\d.:]+)/))[1]!;
      // A key, made by the CLI in the same project.
      const key = await new Promise<string>((resolve, reject) => {
        const k = spawn(
          process.execPath,
          [BIN, 'keys', 'create', '--name', 'dev', '--role', 'admin', '--json'],
          { cwd: dir, env },
        );
        let s = '';
        k.stdout.on('data', (d: Buffer) => (s += d.toString()));
        k.on('close', (code) =>
          code === 0 ? resolve((JSON.parse(s.trim()) as { key: string }).key) : reject(new Error(s)),
        );
      });
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      const submitted = (await (
        await fetch(`${url}/v1/runs`, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            input: 'Stamp the ledger and then wait for the go signal',
            sessionId: 'd1',
          }),
        })
      ).json()) as { runId: string };
      // Step 1 recorded, step 2 in flight under v1.
      const waits = join(dir, 'waits.jsonl');
      const deadline = Date.now() + 20_000;
      while (!existsSync(waits) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      assert.ok(existsSync(waits), `the run reached its second tool:\n${out}`);
      assert.equal(readFileSync(join(dir, 'ledger.jsonl'), 'utf8').trim().split('\n').length, 1);

      writeFileSync(file, config('v2'));
      await waitFor(/\[dev\] changed switchboard\.config\.ts: restarting/);
      await waitFor(/\[dev\] reloaded \(changed switchboard\.config\.ts\)/);
      const url2 = [...out.matchAll(/switchboard gateway on (http:\/\/[\d.:]+)/g)].at(-1)![1]!;
      // What the console polls to show the reload.
      const status = (await (await fetch(`${url2}/v1/status`, { headers })).json()) as {
        reload: { generation: number; reason: string };
      };
      assert.equal(status.reload.generation, 2);
      assert.equal(status.reload.reason, 'changed switchboard.config.ts');
      // The new process took the run over: its second tool runs again under v2.
      const until = Date.now() + 20_000;
      while (!readFileSync(waits, 'utf8').includes('"v2"') && Date.now() < until)
        await new Promise((r) => setTimeout(r, 25));
      assert.match(readFileSync(waits, 'utf8'), /"v2"/, out);
      writeFileSync(join(dir, 'GO'), '');
      let run = { status: '', output: '' };
      const done = Date.now() + 20_000;
      while (Date.now() < done) {
        run = (await (await fetch(`${url2}/v1/runs/${submitted.runId}`, { headers })).json()) as typeof run;
        if (run.status === 'completed') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(run.status, 'completed', out);
      assert.match(run.output, /Go arrived under v2\./);
      const stamps = readFileSync(join(dir, 'ledger.jsonl'), 'utf8').trim().split('\n');
      assert.equal(stamps.length, 1, `the recorded write was not repeated: ${stamps.join(' ')}`);
      assert.match(stamps[0]!, /"v1"/);
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('close', r));
    }
  });
});
