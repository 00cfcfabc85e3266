/**
 * Issue 19, must-show 5 (schedules): the console's Schedules page in a real browser (Debian's
 * Chromium via playwright-core) against a real gateway: an operator sees each schedule with its
 * next fire times and recent slots (fired ones linking to their runs, skipped ones with the
 * reason), pauses and resumes it (kept in the store) and triggers a run, then opens that run. A
 * user has no Schedules page and the API refuses it; the routes are in the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { defineAgent } from '../../src/core/agent.ts';
import { slotIso } from '../../src/core/schedule.ts';
import { createMemoryKeyStore, issueKey, type KeyStore } from '../../src/gateway/keys.ts';
import { createGateway, type Gateway } from '../../src/gateway/server.ts';
import { createOfflineModel } from '../../src/models/offline.ts';
import { createSqliteStore } from '../../src/store/sqlite/store.ts';
import { createSystem, type System } from '../../src/system.ts';
import { launchChromium, requireChromium } from '../helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CONSOLE_DIR = join(ROOT, 'console', 'dist');
const SHOTS = join(ROOT, 'docs', 'screenshots');
const browserThere = requireChromium();

type ApiBody = { error: { message: string }; schedules: { name: string }[] };

const reporter = defineAgent({
  name: 'reporter',
  responsibility: 'Write the nightly status report',
  instructions: 'Summarise the status in one line.',
  tools: [],
});

describe('console: schedules page (issue 19)', { skip: !browserThere }, () => {
  let dir: string;
  let system: System;
  let keys: KeyStore;
  let gateway: Gateway;
  let url: string;
  let browser: Browser;
  let operatorKey: string;
  let userKey: string;
  const backfilled: string[] = [];
  const pageErrors: string[] = [];
  const DAY = 86_400_000;
  // 02:00 in Paris is 01:00 UTC in winter: the slots of the last three nights.
  const night = (daysAgo: number): number => {
    const d = new Date(Date.now() - daysAgo * DAY);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 1, 0, 0);
  };

  before(async () => {
    if (!existsSync(join(CONSOLE_DIR, 'index.html'))) {
      const built = spawnSync('npm', ['run', 'build', '--prefix', 'console'], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      assert.equal(built.status, 0, `console build failed:\n${built.stdout}\n${built.stderr}`);
    }
    dir = mkdtempSync(join(tmpdir(), 'sb-console-sched-'));
    system = createSystem({
      agents: [reporter],
      model: createOfflineModel(),
      store: createSqliteStore({ path: join(dir, 'switchboard.db') }),
      pollMs: 20,
      onError: () => {},
      onWarning: () => {},
      schedules: [
        {
          name: 'nightly-report',
          cron: '0 2 * * *',
          timezone: 'Europe/Paris',
          agent: 'reporter',
          input: 'Nightly status report',
        },
      ],
    });
    await system.start();
    // Three nights backfilled (fired, with runs); an older one skipped as an outage leaves it.
    const r = await system.schedules.backfill('nightly-report', night(4) + 1, night(1) + 1);
    for (const f of r.fired) backfilled.push(f.runId);
    assert.equal(backfilled.length, 3);
    await system.store.schedules.claim({
      schedule: 'nightly-report',
      key: slotIso(night(6)),
      slot: night(6),
      kind: 'scheduled',
      status: 'skipped',
      runId: null,
      reason: 'missed: outside the catch-up window',
      at: Date.now(),
    });
    for (const runId of backfilled) await system.wait(runId);
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
    const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
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
  const api = async (
    key: string,
    method: string,
    path: string,
  ): Promise<{ status: number; body: ApiBody }> => {
    const res = await fetch(`${url}${path}`, { method, headers: { Authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as ApiBody };
  };

  it('an operator sees next fire times and recent slots with their runs; pause, resume and trigger work', async () => {
    const page = await open();
    await signIn(page, operatorKey, 'operator');
    await page.getByRole('link', { name: 'Schedules' }).click();
    const card = page.locator('article[data-schedule="nightly-report"]');
    await card.waitFor();
    await card.getByText('cron 0 2 * * * (Europe/Paris)').waitFor();
    const next = (await card.getByTestId('schedule-next').textContent()) ?? '';
    assert.equal(next.split(' · ').length, 3, `three next fire times: ${next}`);
    for (const runId of backfilled) await card.getByRole('link', { name: runId, exact: true }).waitFor();
    const skipped = card.locator(`tr[data-slot="${slotIso(night(6))}"]`);
    await skipped.getByText('missed: outside the catch-up window').waitFor();
    await page.screenshot({ path: join(SHOTS, 'schedules.png'), fullPage: true });

    await card.getByRole('button', { name: 'Pause' }).click();
    await card.getByTestId('schedule-state').filter({ hasText: 'paused' }).waitFor();
    assert.equal((await system.store.schedules.state('nightly-report'))?.paused, true, 'kept in the store');
    await card.getByRole('button', { name: 'Resume' }).click();
    await card.getByTestId('schedule-state').filter({ hasText: 'active' }).waitFor();
    assert.equal((await system.store.schedules.state('nightly-report'))?.paused, false);

    await card.getByRole('button', { name: 'Trigger now' }).click();
    const notice = card.getByRole('status').filter({ hasText: /Triggered run run_/ });
    await notice.waitFor();
    const runId = /Triggered run (\S+)/.exec((await notice.textContent()) ?? '')![1]!;
    const triggered = await system.store.schedules.list('nightly-report', { statuses: ['fired'] });
    assert.ok(
      triggered.some((r) => r.kind === 'trigger' && r.runId === runId),
      'recorded as a trigger',
    );
    await card.getByRole('link', { name: runId, exact: true }).click();
    await page.waitForURL(`${url}/#/runs/${runId}`);
    await page.getByTestId('run-status').waitFor();
    assert.deepEqual(pageErrors, []);
  });

  it('a user has no Schedules page and the API refuses it; unknown names are 404; the routes are in OpenAPI', async () => {
    const page = await open();
    await signIn(page, userKey, 'user');
    assert.equal(await page.getByRole('link', { name: 'Schedules' }).count(), 0);
    assert.equal((await api(userKey, 'GET', '/v1/schedules')).status, 403);
    assert.equal((await api(userKey, 'POST', '/v1/schedules/nightly-report/trigger')).status, 403);
    const missing = await api(operatorKey, 'POST', '/v1/schedules/nope/pause');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error.message, /unknown schedule "nope"/);
    const list = await api(operatorKey, 'GET', '/v1/schedules');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.schedules.map((s) => s.name),
      ['nightly-report'],
    );
    const doc = (await (await fetch(`${url}/v1/openapi.json`)).json()) as { paths: Record<string, object> };
    for (const p of [
      '/v1/schedules',
      '/v1/schedules/{name}/pause',
      '/v1/schedules/{name}/resume',
      '/v1/schedules/{name}/trigger',
    ])
      assert.ok(doc.paths[p], `${p} in the OpenAPI document`);
  });
});
