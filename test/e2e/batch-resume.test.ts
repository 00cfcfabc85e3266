/**
 * Issue 19, must-show 1: `switchboard batch run` on the reference system (examples/enterprise), a
 * batch of 500 records that each record customer feedback (a write tool, one row in the business
 * database per effect). The real CLI is SIGKILLed at a random point after some output rows exist,
 * then the same command runs again: 500 output rows in input order, 500 distinct runs, and not
 * one duplicate effect counted in the business database. Also: a malformed line or a duplicate id
 * becomes an error row and the batch goes on.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const CONFIG = fileURLToPath(new URL('../../examples/enterprise/switchboard.config.ts', import.meta.url));

/** The environment of a child: nothing of ours that could configure it by accident. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('SWITCHBOARD_') && !k.startsWith('OTEL_') && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  return { ...env, ...extra };
}

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<Result> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

const lines = (path: string): string[] =>
  existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];

interface Row {
  id: string;
  runId: string | null;
  status: string;
  output: string | null;
  error: { code: string; message: string } | null;
}
const rows = (path: string): Row[] => lines(path).map((l) => JSON.parse(l) as Row);

/** Feedback rows this batch wrote, by comment (each record's comment is unique). */
function effects(dataDir: string): { total: number; distinct: number } {
  const db = new DatabaseSync(join(dataDir, 'business.db'), { readOnly: true });
  try {
    const r = db
      .prepare(
        "SELECT count(*) AS total, count(DISTINCT comment) AS distinct_ FROM feedback WHERE comment LIKE 'batch record %'",
      )
      .get() as { total: number; distinct_: number };
    return { total: Number(r.total), distinct: Number(r.distinct_) };
  } finally {
    db.close();
  }
}

/** Records of the batch by status, read from the Switchboard store the CLI used. */
function recordStatuses(dataDir: string): Record<string, number> {
  const db = new DatabaseSync(join(dataDir, 'switchboard.db'), { readOnly: true });
  try {
    const out: Record<string, number> = {};
    for (const r of db.prepare('SELECT status, count(*) AS n FROM batch_records GROUP BY status').all() as {
      status: string;
      n: number;
    }[])
      out[r.status] = Number(r.n);
    return out;
  } finally {
    db.close();
  }
}

const record = (i: number): string =>
  JSON.stringify({
    id: `fb-${i}`,
    input: `CUS-0006 rates us 5 stars for feedback: "batch record ${i}"`,
    agent: 'engagement',
  });

