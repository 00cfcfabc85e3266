/**
 * Contract of the deployment port (store/deployment-port.ts): the same tests on every adapter.
 * Versions are published once; aliases and deployments move only by compare-and-set on their rev;
 * a deployment step and its alias write land together or not at all; one active deployment per
 * agent and alias, even when two stores create at once; session assignments stick unless
 * replaced, and erasure drops one actor's only. Text columns follow the stores' text rule
 * (store/text.ts): lone surrogates read back as U+FFFD, NUL and the rest exactly; JSON payloads
 * (definitions, weights, deployment records) exactly. The runs projection keeps each run's version.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeploymentRecord, VersionRecord } from '../../src/store/deployment-port.ts';
import type { RunRow, Store } from '../../src/store/ports.ts';
import { forgetActor } from '../../src/runtime/erasure.ts';
import { NASTY } from './adversarial.contract.ts';

/** What an adapter offers beyond one store: a second store on the same database, a fault hook. */
export interface DeploymentHarness {
  store: Store;
  /** Another store (its own connection) on the same database; null for the memory store. */
  openTwin: (() => Store) | null;
  /** Make every later write of alias `alias` fail inside the database (SQL stores only). */
  failAliasWrites: ((alias: string) => Promise<void>) | null;
}

type WithHarness = (fn: (h: DeploymentHarness) => Promise<void>) => Promise<void>;

const asText = (s: string): string => s.toWellFormed();

const version = (agent: string, v: string, over: Partial<VersionRecord> = {}): VersionRecord => ({
  agent,
  version: v,
  digest: `digest-${v}`,
  labeled: true,
  definition: { instructions: `be ${v}`, tools: ['lookup'] },
  source: 'git:abc123',
  createdAt: 1000,
  ...over,
});

const deployment = (id: string, over: Partial<DeploymentRecord> = {}): DeploymentRecord => ({
  deploymentId: id,
  agent: 'commerce',
  alias: 'live',
  from: 'v1',
  to: 'v2',
  strategy: 'canary:10:5m',
  status: 'in_progress',
  steps: [{ at: 1000, weights: { v1: 100 }, metrics: null, decision: 'started', reason: 'by alice' }],
  state: { phase: 'validate', index: 0 },
  createdAt: 1000,
  updatedAt: 1000,
  createdBy: 'alice',
  rev: 1,
  owner: null,
  leaseUntil: null,
  ...over,
});

const runRow = (runId: string, over: Partial<RunRow> = {}): RunRow => ({
  runId,
  actorId: 'a',
  sessionId: 's',
  agent: 'commerce',
  status: 'completed',
  parentRunId: null,
  createdAt: 1000,
  updatedAt: 1000,
  lastSeq: 1,
  summary: null,
  ...over,
});

/**
 * `canFailAliasWrites`: the adapter's harness can make an alias write fail (the SQL stores, by a
 * trigger). The memory store applies the step and the alias synchronously, with nothing between
 * them that can fail, so that test is not registered for it (rather than registered and skipped).
 */
