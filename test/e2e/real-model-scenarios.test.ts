/**
 * Issue 22 item 11 (must-show 4): `npm run scenarios -- --json --turn-timeout 60000` with
 * SWITCHBOARD_MODEL=openai-compatible:… pointing at the llama-server fixture prints per-scenario
 * failures; the offline model's run still passes 48 of 49 scenarios, as before the change.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadScenarios } from '../../examples/enterprise/scenario-suite.ts';
import { startLlmServer, type LlmServer } from '../fixtures/services/llm-server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface SuiteJson {
  scenarios: number;
  passed: number;
  toolDefinitionTokens: { routed: number; allTools: number };
  failures: { scenario: string; turn: number | null; expected: string; got: string }[];
}

function scenarios(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; json: SuiteJson; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '-s', 'scenarios', '--', '--json', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve({ code, json: JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as SuiteJson, stderr });
      } catch {
        reject(new Error(`not JSON (exit ${code}): ${stdout}\n${stderr}`));
      }
    });
  });
}

/** Every failure names a scenario of the run, a turn of it (or null: the end-of-scenario checks), and says what was expected and got. */
function assertWellFormed(json: SuiteJson, names: Map<string, number>): void {
  for (const f of json.failures) {
    assert.deepEqual(Object.keys(f).sort(), ['expected', 'got', 'scenario', 'turn'], JSON.stringify(f));
    const turns = names.get(f.scenario);
    assert.ok(turns !== undefined, `unknown scenario ${f.scenario}`);
    assert.ok(
      f.turn === null || (Number.isInteger(f.turn) && f.turn >= 1 && f.turn <= turns),
      JSON.stringify(f),
    );
    assert.ok(typeof f.expected === 'string' && f.expected.length > 0, JSON.stringify(f));
    assert.ok(typeof f.got === 'string' && f.got.length > 0, JSON.stringify(f));
  }
  const failed = new Set(json.failures.map((f) => f.scenario));
  assert.equal(
    failed.size,
    json.scenarios - json.passed,
    'each failed scenario has its failures, passed ones none',
  );
}

describe('issue 22 item 11: the scenario suite on any SWITCHBOARD_MODEL', () => {
  let server: LlmServer;
  const names = new Map(loadScenarios().map((s) => [s.name, s.turns.length]));
  before(async () => {
    server = await startLlmServer();
  });
  after(() => server.close());

  it('against the fixture model: --turn-timeout is taken, and the JSON lists per-scenario failures', async () => {
    const { code, json, stderr } = await scenarios(['--turn-timeout', '60000', '--filter', 'refund'], {
      SWITCHBOARD_MODEL: `openai-compatible:${server.url}#qwen2-tiny`,
    });
    assert.ok(server.requests.length > 0, `the suite ran on the fixture: ${stderr}`);
    assert.equal(json.scenarios, [...names.keys()].filter((n) => n.includes('refund')).length);
    assert.ok(json.passed < json.scenarios, 'a model that answers "OK" fails most scenarios');
    assert.ok(json.failures.length > 0);
    assertWellFormed(json, names);
    assert.ok(json.failures.some((f) => f.expected === 'process_refund called' && f.got === 'called: none'));
    assert.equal(code, 1, 'below the 90% bar');
  });

  it('the per-turn limit is the one given: a slow model misses it and the failure says so', async () => {
    const slow = await startLlmServer({ script: () => ({ slowFirstTokenMs: 3000, then: { text: 'late' } }) });
    try {
      const { json } = await scenarios(['--turn-timeout', '1000', '--filter', 'refund-partial'], {
        SWITCHBOARD_MODEL: `openai-compatible:${slow.url}#qwen2-tiny`,
      });
      assertWellFormed(json, names);
      assert.ok(
        json.failures.some((f) => f.got === 'status running (no end within 1000 ms)'),
        JSON.stringify(json.failures),
      );
    } finally {
      await slow.close();
    }
  });

  it('a bad --turn-timeout is one clear line and exit 2', async () => {
    const child = spawn('npm', ['run', '-s', 'scenarios', '--', '--turn-timeout', 'soon'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 2);
    assert.match(stderr, /--turn-timeout: must be a positive integer \(ms\), got "soon"/);
  });

  it('the offline model still passes 48 of 49 scenarios, its one failure listed', async () => {
    const { code, json } = await scenarios([]);
    assert.equal(json.scenarios, 49);
    assert.equal(json.passed, 48);
    assert.equal(code, 0);
    assert.ok(json.failures.length >= 1);
    assertWellFormed(json, names);
  });
});
