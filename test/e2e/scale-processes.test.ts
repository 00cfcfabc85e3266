/**
 * Issue 11, must-show 5: two gateway processes and two worker processes on one PostgreSQL schema.
 * A WebSocket client on gateway A sends a message, disconnects after the first progress event,
 * reconnects to gateway B with `subscribe { runId, after }`, and sees every journal event of the
 * run exactly once, through to the terminal event — appends made by a worker process reach a
 * gateway process it never talked to (LISTEN/NOTIFY, with catch-up from the journal).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it, type TestContext } from 'node:test';
import { TERMINAL_EVENTS, type JournalEvent } from '../../src/core/events.ts';
import { dropPostgresSchemas } from '../../src/store/postgres/admin.ts';
import { POSTGRES_URL, requirePostgres, testSchema } from '../helpers.ts';
import { WsClient, type ServerFrame } from './fixtures/gateway.ts';
import {
  childEnv,
  freePort,
  runToEnd,
  start,
  stop,
  waitOutput,
  waitReady,
  within,
  type Proc,
} from './fixtures/scale/processes.ts';

const postgres = await requirePostgres();

describe(
  'scale-out: 2 gateway processes and 2 worker processes on PostgreSQL',
  {
    timeout: 90_000,
    skip: !postgres,
  },
  () => {
    const schema = testSchema();
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-scale-'));
    const env = (role?: string) =>
      childEnv({
        SWITCHBOARD_DATABASE_URL: POSTGRES_URL,
        SWITCHBOARD_DATABASE_SCHEMA: schema,
        SWITCHBOARD_DATA_DIR: dataDir,
        // The reference example, found through the documented variable (no --config flag).
        SWITCHBOARD_CONFIG: fileURLToPath(
          new URL('../../examples/enterprise/switchboard.config.ts', import.meta.url),
        ),
        ...(role ? { SWITCHBOARD_ROLE: role } : {}),
      });
    const procs: Proc[] = [];
    const gateways: { name: string; url: string; wsUrl: string }[] = [];
    let key = '';

    before(async () => {
      // The release step and the key (the key store lives in the shared data directory).
      const [migrated, created] = await Promise.all([
        runToEnd('migrate', ['migrate'], env()),
        runToEnd('keys create', ['keys', 'create', '--name', 'tester', '--role', 'user', '--json'], env()),
      ]);
      assert.match(migrated, /applied migrations .* to schema /);
      const issued = JSON.parse(created.trim().split('\n').at(-1)!) as {
        id: string;
        key: string;
        role: string;
      };
      assert.equal(issued.role, 'user');
      key = issued.key;

      const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
      const gateway = (name: string, port: number, adminPort: number) => {
        const p = start(
          name,
          ['gateway', '--port', String(port), '--admin-port', String(adminPort)],
          env('gateway'),
        );
        procs.push(p);
        const url = `http://127.0.0.1:${port}`;
        gateways.push({ name, url, wsUrl: `ws://127.0.0.1:${port}/v1/ws` });
        return { p, url };
      };
      // Gateway A first: the first process to open the data directory seeds the reference business
      // database; the others open it once it exists.
      const a = gateway('gateway A', ports[0]!, ports[1]!);
      await waitReady(a.p, `${a.url}/readyz`);
      const b = gateway('gateway B', ports[2]!, ports[3]!);
      const workers = ['worker 1', 'worker 2'].map((name) => {
        const p = start(name, ['worker'], env('worker'));
        procs.push(p);
        return p;
      });
      await Promise.all([
        waitReady(b.p, `${b.url}/readyz`),
        ...workers.map((w) => waitOutput(w, 'switchboard worker for')),
      ]);
    });

    after(async () => {
      await Promise.all(procs.map((p) => stop(p)));
      await dropPostgresSchemas(POSTGRES_URL, [schema, `${schema}_boss`, `${schema}_business`]);
      rmSync(dataDir, { recursive: true, force: true });
    });

    const eventsOver = async (gatewayUrl: string, runId: string): Promise<JournalEvent[]> => {
      const res = await fetch(`${gatewayUrl}/v1/runs/${encodeURIComponent(runId)}/events`, {
        headers: { Authorization: `Bearer ${key}` },
      });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as JournalEvent[];
    };

    const isEvent = (runId: string) => (f: ServerFrame) => f.type === 'event' && f.runId === runId;

    /**
     * Send `input` on gateway A, disconnect right after the run's first `disconnectOn` event (the
     * first progress the user sees), resume on gateway B; returns the run's journal.
     */
    async function reconnectMidway(
      t: TestContext,
      input: string,
      sessionId: string,
      disconnectOn: JournalEvent['type'],
      agent?: string,
    ): Promise<JournalEvent[]> {
      const [A, B] = gateways as [(typeof gateways)[0], (typeof gateways)[0]];
      const first = new WsClient(A.wsUrl, key);
      await within(first.opened, 10_000, 'connect to gateway A', procs);
      first.send({
        action: 'sendMessage',
        sessionId,
        text: input,
        clientMessageId: `${sessionId}-m1`,
        ...(agent ? { agent } : {}),
      });
      const accepted = await within(
        first.next((f) => f.type === 'accepted' || f.type === 'error'),
        15_000,
        'accepted on gateway A',
        procs,
      );
      assert.equal(accepted.type, 'accepted', JSON.stringify(accepted));
      const runId = String(accepted.runId);
      // The run is executed by a worker process; its first progress event reaches gateway A.
      const progress = await within(
        first.next((f) => isEvent(runId)(f) && (f.event as JournalEvent).type === disconnectOn),
        30_000,
        `first ${disconnectOn} event of ${runId} on gateway A`,
        procs,
      );
      // Disconnect right there: what the client processed is what it saw up to the progress frame
      // (frames in flight while closing count as lost, which is what a dropped client risks).
      const upTo = first.frames.indexOf(progress);
      const seen = first.frames
        .slice(0, upTo + 1)
        .filter(isEvent(runId))
        .map((f) => f.event as JournalEvent);
      first.close();
      await within(first.closed, 10_000, 'close the connection to gateway A', procs);
      const lastSeq = seen.at(-1)!.seq;
      assert.equal(lastSeq, (progress.event as JournalEvent).seq);
      assert.ok(!TERMINAL_EVENTS.has(seen.at(-1)!.type));

      // Resume on gateway B from the last seq seen, and follow the run to its end.
      const second = new WsClient(B.wsUrl, key);
      await within(second.opened, 10_000, 'connect to gateway B', procs);
      const resumeAt = Date.now();
      second.send({ action: 'subscribe', id: 'resume', runId, after: lastSeq });
      const subscribed = await within(
        second.next((f) => (f.type === 'subscribed' || f.type === 'error') && f.id === 'resume'),
        10_000,
        'subscribed on gateway B',
        procs,
      );
      assert.equal(subscribed.type, 'subscribed', JSON.stringify(subscribed));
      await within(
        second.next((f) => (f.type === 'end' || f.type === 'error') && f.runId === runId),
        40_000,
        `end of ${runId} on gateway B`,
        procs,
      );
      assert.equal(
        second.frames.filter((f) => f.type === 'error').length,
        0,
        JSON.stringify(second.frames.filter((f) => f.type === 'error')),
      );
      const resumed = second.events(runId);
      second.close();
      await second.closed;

      // The journal, as either gateway serves it once the run has ended.
      const journalA = await eventsOver(A.url, runId);
      const journalB = await eventsOver(B.url, runId);
      assert.deepEqual(journalB, journalA);
      const journal = journalA;
      assert.ok(TERMINAL_EVENTS.has(journal.at(-1)!.type), `journal ends with ${journal.at(-1)?.type}`);
      assert.deepEqual(
        journal.map((e) => e.seq),
        journal.map((_, i) => i + 1),
        'journal seqs are 1..n',
      );

      // Every event exactly once: none missed, none twice, in order, through the terminal event.
      const received = [...seen, ...resumed];
      assert.ok(resumed.length > 0, 'gateway B delivered the rest of the run');
      assert.ok(
        resumed.every((e) => e.seq > lastSeq),
        'gateway B sent nothing at or before `after`',
      );
      assert.deepEqual(
        received.map((e) => e.seq),
        journal.map((e) => e.seq),
      );
      assert.deepEqual(received, journal);
      assert.ok(TERMINAL_EVENTS.has(resumed.at(-1)!.type));
      // How much of the rest was appended by the worker after the client resumed (live through
      // LISTEN/NOTIFY) rather than read back from the journal: informative, it depends on timing.
      t.diagnostic(
        `${runId}: ${seen.length} events on gateway A, ${resumed.length} on gateway B after seq ${lastSeq}, ` +
          `${resumed.filter((e) => e.at >= resumeAt).length} of them appended after the resume`,
      );
      return journal;
    }

    it('a delegated run: the client reconnects to gateway B midway and sees every event exactly once', async (t) => {
      const journal = await reconnectMidway(
        t,
        'Where is my parcel for order ORD-10497?',
        'scale-delegation',
        // The parent run's progress while another agent works: "Another team is working on it…".
        'delegation.requested',
        'support',
      );
      const types = journal.map((e) => e.type);
      assert.ok(types.includes('delegation.requested'), types.join(' '));
      assert.equal(types.at(-1), 'run.completed', types.join(' '));
    });

    it('a run that retries a carrier timeout: the client reconnects to gateway B midway and sees every event exactly once', async (t) => {
      const journal = await reconnectMidway(t, 'Where is my order ORD-10421?', 'scale-retry', 'progress');
      const types = journal.map((e) => e.type);
      assert.ok(types.includes('tool.failed'), types.join(' '));
      assert.equal(types.at(-1), 'run.completed', types.join(' '));
    });
  },
);
