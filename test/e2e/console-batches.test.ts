/**
 * Issue 19 must-show 5 (batches): the console's Batches page in a real browser (Debian's Chromium
 * driven by playwright-core) against a real gateway: the caller's batches with their counts and
 * status, a batch's records in input order with links to their runs, cancel by the owner; another
 * user sees none of them, an operator sees them all. Build the console first (`npm run
 * build:console`); this file builds it only when console/dist is missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, requireChromium } from '../helpers.ts';
import { api, gatedTool, orderModel, startGateway, type Harness } from './fixtures/gateway.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CONSOLE_DIR = join(ROOT, 'console', 'dist');
const SHOTS = join(ROOT, 'docs', 'screenshots');
const browserThere = requireChromium();

const jsonl = (records: unknown[]): string => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('console: batches (issue 19)', { skip: !browserThere, timeout: 120_000 }, () => {
  const gate = gatedTool();
  let h: Harness;
  let browser: Browser;
  const keys: Record<string, string> = {};
  let done = '';
  let running = '';
  const pageErrors: string[] = [];

  before(async () => {
    if (!existsSync(join(CONSOLE_DIR, 'index.html'))) {
      const built = spawnSync('npm', ['run', 'build:console'], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(built.status, 0, `console build failed:\n${built.stdout}\n${built.stderr}`);
    }
    h = await startGateway({
      tools: [gate.tool],
      model: orderModel(),
      gateway: { consoleDir: CONSOLE_DIR, batch: { share: 0.5, concurrency: 8, maxBodyBytes: 1 << 20 } },
    });
    for (const [name, role] of [
      ['alice', 'user'],
      ['bob', 'user'],
      ['olga', 'operator'],
    ] as const)
      keys[name] = (await h.key(name, role, 'unlimited')).key;
    const alice = api(h, keys.alice!);
    const post = async (body: string): Promise<string> => {
      const res = await alice('/v1/batches', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-ndjson' },
        body,
      });
      assert.equal(res.status, 201);
      return ((await res.json()) as { batchId: string }).batchId;
    };
    // One batch that finishes (the tool is let through), with an error row among its records.
    gate.release();
    done = await post(
      jsonl([
        { id: 'a', input: 'Where is order 1?' },
        { id: 'b', input: '' },
        { id: 'c', input: 'And 2?' },
      ]),
    );
    while (((await (await alice(`/v1/batches/${done}`)).json()) as { status: string }).status !== 'completed')
      await new Promise((r) => setTimeout(r, 20));
    // One that stays running: its tool is held.
    gate.reset();
    const already = gate.started.length;
    running = await post(jsonl([1, 2, 3, 4, 5].map((i) => ({ id: `r${i}`, input: `Hold ${i}` }))));
    while (gate.started.length < already + 2) await new Promise((r) => setTimeout(r, 20));
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
  });

  after(async () => {
    gate.release();
    await browser?.close();
    await h?.close();
  });

  const open = async (key: string, role: string): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.route(
      (u) => !u.href.startsWith(h.url),
      async (route) => {
        pageErrors.push(`external request: ${route.request().url()}`);
        await route.abort();
      },
    );
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${h.url}/`);
    await page.getByLabel('API key').fill(key);
    await page.keyboard.press('Enter');
    await page.getByTestId('role').filter({ hasText: role }).waitFor();
    return page;
  };

  it("must-show 5: the owner sees her batches' counts and records, follows a record to its run, and cancels", async () => {
    const page = await open(keys.alice!, 'user');
    await page.getByRole('link', { name: 'Batches' }).click();
    await page.getByRole('heading', { name: 'Batches' }).waitFor();
    const doneRow = page.locator(`tr[data-batch-row="${done}"]`);
    await doneRow.getByTestId('batch-done').filter({ hasText: '3/3' }).waitFor();
    assert.equal(await doneRow.getByTestId('batch-failed').textContent(), '1');
    await page.locator(`tr[data-batch-row="${running}"]`).getByText('running').waitFor();

    await page.getByRole('link', { name: done, exact: true }).click();
    const records = page.getByRole('table', { name: `Records of ${done}` });
    await records.locator('tr[data-record="c"]').waitFor();
    assert.deepEqual(
      await Promise.all((await records.locator('tbody tr').all()).map((r) => r.getAttribute('data-record'))),
      ['a', 'b', 'c'],
    );
    await records.locator('tr[data-record="b"]').getByText('invalid').waitFor();
    await records
      .locator('tr[data-record="b"]')
      .getByText(/line 2: input must be a non-empty string/)
      .waitFor();
    await page.screenshot({ path: join(SHOTS, 'batches.png'), fullPage: true });
    // A record links to its run.
    const runLink = records.locator('tr[data-record="a"] a');
    const runId = await runLink.textContent();
    await runLink.click();
    await page.getByTestId('run-status').filter({ hasText: 'completed' }).waitFor();
    assert.equal(decodeURIComponent(new URL(page.url()).hash), `#/runs/${runId}`);

    // The running batch: cancel it from its page.
    await page.goto(`${h.url}/#/batches/${running}`);
    await page.getByTestId('batch-status').filter({ hasText: 'running' }).waitFor();
    await page.getByRole('button', { name: 'Cancel batch' }).click();
    await page.getByTestId('batch-status').filter({ hasText: 'cancelled' }).waitFor();
    await page
      .locator(`tr[data-batch-row="${running}"]`)
      .getByTestId('batch-done')
      .filter({ hasText: '5/5' })
      .waitFor();
    assert.equal(await page.getByRole('button', { name: 'Cancel batch' }).count(), 0);
    const b = (await (await api(h, keys.alice!)(`/v1/batches/${running}`)).json()) as {
      counts: Record<string, number>;
    };
    assert.deepEqual(b.counts, { cancelled: 5 });
    assert.deepEqual(pageErrors, []);
  });

  it("must-show 5: another user sees none of alice's batches; an operator sees them all", async () => {
    const bob = await open(keys.bob!, 'user');
    await bob.goto(`${h.url}/#/batches/${done}`);
    await bob.getByText('No batches yet').waitFor();
    assert.equal(await bob.getByRole('table', { name: `Records of ${done}` }).count(), 0);

    const olga = await open(keys.olga!, 'operator');
    await olga.goto(`${h.url}/#/batches`);
    await olga.locator(`tr[data-batch-row="${done}"]`).waitFor();
    await olga.locator(`tr[data-batch-row="${running}"]`).waitFor();
    assert.equal(await olga.locator(`tr[data-batch-row="${done}"] td`).nth(4).textContent(), 'alice');
    assert.deepEqual(pageErrors, []);
  });
});
