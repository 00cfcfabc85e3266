/**
 * Issue 22 items 2 and 8 in the console, in a real browser (Debian's Chromium via playwright-core):
 * runs made by the real CLI against the fixture chat-completions server, read through a real
 * gateway. A run whose prompt was fitted to an 8k context shows what was trimmed in its timeline;
 * a run whose delegated run escalated shows `escalated` and who owns it now. The console is built
 * from the current source into a directory of this test's own.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createMemoryKeyStore, issueKey } from '../../src/gateway/keys.ts';
import { createGateway, type Gateway } from '../../src/gateway/server.ts';
import { loadConfig, openProject, type Project } from '../../src/project.ts';
import { startLlmServer, type LlmServer } from '../fixtures/services/llm-server.ts';
import { PROJECT, realModelCli } from '../fixtures/services/real-model-cli.ts';
import { launchChromium, requireChromium } from '../helpers.ts';

const browserThere = requireChromium();
const CONSOLE_SRC = join(import.meta.dirname, '..', '..', 'console');

describe('issue 22 #2 and #8 in the console', { skip: !browserThere, timeout: 300_000 }, () => {
  const dist = mkdtempSync(join(tmpdir(), 'sb-console-dist-'));
  let server: LlmServer;
  let cli: ReturnType<typeof realModelCli>;
  let project: Project;
  let gateway: Gateway;
  let browser: Browser;
  let url = '';
  let key = '';
  let trimmed = '';
  let escalated = '';

  before(async () => {
    const built = spawnSync('npx', ['vite', 'build', '--outDir', dist, '--emptyOutDir'], {
      cwd: CONSOLE_SRC,
      encoding: 'utf8',
    });
    assert.equal(built.status, 0, `console build failed:\n${built.stdout}\n${built.stderr}`);
    server = await startLlmServer({
      script: (_req, n) =>
        [
          { toolCalls: [{ name: 'fetch_records', arguments: '{"customer":"A"}' }] },
          { text: 'Customer A has shipped orders.' },
          {
            toolCalls: [
              { name: 'delegate_to_archive', arguments: '{"task":"Customer A disputes ORD-A-10003"}' },
            ],
          },
          {
            toolCalls: [
              {
                name: 'escalate_to_human',
                arguments: '{"summary":"Dispute of ORD-A-10003","reason":"a dispute needs a person"}',
              },
            ],
          },
        ][n] ?? { text: 'unexpected' },
    });
    cli = realModelCli(server.url, { SWITCHBOARD_MODEL_CONTEXT_TOKENS: '8192' });
    trimmed = (await cli.submit('What did customer A order?', 'archive')).run.runId;
    escalated = (await cli.submit('I dispute ORD-A-10003', 'triage')).run.runId;
    const config = await loadConfig({ config: PROJECT, env: cli.env });
    project = await openProject(config, { env: cli.env, workers: false, onError: () => {} });
    const keys = createMemoryKeyStore();
    key = (await issueKey(keys, { name: 'ops', role: 'admin', plan: 'unlimited' })).key;
    gateway = createGateway({
      system: project.system,
      keys,
      port: 0,
      adminPort: false,
      consoleDir: dist,
      onError: () => {},
    });
    url = (await gateway.start()).url;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gateway?.stop();
    await project?.close();
    await server?.close();
    cli?.cleanup();
    rmSync(dist, { recursive: true, force: true });
  });

  it('shows what was trimmed to fit the context, and who owns an escalated run', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/`);
    await page.getByLabel('API key').fill(key);
    await page.keyboard.press('Enter');
    await page.getByTestId('role').filter({ hasText: 'admin' }).waitFor();

    await page.goto(`${url}/#/runs/${trimmed}`);
    await page.getByTestId('run-status').filter({ hasText: 'completed' }).waitFor();
    await page
      .locator('li[data-type="model.requested"]', {
        hasText: /Trimmed to fit: fetch_records result of s1c1 cut to [\d,]+ of [\d,]+ characters/,
      })
      .waitFor();
    await page
      .locator('li[data-type="model.requested"]', { hasText: /of 5,?734 prompt tokens/ })
      .first()
      .waitFor();

    await page.goto(`${url}/#/runs/${escalated}`);
    await page.getByTestId('run-status').filter({ hasText: 'escalated' }).waitFor();
    await page
      .getByTestId('run-escalation')
      .filter({ hasText: 'A person now owns this run (escalated by agent): a dispute needs a person' })
      .waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });
});
