/**
 * The real `switchboard` binary on a configuration written only for the tests (a lending library:
 * two agents, a delegation, a write tool behind an approval rule), and on bad configurations.
 * Effects are counted from the configuration's own ledger file, not from Switchboard.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { WsClient } from './fixtures/gateway.ts';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const PROJECTS = fileURLToPath(new URL('../fixtures/projects/', import.meta.url));
const LIBRARY = join(PROJECTS, 'library', 'switchboard.config.ts');

/** The environment of a child: nothing of ours that could configure it by accident. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('SWITCHBOARD_') && !k.startsWith('OTEL_') && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  return { ...env, ...extra };
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sb(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: cleanEnv(opts.env ?? {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const ledgerLines = (path: string): { effect: string; loanId: string; key: string }[] =>
  existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { effect: string; loanId: string; key: string })
    : [];

describe('the switchboard binary on a configuration of its own', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-cli-'));
  const ledger = join(dir, 'ledger.jsonl');
  const env = { LEDGER: ledger, SWITCHBOARD_DATA_DIR: join(dir, 'data') };
  const run = (...args: string[]) => sb([...args, '--config', LIBRARY], { cwd: dir, env });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let waitingRunId = '';

  it('run --config answers on the configured agents (offline model)', async () => {
    const r = await run('run', 'Find the book The Quiet Harbour in the catalog', '--json');
    assert.equal(r.code, 0, r.stderr);
    const view = JSON.parse(r.stdout.trim()) as { status: string; agent: string; output: string };
    assert.equal(view.status, 'completed');
    assert.equal(view.agent, 'catalog');
    assert.match(view.output, /The Quiet Harbour by M\. Okafor: 2 on the shelf/);
    assert.match(r.stderr, /routed to catalog/);
    // The data directory is the one SWITCHBOARD_DATA_DIR names, under the command's directory.
    assert.ok(existsSync(join(dir, 'data', 'switchboard.db')));
  });

  it('run --config delegates to the other agent, whose write waits for an approver (no effect yet)', async () => {
    const r = await run('run', 'Renew my loan LN-204 with the loans agent', '--agent', 'catalog');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /delegated to loans as run (run_\w+)/);
    assert.match(r.stdout, /waiting for approval apr_\w+ \(renew_loan\)/);
    waitingRunId = /run (run_\w+) \(session/.exec(r.stdout)![1]!;
    assert.deepEqual(ledgerLines(ledger), []);
    const pending = await run('approvals', '--pending', '--json');
    const rows = JSON.parse(pending.stdout) as { tool: string; agent: string; args: unknown }[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.tool, 'renew_loan');
    assert.equal(rows[0]!.agent, 'loans');
    assert.deepEqual(rows[0]!.args, { loanId: 'LN-204' });
  });

  it('lint --config checks the configured agents', async () => {
    const r = await run('lint', '--json');
    assert.equal(r.code, 0, r.stderr);
    const findings = JSON.parse(r.stdout) as { agent: string; severity: string }[];
    assert.ok(findings.every((f) => ['catalog', 'loans'].includes(f.agent)));
    const text = await run('lint');
    assert.match(text.stdout, /^lint: (no findings|0 error\(s\))/m);
  });

  it('eval --config <suite> --json scores the configured router', async () => {
    const r = await run('eval', join(PROJECTS, 'library', 'routing-suite.json'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(result).sort(), [
      'abstainRecall',
      'cases',
      'falseAbstainRate',
      'fitMs',
      'kind',
      'latencyMs',
      'recallAt',
      'suite',
      'top1',
    ]);
    assert.equal(result.suite, 'library-agents');
    assert.equal(result.cases, 5);
    assert.equal(result.top1, 1);
    // A suite naming agents the configuration does not define is a usage error, not a score.
    const foreign = await run(
      'eval',
      fileURLToPath(new URL('../unit/routing/fixtures/agents-suite.json', import.meta.url)),
    );
    assert.equal(foreign.code, 2);
    assert.match(foreign.stdout, /expects agents the configuration does not define/);
  });

  it('serve --config: HTTP and WebSocket on the configured agents; the approved write happens once', async () => {
    const created = await run('keys', 'create', '--name', 'librarian', '--role', 'admin', '--json');
    assert.equal(created.code, 0, created.stderr);
    const { key } = JSON.parse(created.stdout.trim()) as { key: string };
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--config', LIBRARY, '--port', '0', '--admin-port', '0'],
      {
        cwd: dir,
        env: cleanEnv(env),
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 30_000);
        child.stdout.on('data', () => {
          const m = /switchboard gateway on (http:\/\/[\d.:]+)/.exec(out);
          if (m && /serving .*catalog, loans/.test(out)) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      const agents = (await (await fetch(`${url}/v1/agents`, { headers })).json()) as {
        agents: { name: string }[];
      };
      assert.deepEqual(agents.agents.map((a) => a.name).sort(), ['catalog', 'loans']);
      const res = await fetch(`${url}/v1/runs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ input: 'What is new this month?', sessionId: 'http-1', wait: true }),
      });
      assert.equal(res.status, 200);
      const finished = (await res.json()) as { status: string; agent: string; output: string };
      assert.equal(finished.status, 'completed');
      assert.equal(finished.agent, 'catalog');
      assert.match(finished.output, /New this month: The Quiet Harbour/);

      const ws = new WsClient(`${url.replace('http', 'ws')}/v1/ws`, key);
      await ws.opened;
      ws.send({ action: 'sendMessage', sessionId: 'ws-1', text: 'When is my loan LN-311 due?' });
      const accepted = await ws.next((f) => f.type === 'accepted' || f.type === 'error');
      assert.equal(accepted.type, 'accepted', JSON.stringify(accepted));
      const runId = accepted.runId as string;
      await ws.next(
        (f) =>
          f.type === 'event' && f.runId === runId && (f.event as { type: string }).type === 'run.completed',
      );
      const done = (await (await fetch(`${url}/v1/runs/${runId}`, { headers })).json()) as {
        output: string;
        agent: string;
      };
      assert.equal(done.agent, 'loans');
      assert.match(done.output, /LN-311 is due back on 2026-12-15/);
      ws.close();

      // The renewal waiting since the CLI run: approve it over HTTP; this process's workers finish it.
      const pending = (await (await fetch(`${url}/v1/approvals?status=pending`, { headers })).json()) as {
        approvals: { approvalId: string }[];
      };
      assert.equal(pending.approvals.length, 1);
      const decided = await fetch(`${url}/v1/approvals/${pending.approvals[0]!.approvalId}`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ decision: 'approved' }),
      });
      assert.equal(decided.status, 200, await decided.clone().text());
      const deadline = Date.now() + 20_000;
      let status = '';
      while (Date.now() < deadline) {
        status = (
          (await (await fetch(`${url}/v1/runs/${waitingRunId}`, { headers })).json()) as { status: string }
        ).status;
        if (status === 'completed') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 'completed', out);
      const effects = ledgerLines(ledger);
      assert.equal(effects.length, 1, JSON.stringify(effects));
      assert.deepEqual(
        effects.map((e) => [e.effect, e.loanId]),
        [['renew', 'LN-204']],
      );
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
  });

  it('replay --config matches its own recording, and diverges --with a second config', async () => {
    const same = await run('replay', waitingRunId);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    const list = JSON.parse((await run('runs', '--json')).stdout) as {
      runId: string;
      parentRunId: string | null;
      agent: string;
    }[];
    const child = list.find((r) => r.parentRunId === waitingRunId);
    assert.ok(child, 'the delegated run is listed');
    const changed = await run(
      'replay',
      child.runId,
      '--with',
      join(PROJECTS, 'library', 'no-renewals.config.ts'),
      '--json',
    );
    assert.equal(changed.code, 1, changed.stdout + changed.stderr);
    const report = JSON.parse(changed.stdout) as { divergences: number; report: { notes: string[] } };
    assert.equal(report.divergences, 1);
    assert.ok(report.report.notes.some((n) => /agent loans changed since the recording/.test(n)));
    const text = await run(
      'replay',
      child.runId,
      '--with',
      join(PROJECTS, 'library', 'no-renewals.config.ts'),
    );
    assert.match(text.stdout, /model-request\): the model of loans would be shown other tools/);
    // A second configuration is opened and replayed against without touching this store.
    assert.equal(ledgerLines(ledger).length, 1);
  });
});

describe(
  'bad configurations: exit 2, one line naming the path, nothing written',
  { timeout: 120_000 },
  () => {
    const cases: [file: string, line: RegExp][] = [
      ['unknown-key.config.ts', /^switchboard: gateway\.prot: unknown key \(did you mean gateway\.port\?\)/],
      ['wrong-type.config.ts', /^switchboard: limits\.leaseMs: .*expected number/i],
      [
        'missing-delegate.config.ts',
        /^switchboard: agents\[0\]\.delegates\[0\]: agent "front" delegates to "billing", which is not defined/,
      ],
      [
        'duplicate-tool.config.ts',
        /^switchboard: agents\[0\]\.tools\[1\]\.name: tool "lookup" is used twice in agent "a"/,
      ],
      ['bad-model.config.ts', /^switchboard: model: "gpt4-turbo" is not <provider>:<model>/],
    ];
    for (const [file, line] of cases) {
      it(file, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'sb-bad-'));
        try {
          for (const cmd of [['run', 'hello'], ['serve', '--port', '0'], ['lint']]) {
            const r = await sb([...cmd, '--config', join(PROJECTS, 'bad', file)], {
              cwd: dir,
              env: { SWITCHBOARD_DATA_DIR: join(dir, 'data') },
            });
            assert.equal(r.code, 2, `${cmd.join(' ')}: ${r.stdout}${r.stderr}`);
            assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
            assert.match(r.stderr, line);
            assert.equal(r.stdout, '');
          }
          assert.deepEqual(readdirSync(dir), [], 'nothing written');
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }

    it('an environment variable with a bad value is named, with exit 2', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sb-bad-'));
      try {
        const r = await sb(['run', 'hello', '--config', LIBRARY], {
          cwd: dir,
          env: { SWITCHBOARD_PORT: 'eighty' },
        });
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /^switchboard: SWITCHBOARD_PORT: must be a number, got "eighty"/);
        assert.deepEqual(readdirSync(dir), []);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('no configuration: one line saying how to create one', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sb-none-'));
      try {
        const r = await sb(['runs'], { cwd: dir });
        assert.equal(r.code, 2);
        assert.match(r.stderr, /^switchboard: config: no switchboard\.config\.ts in .*switchboard init/);
        assert.deepEqual(readdirSync(dir), []);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
