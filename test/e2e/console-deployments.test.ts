/**
 * Issue 18 (deployments): the console's Deployments page in a real browser (Debian's Chromium via
 * playwright-core) against a real gateway. Two versions of one agent, a canary in progress: an
 * operator sees the live split as weights per version, each step with its decision and reason,
 * and the status; pauses it (the HTTP API says paused too), resumes it and rolls it back — the
 * split returns to the old version. A user key has no Deployments page and no action buttons.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { defineAgent } from '../../src/core/agent.ts';
import { createMemoryKeyStore, issueKey, type KeyStore } from '../../src/gateway/keys.ts';
import { createGateway, type Gateway } from '../../src/gateway/server.ts';
import { scriptedModel } from '../../src/models/scripted.ts';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import { createSystem, type System } from '../../src/system.ts';
import { launchChromium, requireChromium } from '../helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CONSOLE_DIR = join(ROOT, 'console', 'dist');
const SHOTS = join(ROOT, 'docs', 'screenshots');
const browserThere = requireChromium();

interface ApiBody {
  status: string;
  steps: { decision: string; weights: Record<string, number> }[];
  weights: Record<string, number>;
  aliases: { agent: string; alias: string; weights: Record<string, number> }[];
}

const base = { name: 'orders', responsibility: 'Order questions', tools: [] };

describe('console: deployments page (issue 18)', { skip: !browserThere, timeout: 120_000 }, () => {
  let dir: string;
  let system: System;
  let keys: KeyStore;
  let gateway: Gateway;
  let url: string;
  let browser: Browser;
  let operatorKey: string;
  let userKey: string;
  let deploymentId: string;
  const pageErrors: string[] = [];

  /** Poll until `probe` answers (the driver ticks on its own timer). */
  const until = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 600; i++) {
      const v = await probe();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`gave up waiting for ${what}`);
  };

  before(async () => {
    if (!existsSync(join(CONSOLE_DIR, 'index.html'))) {
      const built = spawnSync('npm', ['run', 'build', '--prefix', 'console'], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      assert.equal(built.status, 0, `console build failed:\n${built.stdout}\n${built.stderr}`);
    }
    dir = mkdtempSync(join(tmpdir(), 'sb-console-deploy-'));
    system = createSystem({
      agents: [
        defineAgent({ ...base, version: 'v1', instructions: 'Be brief.' }),
        defineAgent({ ...base, version: 'v2', instructions: 'Be briefer.' }),
      ],
      model: scriptedModel([{ text: 'Your order has shipped.' }]),
      store: createSqliteStore({ path: join(dir, 'switchboard.db') }),
      pollMs: 20,
      onError: () => {},
      onWarning: () => {},
      deployments: { evaluateEveryMs: 40, leaseMs: 2_000 },
    });
    await system.start();
    // Runs of v1 before the deployment: the figures table has something to show.
    for (let i = 0; i < 3; i++) {
      const { runId } = await system.submit({
        actorId: `a${i}`,
        sessionId: `s${i}`,
        input: 'Where is order 1?',
        agent: 'orders',
      });
      await system.wait(runId);
    }
    // A canary that shifts 25% to v2 and then bakes for an hour: in progress for the whole test.
    deploymentId = (
      await system.deployments.deploy({ agent: 'orders', to: 'v2', strategy: 'canary:25:1h', by: 'ops' })
    ).deploymentId;
    await until('the first shift', async () => {
      const d = await system.deployments.get(deploymentId);
      return d.steps.some((s) => s.decision === 'shifted') ? d : undefined;
    });
    keys = createMemoryKeyStore();
    operatorKey = (await issueKey(keys, { name: 'ops', role: 'operator', plan: 'unlimited' })).key;
    userKey = (await issueKey(keys, { name: 'someone', role: 'user', plan: 'unlimited' })).key;
    gateway = createGateway({
      system,
      keys,
      port: 0,
      adminPort: false,
      consoleDir: CONSOLE_DIR,
      onError: () => {},
    });
    url = (await gateway.start()).url;
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await gateway?.stop();
    await system?.stop();
    await system?.store.close();
    await keys?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const open = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    return page;
  };
  const signIn = async (page: Page, key: string, role: string): Promise<void> => {
    await page.goto(`${url}/`);
    await page.getByLabel('API key').fill(key);
    await page.keyboard.press('Enter');
    await page.getByTestId('role').filter({ hasText: role }).waitFor();
  };
  const api = async (key: string, path: string): Promise<{ status: number; body: ApiBody }> => {
    const res = await fetch(`${url}${path}`, { headers: { Authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as ApiBody };
  };
  const liveWeights = async (): Promise<Record<string, number> | undefined> =>
    (await api(operatorKey, '/v1/aliases')).body.aliases.find(
      (a) => a.agent === 'orders' && a.alias === 'live',
    )?.weights;

  it('an operator sees the split, the steps with their reasons and the status; pause, resume and rollback work', async () => {
    const page = await open();
    await signIn(page, operatorKey, 'operator');
    await page.getByRole('link', { name: 'Deployments' }).click();
    const split = page.locator('article[data-agent="orders"] [data-alias="live"] [data-testid="weights"]');
    await split.locator('.weight[data-version="v1"][data-weight="75"]').waitFor();
    await split.locator('.weight[data-version="v2"][data-weight="25"]').waitFor();

    const detail = page.locator(`section[data-deployment="${deploymentId}"]`);
    const status = detail.getByTestId('deployment-status');
    await status.filter({ hasText: 'in_progress' }).waitFor();
    const started = detail.locator('li[data-decision="started"]');
    await started.getByTestId('step-reason').filter({ hasText: 'v1 → v2 (canary:25:1h) by ops' }).waitFor();
    const shifted = detail.locator('li[data-decision="shifted"]');
    await shifted.waitFor();
    assert.notEqual(((await shifted.getByTestId('step-reason').textContent()) ?? '').trim(), '');
    await shifted.locator('.weight[data-version="v2"][data-weight="25"]').waitFor();
    await page.screenshot({ path: join(SHOTS, 'deployments.png'), fullPage: true });

    await detail.getByRole('button', { name: 'Pause' }).click();
    await status.filter({ hasText: 'paused' }).waitFor();
    await detail.locator('li[data-decision="paused"]').getByText('paused by ops').waitFor();
    assert.equal((await api(operatorKey, `/v1/deployments/${deploymentId}`)).body.status, 'paused');

    await detail.getByRole('button', { name: 'Resume' }).click();
    await status.filter({ hasText: 'in_progress' }).waitFor();
    assert.equal((await api(operatorKey, `/v1/deployments/${deploymentId}`)).body.status, 'in_progress');

    await detail.getByRole('button', { name: 'Rollback' }).click();
    await status.filter({ hasText: 'rolled_back' }).waitFor();
    await detail.locator('li[data-decision="rolled_back"]').getByText('rolled back by ops').waitFor();
    // Nothing left to do on a finished deployment; the split is back on v1 alone.
    assert.equal(await detail.getByRole('button').count(), 0);
    await split.locator('.weight[data-version="v1"][data-weight="100"]').waitFor();
    assert.equal(await split.locator('.weight[data-version="v2"]').count(), 0);
    const after = await api(operatorKey, `/v1/deployments/${deploymentId}`);
    assert.equal(after.body.status, 'rolled_back');
    assert.deepEqual(after.body.steps.at(-1)?.weights, { v1: 100 });
    assert.deepEqual(await liveWeights(), { v1: 100 });
    assert.deepEqual(pageErrors, []);
  });

  it('a user key has no Deployments page, no action buttons, and the API refuses it', async () => {
    const page = await open();
    await signIn(page, userKey, 'user');
    assert.equal(await page.getByRole('link', { name: 'Deployments' }).count(), 0);
    await page.goto(`${url}/#/deployments/${encodeURIComponent(deploymentId)}`);
    await page.getByRole('link', { name: 'Runs' }).first().waitFor();
    for (const name of ['Promote', 'Pause', 'Resume', 'Rollback'])
      assert.equal(await page.getByRole('button', { name }).count(), 0, `no ${name} button`);
    assert.equal(await page.getByTestId('deployment-status').count(), 0);
    assert.equal((await api(userKey, `/v1/deployments/${deploymentId}`)).status, 403);
    assert.equal((await api(userKey, '/v1/aliases')).status, 403);
    assert.deepEqual(pageErrors, []);
  });
});