describe('issue 19 must-show 1: a batch killed mid-way and run again', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-batch-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('must-show 1: SIGKILL at a random point, rerun: 500 rows in order, 500 distinct runs, 0 duplicate effects', async () => {
    const dataDir = join(dir, 'data');
    const input = join(dir, 'feedback.jsonl');
    const out = join(dir, 'out.jsonl');
    writeFileSync(input, Array.from({ length: 500 }, (_, i) => record(i + 1)).join('\n') + '\n');
    const args = ['batch', 'run', input, '--out', out, '--json', '--config', CONFIG];
    const env = { SWITCHBOARD_DATA_DIR: dataDir };

    const killAt = 20 + Math.floor(Math.random() * 300);
    console.log(`# killing the batch after ${killAt} output rows`);
    const first = start(args, env);
    // Wait on the output file (not a clock) until the chosen number of rows is there.
    await new Promise<void>((resolve, reject) => {
      const look = setInterval(() => {
        if (lines(out).length >= killAt) {
          clearInterval(look);
          first.child.kill('SIGKILL');
          resolve();
        }
      }, 20);
      void first.done.then((r) => {
        clearInterval(look);
        if (r.signal !== 'SIGKILL')
          reject(new Error(`the batch ended before the kill: ${r.code} ${r.stderr}`));
      });
    });
    const killed = await first.done;
    assert.equal(killed.signal, 'SIGKILL');

    // The kill really happened mid-batch: some records done, some not.
    const written = lines(out).length;
    const before = recordStatuses(dataDir);
    const doneBefore = before.completed ?? 0;
    assert.ok(written >= killAt && written < 500, `rows before the rerun: ${written}`);
    assert.ok(
      doneBefore >= killAt && doneBefore < 500,
      `records done before the rerun: ${JSON.stringify(before)}`,
    );
    assert.ok((before.pending ?? 0) > 0, `records not submitted yet: ${JSON.stringify(before)}`);
    const effectsBefore = effects(dataDir);
    assert.ok(effectsBefore.total < 500, `effects before the rerun: ${effectsBefore.total}`);

    const second = await start(args, env).done;
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /resumed, 500 records/);
    const summary = JSON.parse(second.stdout.trim()) as Record<string, unknown>;
    assert.equal(summary.total, 500);
    assert.equal(summary.completed, 500);
    assert.equal(summary.failed, 0);
    assert.match(String(summary.batchId), /^batch_[0-9a-f]{24}$/);

    const result = rows(out);
    assert.equal(result.length, 500);
    assert.deepEqual(
      result.map((r) => r.id),
      Array.from({ length: 500 }, (_, i) => `fb-${i + 1}`),
    );
    assert.ok(result.every((r) => r.status === 'completed' && r.error === null));
    assert.ok(result.every((r) => /Feedback FB-\d+ recorded for CUS-0006: 5\/5/.test(r.output ?? '')));
    assert.equal(new Set(result.map((r) => r.runId)).size, 500);

    // One run per record in the store, and one effect per record in the business database.
    const db = new DatabaseSync(join(dataDir, 'switchboard.db'), { readOnly: true });
    const runs = (db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n;
    db.close();
    assert.equal(Number(runs), 500);
    assert.deepEqual(effects(dataDir), { total: 500, distinct: 500 });
  });

  it('issue 19 batch: a malformed line and a duplicate id become error rows; the batch goes on', async () => {
    const dataDir = join(dir, 'data-bad');
    const input = join(dir, 'mixed.jsonl');
    const out = join(dir, 'mixed-out.jsonl');
    writeFileSync(
      input,
      [
        record(1001),
        '{"id": "broken", "input": ',
        '',
        record(1002),
        JSON.stringify({ id: 'fb-1001', input: 'the same id again', agent: 'engagement' }),
        JSON.stringify({ input: 'no id: its line number is its id', agent: 'nobody' }),
        JSON.stringify({ id: 'extra', input: 'hi', color: 'blue' }),
        record(1003),
      ].join('\n'),
    );
    const r = await start(['batch', 'run', input, '--out', out, '--json', '--config', CONFIG], {
      SWITCHBOARD_DATA_DIR: dataDir,
    }).done;
    // Exit 1: some records failed; every good one still ran.
    assert.equal(r.code, 1, r.stderr);
    const result = rows(out);
    assert.deepEqual(
      result.map((x) => [x.id, x.status]),
      [
        ['fb-1001', 'completed'],
        ['2', 'invalid'],
        ['fb-1002', 'completed'],
        ['fb-1001', 'invalid'],
        ['6', 'invalid'],
        ['extra', 'invalid'],
        ['fb-1003', 'completed'],
      ],
    );
    assert.match(result[1]!.error!.message, /^line 2: not valid JSON/);
    assert.match(result[3]!.error!.message, /^line 5: duplicate id "fb-1001" \(first on line 1\)/);
    assert.match(result[4]!.error!.message, /^line 6: unknown agent "nobody"/);
    assert.match(result[5]!.error!.message, /^line 7: unknown field color/);
    const summary = JSON.parse(r.stdout.trim()) as Record<string, number>;
    assert.equal(summary.total, 7);
    assert.equal(summary.completed, 3);
    assert.equal(summary.failed, 4);
    assert.deepEqual(effects(dataDir), { total: 3, distinct: 3 });
  });

  it('issue 19 batch: on a terminal a progress bar (done/total, rate, ETA, failures); elsewhere plain lines on stderr', async () => {
    const input = join(dir, 'tty.jsonl');
    writeFileSync(input, [record(2001), record(2002), '{oops'].join('\n'));
    const dataDir = join(dir, 'data-tty');
    // util-linux `script` gives the command a pseudo-terminal for stdout, as a user's shell does.
    const command = [
      process.execPath,
      BIN,
      'batch',
      'run',
      input,
      '--out',
      join(dir, 'tty-out.jsonl'),
      '--config',
      CONFIG,
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    const tty = await new Promise<string>((resolve, reject) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        env: cleanEnv({ SWITCHBOARD_DATA_DIR: dataDir }),
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(out));
    });
    assert.match(tty, /\r\[#{24}\] 3\/3 done, [\d.]+\/s, ETA 0s, 1 failed/);
    assert.match(tty, /\r\[#{8}\.{16}\] 1\/3 done, [\d.]+\/s, ETA \S+, 1 failed/); // the invalid line is done at once
    assert.match(tty, /2 completed, 1 failed, 0 escalated, 0 waiting of 3/);

    const plain = await start(
      ['batch', 'run', input, '--out', join(dir, 'plain-out.jsonl'), '--json', '--config', CONFIG],
      {
        SWITCHBOARD_DATA_DIR: join(dir, 'data-plain'),
      },
    ).done;
    assert.doesNotMatch(plain.stderr, /\r|\[#/);
    assert.match(plain.stderr, /^batch batch_[0-9a-f]{24}: 3\/3 done, [\d.]+\/s, ETA 0s, 1 failed$/m);
    assert.deepEqual(Object.keys(JSON.parse(plain.stdout) as object), [
      'batchId',
      'total',
      'completed',
      'failed',
      'escalated',
      'waiting',
      'tokens',
      'costUsd',
    ]);
  });

  it('issue 19 batch: a missing input file or a bad flag is one clear line', async () => {
    const missing = await start(
      ['batch', 'run', join(dir, 'nope.jsonl'), '--out', join(dir, 'x.jsonl'), '--config', CONFIG],
      {
        SWITCHBOARD_DATA_DIR: join(dir, 'data-missing'),
      },
    ).done;
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^switchboard: cannot read .*nope\.jsonl: ENOENT\n$/);
    const flag = await start(['batch', 'run', 'x.jsonl', '--out', 'y.jsonl', '--concurrency', '0'], {}).done;
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--concurrency.*must be a positive integer/);
  });
});
