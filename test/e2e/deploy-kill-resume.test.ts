/**
 * Must-show 3 (issue 18): kill -9 of the process driving a deployment mid-bake; a second process
 * on the same SQLite file resumes it at the same step — no step repeated or skipped, the bake timer
 * continued from the `shifted` step's `at` (not restarted), and the lease owner really changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import type { DeploymentRecord } from '../../src/store/deployment-port.ts';

const SCRIPT = fileURLToPath(new URL('./fixtures/deploy/driver.ts', import.meta.url));

function start(env: Record<string, string>): {
  child: ChildProcess;
  first: Promise<Record<string, unknown>>;
} {
  const child = spawn(process.execPath, [SCRIPT], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = new Promise<Record<string, unknown>>((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString();
      const line = buf.split('\n')[0];
      if (buf.includes('\n') && line) resolve(JSON.parse(line) as Record<string, unknown>);
    });
    child.on('exit', (code) => reject(new Error(`driver exited ${code}`)));
  });
  return { child, first };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('a deployment whose driver is killed mid-bake is resumed by another process at the same step', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-deploy-kill-'));
  const db = join(dir, 'switchboard.db');
  const children: ChildProcess[] = [];
  const store = createSqliteStore({ path: db });
  try {
    const a = start({ SB_DB: db, SB_DEPLOY: '1' });
    children.push(a.child);
    const { deploymentId } = (await a.first) as { deploymentId: string };
    const read = async (): Promise<DeploymentRecord> => {
      const d = await store.deployments.deployment(deploymentId);
      assert.ok(d);
      return d;
    };
    const shifted = await until('the first shift', async () => {
      const d = await read();
      return d.steps.some((s) => s.decision === 'shifted') ? d : undefined;
    });
    const ownerA = shifted.owner;
    assert.ok(ownerA);
    const shiftAt = shifted.steps.find((s) => s.decision === 'shifted')?.at ?? 0;
    await new Promise((r) => setTimeout(r, 400)); // mid-bake (the bake is 4 s)
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
    const killed = await read();
    assert.deepEqual(
      killed.steps.map((s) => s.decision),
      ['started', 'validated', 'shifted'],
      'killed mid-bake',
    );

    const startedB = Date.now();
    const b = start({ SB_DB: db });
    children.push(b.child);
    await b.first;
    const done = await until('success', async () => {
      const d = await read();
      return d.status === 'in_progress' ? undefined : d;
    });
    assert.equal(done.status, 'succeeded');
    assert.deepEqual(
      done.steps.map((s) => s.decision),
      ['started', 'validated', 'shifted', 'baked', 'shifted', 'baked', 'post_validated', 'succeeded'],
      'no step repeated, none skipped',
    );
    assert.deepEqual(done.steps.slice(0, 3), killed.steps, 'the steps A wrote are kept as they were');
    assert.notEqual(done.owner, ownerA, 'process B took over');
    const baked = done.steps[3]?.at ?? 0;
    assert.ok(baked >= shiftAt + 4_000, 'the bake lasted its window');
    assert.ok(baked < startedB + 4_000, 'the bake continued from the shift, not restarted when B took over');
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