export function deploymentsContract(
  adapter: string,
  withHarness: WithHarness,
  { canFailAliasWrites = true }: { canFailAliasWrites?: boolean } = {},
): void {
  describe(`${adapter} store: deployments (issue 18)`, () => {
    it('issue 18 versions: published once, oldest first, deletable', () =>
      withHarness(async ({ store }) => {
        const d = store.deployments;
        const v1 = version('commerce', 'v1', { createdAt: 2000 });
        assert.deepEqual(await d.publish(v1), v1);
        const changed = await d.publish({ ...v1, digest: 'other', definition: { x: 1 }, createdAt: 9 });
        assert.deepEqual(changed, v1, 'a published label is immutable: the stored record comes back');
        await d.publish(version('commerce', 'b', { createdAt: 1000 }));
        await d.publish(version('commerce', 'a', { createdAt: 1000, labeled: false, source: null }));
        await d.publish(version('billing', 'v1', { createdAt: 500 }));
        assert.deepEqual(
          (await d.versions('commerce')).map((v) => [v.version, v.labeled, v.source]),
          [
            ['a', false, null],
            ['b', true, 'git:abc123'],
            ['v1', true, 'git:abc123'],
          ],
        );
        assert.deepEqual(
          (await d.versions()).map((v) => `${v.agent}@${v.version}`),
          ['billing@v1', 'commerce@a', 'commerce@b', 'commerce@v1'],
        );
        assert.equal(await d.deleteVersion('commerce', 'b'), true);
        assert.equal(await d.deleteVersion('commerce', 'b'), false);
        assert.equal(await d.deleteVersion('nobody', 'v1'), false);
        assert.deepEqual(
          (await d.versions('commerce')).map((v) => v.version),
          ['a', 'v1'],
        );
      }));

    it('issue 18 aliases: compare-and-set on rev; a failed expectation writes nothing', () =>
      withHarness(async ({ store }) => {
        const d = store.deployments;
        const base = { agent: 'commerce', alias: 'live', updatedAt: 10, updatedBy: 'alice' };
        assert.equal(await d.alias('commerce', 'live'), null);
        const first = await d.setAlias({ ...base, weights: { v1: 100 } }, null);
        assert.deepEqual(first, { ...base, weights: { v1: 100 }, rev: 1 });
        assert.equal(await d.setAlias({ ...base, weights: { v2: 100 } }, null), null, 'exists already');
        assert.equal(await d.setAlias({ ...base, weights: { v2: 100 } }, 7), null, 'wrong rev');
        assert.equal(await d.setAlias({ ...base, alias: 'beta', weights: { v2: 100 } }, 1), null, 'absent');
        const second = await d.setAlias(
          { ...base, weights: { v1: 90, v2: 10 }, updatedBy: 'bob', updatedAt: 20 },
          1,
        );
        assert.deepEqual(second, {
          ...base,
          weights: { v1: 90, v2: 10 },
          rev: 2,
          updatedBy: 'bob',
          updatedAt: 20,
        });
        assert.deepEqual(await d.alias('commerce', 'live'), second);
        assert.equal(await d.setAlias({ ...base, weights: { v1: 1 } }, 1), null, 'stale rev');
        assert.deepEqual(await d.alias('commerce', 'live'), second);
        await d.setAlias({ ...base, agent: 'billing', weights: { v1: 100 } }, null);
        await d.setAlias({ ...base, alias: 'beta', weights: { v2: 100 } }, null);
        assert.deepEqual(
          (await d.aliases('commerce')).map((a) => [a.alias, a.rev]),
          [
            ['beta', 1],
            ['live', 2],
          ],
        );
        assert.deepEqual(
          (await d.aliases()).map((a) => `${a.agent}/${a.alias}`),
          ['billing/live', 'commerce/beta', 'commerce/live'],
        );
      }));

    it('issue 18 aliases: two writers at the same rev, exactly one wins', () =>
      withHarness(async ({ store, openTwin }) => {
        const twin = openTwin?.() ?? store;
        try {
          const base = { agent: 'commerce', alias: 'live', updatedAt: 10, updatedBy: 'x' };
          const inserts = await Promise.all(
            [store, twin, store, twin].map((s, i) =>
              s.deployments.setAlias({ ...base, weights: { [`v${i}`]: 100 } }, null),
            ),
          );
          assert.equal(inserts.filter((a) => a !== null).length, 1);
          const moves = await Promise.all(
            [store, twin, store, twin].map((s, i) =>
              s.deployments.setAlias({ ...base, weights: { [`w${i}`]: 100 } }, 1),
            ),
          );
          const won = moves.filter((a) => a !== null);
          assert.equal(won.length, 1);
          assert.deepEqual(await store.deployments.alias('commerce', 'live'), won[0]);
        } finally {
          if (twin !== store) await twin.close();
        }
      }));

    it('issue 18 sessions: a session keeps its version unless replaced', () =>
      withHarness(async ({ store }) => {
        const d = store.deployments;
        const key = 'alice\u0000s1';
        assert.equal(await d.sessionVersion('commerce', key), null);
        assert.equal(await d.stickSession('commerce', key, 'v1', false, 1), 'v1');
        assert.equal(await d.stickSession('commerce', key, 'v2', false, 2), 'v1', 'replace false keeps');
        assert.equal(await d.sessionVersion('commerce', key), 'v1');
        assert.equal(await d.stickSession('commerce', key, 'v2', true, 3), 'v2', 'replace true moves');
        assert.equal(await d.sessionVersion('commerce', key), 'v2');
        assert.equal(await d.sessionVersion('billing', key), null, 'per agent');
        const racing = await Promise.all(
          ['v1', 'v2', 'v3', 'v4'].map((v) => d.stickSession('commerce', 'bob\u0000s', v, false, 4)),
        );
        assert.equal(new Set(racing).size, 1, `racing writers all see one assignment: ${racing.join(',')}`);
        assert.equal(await d.sessionVersion('commerce', 'bob\u0000s'), racing[0]);
      }));

    it('issue 18 erasure: forgetActor drops one actor’s assignments, on every agent, and no one else’s', () =>
      withHarness(async ({ store }) => {
        const d = store.deployments;
        const actors = ['a', 'ab', 'a%', 'a_', '%', 'a\u0000b', 'a\\0', 'b'];
        for (const actor of actors) {
          await d.stickSession('commerce', `${actor}\u0000s1`, 'v1', false, 1);
          await d.stickSession('commerce', `${actor}\u0000s2`, 'v1', false, 1);
          await d.stickSession('billing', `${actor}\u0000s1`, 'v1', false, 1);
        }
        await d.stickSession('commerce', 'a', 'v1', false, 1);
        // `a\u0000b`'s keys (`a\u0000b\u0000s1`) read as a session `b\u0000s1` of `a`: the key format's own.
        assert.equal(await d.forgetActor('a'), 6, "a's three and a\\0b's three");
        assert.equal(await d.sessionVersion('commerce', 'a\u0000s1'), null);
        assert.equal(await d.sessionVersion('billing', 'a\u0000s1'), null);
        assert.equal(
          await d.sessionVersion('commerce', 'a'),
          'v1',
          'a key without the separator is not a session of a',
        );
        for (const actor of ['ab', 'a%', 'a_', '%', 'a\\0', 'b'])
          assert.equal(await d.sessionVersion('commerce', `${actor}\u0000s1`), 'v1', actor);
        assert.equal(await d.forgetActor('%'), 3, 'LIKE wildcards are plain text');
        assert.equal(await d.sessionVersion('commerce', 'ab\u0000s1'), 'v1');
        assert.equal(await d.forgetActor('a_'), 3);
        assert.equal(await d.forgetActor('nobody'), 0);
      }));

    it('issue 18 erasure: forgetting an actor (memory/erasure.ts) drops its session versions', () =>
      withHarness(async ({ store }) => {
        const d = store.deployments;
        await d.stickSession('commerce', 'carol\u0000s1', 'v2', false, 1);
        await d.stickSession('commerce', 'dave\u0000s1', 'v2', false, 1);
        await forgetActor(store, 'carol', { by: 'dpo', sessionId: 's1' });
        assert.equal(
          await d.sessionVersion('commerce', 'carol\u0000s1'),
          'v2',
          'a session-only forget keeps it',
        );
        await forgetActor(store, 'carol', { by: 'dpo' });
        assert.equal(await d.sessionVersion('commerce', 'carol\u0000s1'), null);
        assert.equal(await d.sessionVersion('commerce', 'dave\u0000s1'), 'v2');
      }));

    it('issue 18 deployments: created at rev 1, one active per agent and alias, newest first', () =>
      withHarness(async ({ store }) => {
        const d = store.deployments;
        assert.equal(await d.createDeployment(deployment('d1', { rev: 7 })), true);
        const stored = await d.deployment('d1');
        assert.deepEqual(stored, deployment('d1'));
        assert.equal(await d.createDeployment(deployment('d2', { createdAt: 2000 })), false, 'd1 is active');
        assert.equal(await d.deployment('d2'), null, 'nothing written');
        assert.equal(await d.createDeployment(deployment('d1', { alias: 'beta' })), false, 'same id');
        assert.equal(await d.createDeployment(deployment('d3', { alias: 'beta', createdAt: 3000 })), true);
        assert.equal(await d.createDeployment(deployment('d4', { agent: 'billing', createdAt: 4000 })), true);
        assert.equal(
          await d.createDeployment(deployment('d5', { status: 'succeeded', createdAt: 5000 })),
          true,
          'a finished one never blocks',
        );
        const paused = await d.updateDeployment({ ...deployment('d1'), status: 'paused' }, 1);
        assert.equal(paused?.rev, 2);
        assert.equal(await d.createDeployment(deployment('d6')), false, 'paused is active too');
        const done = await d.updateDeployment(
          { ...deployment('d1'), status: 'rolled_back', updatedAt: 1500 },
          2,
        );
        assert.equal(done?.status, 'rolled_back');
        assert.equal(await d.createDeployment(deployment('d6', { createdAt: 6000 })), true, 'd1 is over');
        await assert.rejects(
          d.updateDeployment({ ...deployment('d5'), status: 'in_progress' }, 1),
          'a finished deployment cannot become a second active one',
        );
        assert.equal((await d.deployment('d5'))?.status, 'succeeded');
        assert.deepEqual(
          (await d.deployments()).map((x) => x.deploymentId),
          ['d6', 'd5', 'd4', 'd3', 'd1'],
        );
        assert.deepEqual(
          (await d.deployments({ agent: 'commerce', active: true })).map((x) => x.deploymentId),
          ['d6', 'd3'],
        );
        assert.deepEqual(
          (await d.deployments({ agent: 'commerce', limit: 2 })).map((x) => x.deploymentId),
          ['d6', 'd5'],
        );
        assert.deepEqual(
          (await d.deployments({ agent: 'nobody' })).map((x) => x.deploymentId),
          [],
        );
        assert.equal(await d.deployment('missing'), null);
      }));

    it('issue 18 deployments: a step is a compare-and-set on rev and writes the alias with it', () =>
      withHarness(async ({ store }) => {
        const d = store.deployments;
        await d.createDeployment(deployment('d1'));
        const step = {
          at: 2000,
          weights: { v1: 90, v2: 10 },
          metrics: { errorRate: 0 },
          decision: 'shifted',
          reason: '10%',
        };
        const next = {
          ...deployment('d1'),
          steps: [...deployment('d1').steps, step],
          state: { phase: 'bake', index: 1 },
          updatedAt: 2000,
          owner: 'proc-1',
          leaseUntil: 12000,
        };
        assert.equal(
          await d.updateDeployment(next, 2, { weights: { v2: 100 }, by: 'mallory' }),
          null,
          'wrong rev',
        );
        assert.deepEqual(await d.deployment('d1'), deployment('d1'), 'a failed CAS writes nothing');
        assert.equal(await d.alias('commerce', 'live'), null, 'nor the alias');
        const written = await d.updateDeployment(next, 1, { weights: { v1: 90, v2: 10 }, by: 'proc-1' });
        assert.deepEqual(written, { ...next, rev: 2 });
        assert.deepEqual(await d.deployment('d1'), { ...next, rev: 2 });
        assert.deepEqual(await d.alias('commerce', 'live'), {
          agent: 'commerce',
          alias: 'live',
          weights: { v1: 90, v2: 10 },
          rev: 1,
          updatedAt: 2000,
          updatedBy: 'proc-1',
        });
        assert.equal(await d.updateDeployment({ ...next, updatedAt: 3000 }, 1), null, 'the same step twice');
        const third = await d.updateDeployment({ ...next, updatedAt: 3000 }, 2, {
          weights: { v2: 100 },
          by: 'proc-2',
        });
        assert.equal(third?.rev, 3);
        assert.deepEqual(
          [(await d.alias('commerce', 'live'))?.rev, (await d.alias('commerce', 'live'))?.weights],
          [2, { v2: 100 }],
        );
        const noAlias = await d.updateDeployment({ ...next, updatedAt: 4000 }, 3);
        assert.equal(noAlias?.rev, 4);
        assert.equal((await d.alias('commerce', 'live'))?.rev, 2, 'no alias given, none written');
        assert.equal(await d.updateDeployment(deployment('missing'), 1), null);
      }));

    if (canFailAliasWrites)
      it('issue 18 deployments: the step and the alias land together or not at all', async () => {
        await withHarness(async ({ store, failAliasWrites }) => {
          assert.ok(failAliasWrites, `the ${adapter} harness can fail an alias write`);
          const d = store.deployments;
          await d.createDeployment(deployment('d1'));
          await d.setAlias(
            { agent: 'commerce', alias: 'live', weights: { v1: 100 }, updatedAt: 1, updatedBy: 'x' },
            null,
          );
          await failAliasWrites('live');
          const next = { ...deployment('d1'), status: 'succeeded' as const, updatedAt: 2000 };
          await assert.rejects(d.updateDeployment(next, 1, { weights: { v2: 100 }, by: 'proc' }));
          assert.deepEqual(await d.deployment('d1'), deployment('d1'), 'the step rolled back with the alias');
          assert.deepEqual((await d.alias('commerce', 'live'))?.weights, { v1: 100 });
          const plain = await d.updateDeployment(next, 1);
          assert.equal(plain?.rev, 2, 'the failure was the alias write, nothing else');
        });
      });

    it('issue 18 deployments: creators and steppers racing on two stores, exactly one wins', () =>
      withHarness(async ({ store, openTwin }) => {
        const twins = openTwin ? [openTwin(), openTwin(), openTwin()] : [];
        const all = [store, ...twins, store, ...twins];
        try {
          const created = await Promise.all(
            all.map((s, i) =>
              s.deployments.createDeployment(deployment(`race-${i}`, { createdAt: 1000 + i })),
            ),
          );
          assert.equal(created.filter(Boolean).length, 1, `one creator wins: ${created.join(',')}`);
          const active = await store.deployments.deployments({ agent: 'commerce', active: true });
          assert.equal(active.length, 1);
          const id = active[0]!.deploymentId;
          assert.equal(created.indexOf(true), Number(id.slice('race-'.length)));
          const stepped = await Promise.all(
            all.map((s, i) =>
              s.deployments.updateDeployment({ ...active[0]!, state: { by: i }, updatedAt: 2000 + i }, 1, {
                weights: { v2: i },
                by: `p${i}`,
              }),
            ),
          );
          const won = stepped.filter((x) => x !== null);
          assert.equal(won.length, 1, 'one step per rev');
          const by = (won[0]!.state as { by: number }).by;
          assert.deepEqual((await store.deployments.deployment(id))?.state, { by });
          const alias = await store.deployments.alias('commerce', 'live');
          assert.deepEqual([alias?.rev, alias?.weights, alias?.updatedBy], [1, { v2: by }, `p${by}`]);
        } finally {
          for (const t of twins) await t.close();
        }
      }));

    it('issue 18 workers: announcements refresh, expire and retire', () =>
      withHarness(async ({ store }) => {
        const d = store.deployments;
        await d.announce({ owner: 'w1', served: ['commerce@v1'], seenAt: 100, expiresAt: 200 });
        await d.announce({
          owner: 'w2',
          served: ['commerce@v1', 'commerce@v2', 'billing'],
          seenAt: 100,
          expiresAt: 150,
        });
        assert.deepEqual(
          (await d.workers(149)).map((w) => w.owner),
          ['w1', 'w2'],
        );
        assert.deepEqual(
          (await d.workers(150)).map((w) => w.owner),
          ['w1'],
          'expiresAt > now only',
        );
        await d.announce({ owner: 'w2', served: ['commerce@v2'], seenAt: 190, expiresAt: 300 });
        assert.deepEqual(await d.workers(250), [
          { owner: 'w2', served: ['commerce@v2'], seenAt: 190, expiresAt: 300 },
        ]);
        await d.retire('w2');
        await d.retire('never-announced');
        assert.deepEqual(await d.workers(0), [
          { owner: 'w1', served: ['commerce@v1'], seenAt: 100, expiresAt: 200 },
        ]);
      }));

    it('issue 18 odd text: NUL, lone surrogates, escapes, RTL, emoji and 1 MB read back by the text rule', () =>
      withHarness(async ({ store }) => {
        const d = store.deployments;
        const big = NASTY.big ?? '';
        let at = 1;
        for (const [name, v] of Object.entries(NASTY)) {
          const agent = `agent ${v.slice(0, 64)}`;
          const label = `v ${v.slice(0, 40)}`;
          const definition = { instructions: v, nested: { [v.slice(0, 32)]: [v.slice(0, 8)] } };
          const rec = version(agent, label, { definition, source: v.slice(0, 64), createdAt: at++ });
          const back = await d.publish(rec);
          const expected = {
            ...rec,
            agent: asText(agent),
            version: asText(label),
            digest: asText(rec.digest),
            source: asText(v.slice(0, 64)),
          };
          assert.deepEqual(back, expected, name);
          assert.deepEqual(await d.versions(agent), [expected], name);
          const key = `${v.slice(0, 64)}\u0000${v}`;
          assert.equal(await d.stickSession(agent, key, label, false, at), asText(label), name);
          assert.equal(await d.sessionVersion(agent, key), asText(label), name);
          const alias = await d.setAlias(
            {
              agent,
              alias: `alias ${v.slice(0, 16)}`,
              weights: { [label]: 100 },
              updatedAt: at,
              updatedBy: v.slice(0, 64),
            },
            null,
          );
          assert.deepEqual(alias?.weights, { [label]: 100 }, `${name}: weights are JSON, exact`);
          assert.equal(alias?.updatedBy, asText(v.slice(0, 64)), name);
          assert.deepEqual(await d.alias(agent, `alias ${v.slice(0, 16)}`), alias, name);
          const dep = deployment(`dep-${name}`, {
            agent,
            alias: v.slice(0, 64),
            state: { note: v },
            createdBy: v.slice(0, 64),
          });
          assert.equal(await d.createDeployment(dep), true, name);
          assert.deepEqual(await d.deployment(dep.deploymentId), dep, `${name}: a deployment is JSON, exact`);
          assert.deepEqual(
            (await d.deployments({ agent })).map((x) => x.deploymentId),
            [dep.deploymentId],
            name,
          );
          await d.announce({
            owner: `w ${v.slice(0, 64)}`,
            served: [`${agent}@${label}`],
            seenAt: 1,
            expiresAt: 10,
          });
          assert.equal(await d.forgetActor(v.slice(0, 64)), 1, name);
          assert.equal(await d.sessionVersion(agent, key), null, name);
          assert.equal(await d.deleteVersion(agent, label), true, name);
        }
        const workers = await d.workers(0);
        assert.equal(workers.length, Object.keys(NASTY).length);
        assert.ok(workers.every((w) => w.served.length === 1 && w.owner === asText(w.owner)));
        assert.equal((await d.deployment('dep-big'))?.state.note, big, '1 MB state');
        // A 1 MB session key and a 1 MB definition.
        const key = `alice\u0000${big}`;
        assert.equal(await d.stickSession('commerce', key, 'v1', false, 1), 'v1');
        assert.equal(await d.sessionVersion('commerce', key), 'v1');
        assert.equal(await d.forgetActor('alice'), 1);
        const huge = await d.publish(version('commerce', 'v9', { definition: { instructions: big } }));
        assert.equal((huge.definition as { instructions: string }).instructions, big);
      }));

    it('issue 18 runs: the projection keeps the version and filters by agent, version and createdAfter', () =>
      withHarness(async ({ store }) => {
        await store.commit({
          projection: [
            runRow('r1', { createdAt: 1000 }),
            runRow('r2', { version: 'v1', createdAt: 2000 }),
            runRow('r3', { version: 'v2', createdAt: 3000 }),
            runRow('r4', { version: 'v2', createdAt: 4000, agent: 'billing' }),
            runRow('r5', { version: null, createdAt: 5000, agent: null }),
          ],
        });
        assert.equal((await store.runs.get('r1'))?.version, null, 'no version reads back as null');
        assert.equal((await store.runs.get('r2'))?.version, 'v1');
        const ids = async (q: Parameters<Store['runs']['list']>[0]): Promise<string[]> =>
          (await store.runs.list(q)).map((r) => r.runId);
        assert.deepEqual(await ids({ agent: 'commerce' }), ['r3', 'r2', 'r1']);
        assert.deepEqual(await ids({ agent: 'commerce', version: 'v2' }), ['r3']);
        assert.deepEqual(await ids({ version: 'v2' }), ['r4', 'r3']);
        assert.deepEqual(await ids({ version: 'v2', createdAfter: 3000 }), ['r4', 'r3'], 'inclusive');
        assert.deepEqual(await ids({ version: 'v2', createdAfter: 3001 }), ['r4']);
        assert.deepEqual(await ids({ createdAfter: 5000 }), ['r5']);
        await store.commit({ projection: [runRow('r1', { version: 'v3', lastSeq: 2, status: 'running' })] });
        assert.deepEqual(await ids({ version: 'v3' }), ['r1'], 'an upsert writes the version');
        await store.commit({ projection: [runRow('r1', { version: 'v9', lastSeq: 1 })] });
        assert.equal((await store.runs.get('r1'))?.version, 'v3', 'a stale upsert does not');
        const odd = `v ${NASTY.nul} ${NASTY.loneHigh}`;
        await store.commit({ projection: [runRow('r6', { version: odd, createdAt: 6000 })] });
        assert.equal((await store.runs.get('r6'))?.version, asText(odd));
        assert.deepEqual(await ids({ version: odd }), ['r6']);
      }));
  });
}
