/**
 * Issue 19, schedules through the real `switchboard` command on SQLite: `schedules list --json`
 * prints one object with the next fire times; trigger records its run; backfill fires each slot
 * once and, run again, nothing; pause is kept for the next process; an unknown name and each bad
 * schedule configuration (bad cron, unknown time zone, both cron and every, unknown agent) exit 2
 * with one line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const PROJECT = fileURLToPath(
  new URL('../fixtures/projects/schedules/switchboard.config.ts', import.meta.url),
);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const dir = mkdtempSync(join(tmpdir(), 'sb-cli-sched-'));

function sb(args: string[], schedules: object[]): Promise<Result> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('SWITCHBOARD_') && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--config', PROJECT], {
      env: { ...env, SWITCHBOARD_DATA_DIR: dir, SB_SCHEDULES: JSON.stringify(schedules) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const hourly = { name: 'hourly', every: 'rate(1 hour)', agent: 'reporter', input: 'status' };
const json = <T>(r: Result): T => {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
};

describe('switchboard schedules (issue 19)', { concurrency: 1, timeout: 180_000 }, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('list --json prints one object with the next 3 fire times; trigger and backfill record their runs, once', async () => {
    type List = {
      schedules: {
        name: string;
        every: string;
        next: { fireAt: string }[];
        slots: { kind: string; runId: string }[];
      }[];
    };
    const list = json<List>(await sb(['schedules', 'list', '--json'], [hourly]));
    assert.equal(list.schedules.length, 1);
    const [s] = list.schedules;
    assert.equal(s!.every, 'rate(1 hour)');
    assert.equal(s!.next.length, 3);
    for (const n of s!.next) assert.equal(new Date(n.fireAt).getUTCMinutes(), 0);
    const t = json<{ runId: string; key: string }>(
      await sb(['schedules', 'trigger', 'hourly', '--json'], [hourly]),
    );
    assert.match(t.key, /^trigger:/);
    const from = new Date(Date.now() - 5 * 3600_000).toISOString();
    const to = new Date(Date.now() - 3600_000).toISOString();
    type Backfill = { slots: number; fired: { slot: string; runId: string }[]; existing: number };
    const first = json<Backfill>(
      await sb(['schedules', 'backfill', 'hourly', '--from', from, '--to', to, '--json'], [hourly]),
    );
    assert.equal(first.slots, 4);
    assert.equal(first.fired.length, 4);
    assert.equal(new Set(first.fired.map((f) => f.runId)).size, 4);
    const again = json<Backfill>(
      await sb(['schedules', 'backfill', 'hourly', '--from', from, '--to', to, '--json'], [hourly]),
    );
    assert.equal(again.fired.length, 0, 'backfill run twice fires nothing twice');
    assert.equal(again.existing, 4);
    const after = json<List>(await sb(['schedules', 'list', '--json'], [hourly])).schedules[0]!;
    assert.deepEqual(after.slots.map((r) => r.kind).sort(), [
      'backfill',
      'backfill',
      'backfill',
      'backfill',
      'trigger',
    ]);
    assert.ok(after.slots.some((r) => r.runId === t.runId));
  });

  it('pause is kept for the next process, and resume too', async () => {
    assert.equal((await sb(['schedules', 'pause', 'hourly'], [hourly])).stdout.trim(), 'hourly paused');
    const paused = json<{ paused: boolean; pausedBy: string }>(
      await sb(['schedules', 'pause', 'hourly', '--json'], [hourly]),
    );
    assert.deepEqual([paused.paused, paused.pausedBy], [true, 'override']);
    const text = await sb(['schedules', 'list'], [hourly]);
    assert.match(text.stdout, /\[paused by schedules pause\]/);
    const resumed = json<{ paused: boolean }>(
      await sb(['schedules', 'resume', 'hourly', '--json'], [{ ...hourly, paused: true }]),
    );
    assert.equal(resumed.paused, false, 'resume overrides the configuration');
  });

  it('an unknown schedule name exits 2 with one line', async () => {
    for (const verb of ['pause', 'resume', 'trigger']) {
      const r = await sb(['schedules', verb, 'nightly'], [hourly]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim(), 'switchboard: unknown schedule "nightly" (configured: hourly)');
    }
    const b = await sb(
      ['schedules', 'backfill', 'nightly', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T00:00:00Z'],
      [hourly],
    );
    assert.equal(b.code, 2);
    assert.equal(b.stderr.trim().split('\n').length, 1);
  });

  it('a bad schedule configuration exits 2 with one line naming the key', async () => {
    const cases: [object, RegExp][] = [
      [
        { ...hourly, every: undefined, cron: '61 * * * *' },
        /^switchboard: schedules\[0\]\.cron: invalid cron expression "61 \* \* \* \*"/,
      ],
      [
        { ...hourly, every: undefined, cron: '0 9 * * *', timezone: 'Mars/Olympus' },
        /^switchboard: schedules\[0\]\.timezone: unknown time zone "Mars\/Olympus"/,
      ],
      [
        { ...hourly, cron: '0 9 * * *' },
        /^switchboard: schedules\[0\]: schedule "hourly" has both cron and every/,
      ],
      [
        { ...hourly, agent: 'reportr' },
        /^switchboard: schedules\[0\]\.agent: schedule "hourly" names unknown agent "reportr"/,
      ],
      [{ ...hourly, every: 'often' }, /^switchboard: schedules\[0\]\.every: invalid duration "often"/],
      [{ ...hourly, overlap: 'queue' }, /^switchboard: schedules\[0\]\.overlap: /],
    ];
    for (const [schedule, message] of cases) {
      const r = await sb(['schedules', 'list'], [schedule]);
      assert.equal(r.code, 2, `${JSON.stringify(schedule)}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
    }
  });
});
