/**
 * Issue 18, deployments through the real `switchboard` command, as the issue writes them:
 * `versions list`, `aliases set`, `deploy`, `deployments`, `deployments show`, the operator actions
 * and `versions prune --keep N [--dry-run]`, each `--json` printing one object with the contract's
 * keys; bad weights, a bad strategy, an unknown agent, version or deployment and a bad `--keep` exit 2
 * with one line. On SQLite, and the main path again on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { POSTGRES_URL, requirePostgres } from '../helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const PROJECT = fileURLToPath(
  new URL('../fixtures/projects/versions/switchboard.config.ts', import.meta.url),
);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sb(args: string[], extra: NodeJS.ProcessEnv): Promise<Result> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('SWITCHBOARD_') && !k.startsWith('SB_') && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--config', PROJECT], { env: { ...env, ...extra } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const json = <T>(r: Result): T => {
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON object, got: ${r.stdout}`);
  return JSON.parse(lines[0] ?? '') as T;
};

interface Deployment {
  deploymentId: string;
  agent: string;
  from: string;
  to: string;
  strategy: string;
  status: string;
  steps: {
    at: string;
    weights: Record<string, number>;
    metrics: unknown;
    decision: string;
    reason: string;
  }[];
}

/** The main path: list, alias, deploy, list deployments, show, pause, resume, rollback. */
async function mainPath(env: NodeJS.ProcessEnv): Promise<string> {
  const list = json<{ versions: { agent: string; version: string; labeled: boolean }[] }>(
    await sb(['versions', 'list', '--agent', 'shop', '--json'], env),
  );
  assert.deepEqual(list.versions.map((v) => v.version).sort(), ['v1', 'v2']);
  assert.ok(list.versions.every((v) => v.agent === 'shop' && v.labeled));
  const alias = json<{ agent: string; alias: string; weights: Record<string, number> }>(
    await sb(['aliases', 'set', 'shop', 'live', 'v1=90,v2=10', '--json'], env),
  );
  assert.deepEqual(alias.weights, { v1: 90, v2: 10 });
  json(await sb(['aliases', 'set', 'shop', 'live', 'v1=100', '--json'], env));
  const created = json<{ deploymentId: string; status: string }>(
    await sb(
      ['deploy', 'shop', '--to', 'v2', '--strategy', 'canary:10:5m', '--alias', 'live', '--json'],
      env,
    ),
  );
  assert.deepEqual(Object.keys(created).sort(), ['deploymentId', 'status']);
  assert.equal(created.status, 'in_progress');
  const all = json<{ deployments: Deployment[] }>(
    await sb(['deployments', '--agent', 'shop', '--json'], env),
  );
  assert.deepEqual(
    all.deployments.map((d) => d.deploymentId),
    [created.deploymentId],
  );
  const shown = json<Deployment>(await sb(['deployments', 'show', created.deploymentId, '--json'], env));
  for (const key of ['deploymentId', 'agent', 'from', 'to', 'strategy', 'status', 'steps'])
    assert.ok(key in shown, `show has ${key}`);
  assert.equal(shown.from, 'v1');
  assert.equal(shown.to, 'v2');
  assert.equal(shown.strategy, 'canary:10:5m');
  for (const step of shown.steps)
    assert.deepEqual(Object.keys(step).sort(), ['at', 'decision', 'metrics', 'reason', 'weights']);
  const paused = json<Deployment>(await sb(['deployments', 'pause', created.deploymentId, '--json'], env));
  assert.equal(paused.status, 'paused');
  const resumed = json<Deployment>(await sb(['deployments', 'resume', created.deploymentId, '--json'], env));
  assert.equal(resumed.status, 'in_progress');
  const rolled = json<Deployment>(await sb(['deployments', 'rollback', created.deploymentId, '--json'], env));
  assert.equal(rolled.status, 'rolled_back');
  assert.equal(rolled.steps.at(-1)?.decision, 'rolled_back');
  return created.deploymentId;
}

describe(
  'switchboard versions, aliases, deploy, deployments (issue 18) on SQLite',
  { concurrency: 1, timeout: 240_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-cli-deploy-'));
    const env = { SWITCHBOARD_DATA_DIR: dir };
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('the main path, each --json one object with the contract keys; human output too', async () => {
      const id = await mainPath(env);
      const human = await sb(['deployments', 'show', id], env);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /rolled_back/);
      assert.match(human.stdout, /v2/);
      const versions = await sb(['versions', 'list'], env);
      assert.equal(versions.code, 0, versions.stderr);
      assert.match(versions.stdout, /shop/);
    });

    it('prune --keep 1: a dry run deletes nothing; the run deletes the unreferenced older version', async () => {
      json(await sb(['aliases', 'set', 'shop', 'live', 'v2=100', '--json'], env));
      const dry = json<{ pruned: { version: string }[]; dryRun: boolean }>(
        await sb(['versions', 'prune', '--keep', '1', '--dry-run', '--json'], env),
      );
      assert.equal(dry.dryRun, true);
      const before = json<{ versions: { version: string }[] }>(await sb(['versions', 'list', '--json'], env));
      assert.equal(before.versions.length, 2, 'a dry run deletes nothing');
      const real = json<{ pruned: { agent: string; version: string }[]; kept: unknown[]; dryRun: boolean }>(
        await sb(['versions', 'prune', '--keep', '1', '--json'], env),
      );
      assert.equal(real.dryRun, false);
      assert.deepEqual(real.pruned, dry.pruned);
      assert.ok(
        real.pruned.every((p) => p.version !== 'v2'),
        'the aliased version is never pruned',
      );
      assert.deepEqual(
        real.pruned.map((p) => p.version),
        ['v1'],
      );
      // (v1 is still in this project's configuration: the next process publishes it again.)
    });

    it('bad input exits 2 with one line, and changes nothing', async () => {
      const cases: [string[], RegExp][] = [
        [['aliases', 'set', 'shop', 'live', 'v1=90,v2=20'], /100/],
        [['aliases', 'set', 'shop', 'live', 'v1=abc'], /weight|v1/],
        [['aliases', 'set', 'nope', 'live', 'v1=100'], /nope|agent/],
        [['deploy', 'shop', '--to', 'v2', '--strategy', 'sideways'], /strategy/],
        [['deploy', 'shop', '--to', 'v9', '--strategy', 'all-at-once'], /v9|version/],
        [['deployments', 'show', 'dep_missing'], /dep_missing|not found/],
        [['versions', 'prune', '--keep', '0'], /keep/],
        [['versions', 'prune', '--keep', 'abc'], /keep/],
      ];
      const before = json<{ deployments: unknown[] }>(await sb(['deployments', '--json'], env));
      for (const [args, message] of cases) {
        const r = await sb(args, env);
        assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
        assert.match(r.stderr, message, args.join(' '));
      }
      const afterwards = json<{ deployments: unknown[] }>(await sb(['deployments', '--json'], env));
      assert.equal(afterwards.deployments.length, before.deployments.length);
    });
  },
);

const postgres = await requirePostgres();

describe(
  'switchboard deploy on PostgreSQL (issue 18)',
  { concurrency: 1, timeout: 240_000, skip: !postgres },
  () => {
    const schema = `sb_cli_deploy_${process.pid}_${Date.now()}`;
    const dir = mkdtempSync(join(tmpdir(), 'sb-cli-deploy-pg-'));
    after(async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the main path on one PostgreSQL schema', async () => {
      await mainPath({ SWITCHBOARD_DATA_DIR: dir, SB_STORE_URL: POSTGRES_URL, SB_STORE_SCHEMA: schema });
    });
  },
);
