/**
 * Issue 18: metrics by version. A project with two labeled versions of `shop` (the deployment CLI
 * fixture) opened as `switchboard serve` opens it, its telemetry from `telemetryFor` (src/cli/serve.ts):
 * runs of each version are counted under their own `version` label; the queue of each labeled
 * version is measured; `switchboard_version_not_served` is 1 for a version with traffic that no
 * live worker serves and absent (no series, read as 0) for the others; agent health names it.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { telemetryFor } from '../../src/cli/serve.ts';
import { loadConfig, openProject, type Project } from '../../src/project.ts';
import { createMemoryStore } from '../../src/store/memory/store.ts';
import { agentHealth } from '../../src/telemetry/health.ts';

interface Family {
  name: string;
  metrics: { labels?: Record<string, string>; value?: string }[];
}

/** The Prometheus text-format parser (a CommonJS package without types). */
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

const series = (families: Family[], name: string, labels: Record<string, string>): number[] =>
  (families.find((f) => f.name === name)?.metrics ?? [])
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .map((m) => Number(m.value));

const PROJECT = new URL('../fixtures/projects/versions/switchboard.config.ts', import.meta.url).pathname;

describe('telemetry by version (issue 18)', { timeout: 60_000 }, () => {
  it('counts each version apart, measures each version queue, and flags a version no worker serves', async () => {
    const store = createMemoryStore();
    const config = await loadConfig({ config: PROJECT, env: {} });
    const open = (workers?: { agents: string[] }): Promise<Project> =>
      openProject(config, {
        store,
        role: 'serve',
        system: { pollMs: 20, onWarning: () => {} },
        ...(workers ? { workers } : {}),
        onError: () => {},
      });

    // Phase 1: a process serving both versions; 3 runs pinned to v1, 2 to v2.
    const both = await open();
    await both.system.start();
    const telemetry = await telemetryFor(both);
    const scrape = async (): Promise<Family[]> => {
      await telemetry.flush();
      return parse((await telemetry.metrics!.render()).body);
    };
    try {
      for (const [i, version] of ['v1', 'v1', 'v1', 'v2', 'v2'].entries()) {
        const { runId } = await both.system.submit({
          actorId: 'ops',
          sessionId: `s${i}`,
          input: 'What are your opening hours?',
          agent: 'shop',
          version,
        });
        await both.system.wait(runId);
      }
      let families = await scrape();
      const runs = (version: string): number[] =>
        series(families, 'switchboard_runs_total', { agent: 'shop', version, status: 'completed' });
      assert.deepEqual(runs('v1'), [3]);
      assert.deepEqual(runs('v2'), [2]);
      for (const queue of ['agent:shop@v1', 'agent:shop@v2'])
        assert.deepEqual(series(families, 'switchboard_queue_depth', { queue }), [0], `${queue} measured`);
      await both.system.deployments.setAlias('shop', 'live', { v1: 50, v2: 50 }, 'ops');
      families = await scrape();
      assert.deepEqual(series(families, 'switchboard_version_not_served', { agent: 'shop' }), []);
      const healthy = await agentHealth(store, {
        agents: ['shop'],
        windowMs: 3_600_000,
        now: Date.now(),
        versions: both.system.deployments,
      });
      assert.deepEqual(healthy[0]?.versionsNotServed, []);
      assert.deepEqual(
        healthy[0]?.versions.map((v) => [v.version, v.figures.completed]),
        [
          ['v1', 3],
          ['v2', 2],
        ],
      );
    } finally {
      await telemetry.stop();
      await both.system.stop();
    }

    // Phase 2: only v1 is served now; the alias still gives v2 half the traffic, one run waits on it.
    const onlyV1 = await open({ agents: ['shop@v1'] });
    await onlyV1.system.start();
    const second = await telemetryFor(onlyV1);
    try {
      await onlyV1.system.submit({
        actorId: 'ops',
        sessionId: 'waiting',
        input: 'Still there?',
        agent: 'shop',
        version: 'v2',
      });
      await second.flush();
      const families = parse((await second.metrics!.render()).body);
      assert.deepEqual(
        series(families, 'switchboard_version_not_served', { agent: 'shop', version: 'v2' }),
        [1],
      );
      assert.deepEqual(
        series(families, 'switchboard_version_not_served', { agent: 'shop', version: 'v1' }),
        [],
      );
      assert.deepEqual(series(families, 'switchboard_queue_depth', { queue: 'agent:shop@v2' }), [1]);
      const health = await agentHealth(store, {
        agents: ['shop'],
        windowMs: 3_600_000,
        now: Date.now(),
        versions: onlyV1.system.deployments,
        labels: { shop: ['v1', 'v2'] },
      });
      assert.deepEqual(
        health[0]?.versionsNotServed.map((u) => u.version),
        ['v2'],
      );
      assert.match(health[0]?.versionsNotServed[0]?.reason ?? '', /no live worker serves it/);
      assert.equal(health[0]?.queueDepth, 1);
    } finally {
      await second.stop();
      await onlyV1.system.stop();
      await store.close();
    }
  });
});
