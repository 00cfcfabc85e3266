/**
 * Issue 17 hardening through the real `switchboard` binary: unknown runs are errors, a demo tour
 * that exits needs no fixed port and fails at once when the port it was given is busy, and a
 * reader that closes early ends a command quietly.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/enterprise/switchboard.config.ts', import.meta.url));

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The child's environment: this test's data directory, no SWITCHBOARD_* of the caller. */
function envFor(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('SWITCHBOARD_') && !k.startsWith('OTEL_') && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  return { ...env, SWITCHBOARD_DATA_DIR: dataDir, ...extra };
}

/**
 * The child's end; a child still running after `ms` is killed and the test fails on it (a process
 * that never exits is the defect, not a slow one: the bound is generous).
 */
function ended(child: ChildProcessWithoutNullStreams, ms = 90_000): Promise<Ended> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the command did not exit; it printed:\n${stdout}\n${stderr}`));
    }, ms);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const cli = (args: string[], env: NodeJS.ProcessEnv): Promise<Ended> =>
  ended(spawn(process.execPath, [BIN, ...args], { env }));

/** A real listener on an ephemeral port, held for the test. */
async function occupy(): Promise<{ port: number; server: Server }> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { port: address.port, server };
}

describe('switchboard CLI hardening', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-hardening-cli-'));
  const busy: Server[] = [];
  let busyPort = 0;
  let busyAdminPort = 0;
  let tour: Ended;

  before(async () => {
    const a = await occupy();
    const b = await occupy();
    busy.push(a.server, b.server);
    busyPort = a.port;
    busyAdminPort = b.port;
    // The configured ports are both taken: a tour that exits must not need them.
    tour = await cli(
      ['demo', '--tour', '--exit'],
      envFor(join(dir, 'tour'), {
        SWITCHBOARD_PORT: String(busyPort),
        SWITCHBOARD_ADMIN_PORT: String(busyAdminPort),
      }),
    );
  });
  after(async () => {
    for (const s of busy) await new Promise((resolve) => s.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('hardening #24: demo --tour --exit binds ephemeral ports, so busy configured ports do not stop it', () => {
    assert.equal(tour.code, 0, tour.stdout + tour.stderr);
    assert.match(tour.stdout, /Trace any run with/);
    assert.doesNotMatch(tour.stdout, new RegExp(`:${busyPort}\\b`));
  });

  it('hardening #24: a port given and taken exits non-zero at once with one line', async () => {
    for (const flags of [
      ['--port', String(busyPort)],
      ['--port', '0', '--admin-port', String(busyAdminPort)],
    ]) {
      const r = await cli(['demo', '--tour', '--exit', ...flags], envFor(join(dir, 'busy')));
      assert.notEqual(r.code, 0, `${flags.join(' ')}: ${r.stdout}${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^switchboard: .*EADDRINUSE/);
      assert.doesNotMatch(r.stdout, /▶/, 'no tour step ran');
    }
    // Any command that fails to start exits at once: `serve` had started its workers already.
    const r = await cli(
      ['serve', '--config', EXAMPLE, '--port', '0', '--admin-port', String(busyAdminPort)],
      envFor(join(dir, 'busy')),
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^switchboard: .*EADDRINUSE.*\n$/);
  });

  it('hardening #24: a reader that closes after one line ends the command quietly', async () => {
    const child = spawn(process.execPath, [BIN, 'demo', '--tour', '--exit'], {
      env: envFor(join(dir, 'head')),
    });
    let first = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      first += d.toString();
      // `| head -1`: read one line, then close the pipe.
      if (first.includes('\n')) child.stdout.destroy();
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`did not exit: ${stderr}`));
      }, 90_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.match(first.split('\n')[0]!, /^gateway: http:\/\/127\.0\.0\.1:\d+/);
    assert.equal(stderr, '', 'nothing on stderr (no EPIPE, no stack)');
    assert.equal(code, 0);
  });

  it('hardening #23: every confidence compared with a threshold in the tour reads true as printed', () => {
    const re = /confidence (\d+\.\d+) (<|≥ threshold|is below the threshold|\(threshold) (\d+\.\d+)/g;
    const found = [...tour.stdout.matchAll(re)];
    assert.ok(found.length >= 5, tour.stdout);
    for (const m of found) {
      const [a, b] = [Number(m[1]), Number(m[3])];
      assert.ok(m[2] === '<' || m[2] === 'is below the threshold' ? a < b : a >= b, m[0]);
    }
  });

  it('hardening #20: graph and trace --graph of an unknown run exit non-zero with one line', async () => {
    const env = envFor(join(dir, 'tour'));
    for (const args of [
      ['graph', 'run_nope', '--config', EXAMPLE],
      ['graph', 'run_nope', '--format', 'json', '--config', EXAMPLE],
      ['trace', 'run_nope', '--graph', 'mermaid', '--config', EXAMPLE],
      ['trace', 'run_nope', '--graph', 'json', '--config', EXAMPLE],
    ]) {
      const r = await cli(args, env);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, 'switchboard: run run_nope not found\n');
    }
    // A run that exists still draws its graph.
    const runId = /(run_[a-z0-9]+)\s*$/m.exec(tour.stdout.split('step ')[1] ?? '')?.[1];
    assert.ok(runId, tour.stdout);
    const r = await cli(['graph', runId, '--config', EXAMPLE], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^flowchart LR\n/);
    assert.match(r.stdout, /router/);
  });
});
