/**
 * The web console in a real browser (Debian's Chromium, driven by playwright-core; nothing is
 * downloaded) against the enterprise system behind a real gateway on an ephemeral port: sign in,
 * open a run of the demo tour and see its graph, approve a pending refund from the inbox and watch
 * the run finish and replay it, see agent health. Every page is screenshotted to docs/screenshots/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createEnterpriseSystem, type EnterpriseSystem } from '../../examples/enterprise/agents.ts';
import { TOUR } from '../../examples/enterprise/tour.ts';
import { createMemoryKeyStore, issueKey, type KeyStore } from '../../src/gateway/keys.ts';
import { createGateway, type Gateway } from '../../src/gateway/server.ts';
import { launchChromium, requireChromium } from '../helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CONSOLE_DIR = join(ROOT, 'console', 'dist');
const SHOTS = join(ROOT, 'docs', 'screenshots');
// The browser is part of the test bed: without it this file fails in CI and reports a skip locally.
const browserThere = requireChromium();

const STOP_AT = new Set([
  'run.completed',
  'run.failed',
  'run.cancelled',
  'run.escalated',
  'approval.requested',
]);

describe('web console', { skip: !browserThere }, () => {
  let dir: string;
  let app: EnterpriseSystem;
  let keys: KeyStore;
  let gateway: Gateway;
  let url: string;
  let browser: Browser;
  let userKey: string;
  let adminKey: string;
  const tour = new Map<string, string>();
  const pageErrors: string[] = [];
  const failed: string[] = [];
  // A poison run: advancing it fails the same way every time (a fault after its tool ran), until
  // the engine parks it as needs_attention. Armed only while that run is played.
  let poisoned = '';
  let armed = false;
  const refundRun = (): string => {
    const step = TOUR.find((s) => /refund/i.test(s.input));
    const runId = step && tour.get(step.title);
    assert.ok(runId, 'the tour has a refund step');
    return runId;
  };

  before(async () => {
    if (!existsSync(join(CONSOLE_DIR, 'index.html'))) {
      const built = spawnSync('npm', ['run', 'build', '--prefix', 'console'], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      assert.equal(built.status, 0, `console build failed:\n${built.stdout}\n${built.stderr}`);
    }
    dir = mkdtempSync(join(tmpdir(), 'sb-console-'));
    app = createEnterpriseSystem({
      dataDir: dir,
      reset: true,
      system: {
        pollMs: 20,
        errorRetryMs: 20,
        poisonAttempts: 2,
        onError: () => {},
        faults: {
          hit: (point) => {
            if (armed && point === 'afterToolBeforeJournal') throw new Error('disk quota exceeded');
          },
        },
      },
    });
    await app.system.start();
    keys = createMemoryKeyStore();
    userKey = (await issueKey(keys, { name: 'demo-user', role: 'user', plan: 'unlimited' })).key;
    adminKey = (await issueKey(keys, { name: 'ops-admin', role: 'admin', plan: 'unlimited' })).key;
    gateway = createGateway({
      system: app.system,
      keys,
      port: 0,
      adminPort: false,
      consoleDir: CONSOLE_DIR,
      onError: () => {},
      // As `switchboard dev` reports a restart of the serving process.
      instance: {
        source: 'switchboard.config.ts',
        reload: { generation: 2, reason: 'changed tools.ts', at: Date.now() },
      },
    });
    url = (await gateway.start()).url;
    // The demo tour, as the user the demo key acts as; each step is played until it settles.
    for (const step of TOUR) {
      const { runId } = await app.system.submit({
        actorId: 'demo-user',
        sessionId: `tour-${tour.size}`,
        input: step.input,
        channel: 'demo',
        ...(step.agent ? { agent: step.agent } : {}),
      });
      for await (const e of app.system.events(runId)) if (STOP_AT.has(e.type)) break;
      tour.set(step.title, runId);
    }
    armed = true;
    poisoned = (
      await app.system.submit({
        actorId: 'demo-user',
        sessionId: 'poison',
        input: 'Where is my order ORD-10042?',
      })
    ).runId;
    for await (const e of app.system.events(poisoned))
      if (e.type === 'run.needs_attention' || STOP_AT.has(e.type)) break;
    armed = false;
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await gateway?.stop();
    await app?.system.stop();
    await app?.business.close();
    await keys?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const open = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
    // Nothing leaves the machine: any request to another origin fails the test.
    await context.route(
      (u) => !u.href.startsWith(url),
      async (route) => {
        pageErrors.push(`external request: ${route.request().url()}`);
        await route.abort();
      },
    );
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      // Failed HTTP responses are logged by the browser too; they are checked below by URL.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
    });
    page.on('response', (r) => {
      if (r.status() >= 400)
        failed.push(`${r.status()} ${new URL(r.url()).pathname}${new URL(r.url()).search}`);
    });
    return page;
  };

  const signIn = async (page: Page, key: string, role: string): Promise<void> => {
    await page.goto(`${url}/`);
    await page.getByLabel('API key').fill(key);
    await page.keyboard.press('Enter');
    await page.getByTestId('role').filter({ hasText: role }).waitFor();
  };

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  it('signs in as a user, lists the tour runs, and shows a run with its graph and timeline', async () => {
    const page = await open();
    await page.goto(`${url}/`);
    await shot(page, 'sign-in');
    await signIn(page, userKey, 'user');
    // Under `switchboard dev` the console says the serving process was reloaded, and why.
    await page
      .getByTestId('reload')
      .filter({ hasText: /Reloaded .*: changed tools\.ts \(restart 1\)/ })
      .waitFor();
    // A user has no approvals inbox.
    assert.equal(await page.getByRole('link', { name: 'Approvals' }).count(), 0);
    for (const runId of tour.values()) await page.locator(`tr[data-run-id="${runId}"]`).waitFor();
    await page.locator('tr[data-run-id] td:nth-child(9)').first().filter({ hasText: /\d/ }).waitFor();
    await shot(page, 'runs');

    const refund = refundRun();
    await page.getByRole('link', { name: refund, exact: true }).click();
    await page.getByTestId('run-status').filter({ hasText: 'waiting' }).waitFor();
    for (const node of ['router', 'agent:commerce', 'human:approver'])
      await page.locator(`[data-node-id="${node}"]`).waitFor();
    const tools = await Promise.all(
      (await page.locator('[data-node-id^="tool:"]').all()).map((n) => n.getAttribute('data-node-id')),
    );
    assert.ok(
      tools.some((t) => /refund/.test(t ?? '')),
      `a refund tool node, got ${tools.join(', ')}`,
    );
    // Routing shows every candidate's per-signal scores and the threshold.
    const route = page.locator('li[data-type="route.decided"]');
    await route.locator('table.scores caption', { hasText: 'threshold' }).waitFor();
    assert.ok((await route.locator('tbody tr').count()) >= 2);
    await page.locator('li[data-type="approval.requested"]').waitFor();
    await shot(page, 'run-detail');

    // A graph node is a keyboard button that narrows the timeline to its events.
    await page.locator('[data-node-id="human:approver"]').focus();
    await page.keyboard.press('Enter');
    await page.locator('li[data-type="run.submitted"]').waitFor({ state: 'detached' });
    assert.ok((await page.locator('ol.timeline li').count()) >= 1);
    await page.getByRole('button', { name: /show all/ }).click();
    await page.locator('li[data-type="run.submitted"]').waitFor();

    // Chat: a message and its milestones, then the answer.
    await page.getByRole('link', { name: 'Chat' }).click();
    await page.getByText('connected').waitFor();
    await page.getByLabel('Message').fill('Where is my order ORD-10042?');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('.msg-system', { hasText: 'Handed to' }).waitFor();
    await page.locator('.msg-agent').waitFor();
    await shot(page, 'chat');
    await page.context().close();
  });

  it("hardening #14: the Runs table's Request column shows each run's request, a waiting run's too", async () => {
    const page = await open();
    await signIn(page, userKey, 'user');
    const headers = await page.locator('table.runs thead th').allTextContents();
    const column = headers.indexOf('Request') + 1;
    assert.ok(column > 0, headers.join(', '));
    const refund = refundRun();
    assert.equal((await app.system.get(refund)).status, 'waiting');
    for (const step of TOUR) {
      const runId = tour.get(step.title);
      assert.ok(runId, step.title);
      const cell = page.locator(`tr[data-run-id="${runId}"] td:nth-child(${column})`);
      await cell.filter({ hasText: step.input }).waitFor();
      assert.equal((await cell.textContent())?.trim(), step.input, step.title);
    }
    // Searching finds a run by its request.
    await page.getByRole('searchbox').fill('ORD-10003');
    await page.locator(`tr[data-run-id="${refund}"]`).waitFor();
    await page.context().close();
  });

  it('hardening #1: a poison run is listed under needs_attention and its timeline shows the error', async () => {
    assert.equal((await app.system.get(poisoned)).status, 'needs_attention');
    const page = await open();
    await signIn(page, userKey, 'user');
    await page.getByLabel('Status').selectOption('needs_attention');
    const row = page.locator(`tr[data-run-id="${poisoned}"]`);
    await row.locator('.badge.status-needs_attention', { hasText: 'needs_attention' }).waitFor();
    // Only parked runs are listed under that filter (once the filtered list has loaded).
    for (const runId of tour.values())
      await page.locator(`tr[data-run-id="${runId}"]`).waitFor({ state: 'detached' });
    assert.equal(await page.locator('tr[data-run-id]').count(), 1);
    await page.getByRole('link', { name: poisoned, exact: true }).click();
    await page.getByTestId('run-status').filter({ hasText: 'needs_attention' }).waitFor();
    await page.locator('li[data-type="run.needs_attention"]', { hasText: 'disk quota exceeded' }).waitFor();
    await page.context().close();
  });

  it('approves the pending refund from the inbox as an admin and watches the run finish', async () => {
    const page = await open();
    await signIn(page, adminKey, 'admin');
    await page.getByRole('link', { name: 'Approvals' }).click();
    const refund = refundRun();
    const card = page.locator('article.approval', {
      has: page.getByRole('link', { name: refund, exact: true }),
    });
    await card.waitFor();
    await shot(page, 'approvals');
    await card.getByLabel(/Comment/).fill('Damaged on arrival: photo checked.');
    await card.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').filter({ hasText: 'approved' }).waitFor();
    await card.waitFor({ state: 'detached' });

    await page.goto(`${url}/#/runs/${refund}`);
    await page.getByTestId('run-status').filter({ hasText: 'completed' }).waitFor();
    await page.locator('li[data-type="approval.decided"]', { hasText: 'approved by ops-admin' }).waitFor();
    await page.locator('li[data-type="run.completed"]').waitFor();
    await page.getByText('Damaged on arrival: photo checked.').waitFor();
    // Replay re-executes the finished run from its journal (approval served from the recording).
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    const verdict = page.getByTestId('replay-verdict');
    await verdict.getByText('Replay matches the recording').waitFor();
    assert.match((await verdict.textContent()) ?? '', /0 model calls, 0 tool executions/);
    assert.equal(await verdict.getAttribute('aria-live'), 'polite');
    await shot(page, 'run-completed');
    assert.equal((await app.system.get(refund)).status, 'completed');
    await page.context().close();
  });

  it('shows agent health with tools and risk classes, and usage', async () => {
    const page = await open();
    await signIn(page, adminKey, 'admin');
    await page.getByRole('link', { name: 'Agents' }).click();
    for (const agent of app.agents.map((a) => a.name)) {
      await page.locator(`article[data-agent="${agent}"]`).getByTestId('agent-health').waitFor();
    }
    const commerce = page.locator('article[data-agent="commerce"]');
    assert.match((await commerce.getByTestId('agent-health').textContent()) ?? '', /healthy|ok|degraded/);
    await shot(page, 'agents');

    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByText(/^Scope:/).waitFor();
    await page.locator('table tbody tr').first().waitFor();
    await shot(page, 'usage');
    await page.context().close();
  });

  it('raised no page errors and made no external requests', () => {
    assert.deepEqual(pageErrors, []);
    // The only failed requests are the role probes of the user's sign-in (403: not an approver or operator).
    assert.deepEqual([...new Set(failed)].sort(), [
      '403 /v1/approvals?status=pending&limit=1',
      '403 /v1/usage?since=1h',
    ]);
  });
});
