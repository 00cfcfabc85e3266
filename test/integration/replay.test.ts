import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createMemoryStore } from '../../src/store/memory/store.ts';
import { createSystem } from '../../src/system.ts';
import { loadFixtures, replayFixture, type JournalFixture } from '../../src/replay/fixtures.ts';
import { formatReplay } from '../../src/replay/format.ts';
import { firstDivergence, replayConfigOf, replayTotals, type ReplayConfig } from '../../src/replay/replay.ts';
import { createEnterpriseSystem } from '../../examples/enterprise/agents.ts';
import {
  SUPPORT_INSTRUCTIONS,
  scriptedAgents,
  scriptedModelFor,
  scriptedRouter,
  type Effects,
} from '../fixtures/journals/scripted-system.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'journals');
const dataDir = mkdtempSync(join(tmpdir(), 'sb-replay-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

function scriptedConfig(instructions = SUPPORT_INSTRUCTIONS) {
  const effects: Effects = { lookup: 0, track: 0, refund: 0 };
  const model = scriptedModelFor();
  const system = createSystem({
    agents: scriptedAgents(effects, instructions),
    model,
    router: scriptedRouter,
    store: createMemoryStore(),
    workers: false,
    onWarning: () => {},
  });
  return { config: replayConfigOf(system), effects, model };
}

let enterprise: ReturnType<typeof createEnterpriseSystem> | undefined;
function enterpriseConfig(): ReplayConfig {
  enterprise ??= createEnterpriseSystem({
    dataDir,
    store: createMemoryStore(),
    system: { workers: false, onWarning: () => {} },
  });
  return replayConfigOf(enterprise.system);
}
after(async () => {
  await enterprise?.business.close();
});

const fixtures = loadFixtures(FIXTURES);

describe('replay of the fixture journals', () => {
  it('has a corpus of scripted and enterprise journals', () => {
    assert.ok(fixtures.filter((f) => f.system === 'scripted').length >= 4);
    assert.ok(fixtures.filter((f) => f.system === 'enterprise').length >= 4);
  });

  for (const fixture of fixtures) {
    it(`${fixture.name}: 0 divergences, 0 model calls, 0 tool effects`, async () => {
      const scripted = fixture.system === 'scripted' ? scriptedConfig() : undefined;
      const config = scripted?.config ?? enterpriseConfig();
      const report = await replayFixture(fixture, config);
      const totals = replayTotals(report);
      assert.equal(firstDivergence(report), null, formatReplay(report));
      assert.equal(totals.divergences, 0);
      assert.equal(totals.runs, Object.keys(fixture.runs).length, 'every run of the tree replayed');
      assert.equal(totals.modelCallsMade, 0);
      const recordedModelCalls = Object.values(fixture.runs)
        .flat()
        .filter((e) => e.type === 'model.responded').length;
      assert.equal(totals.modelOutputsServed, recordedModelCalls);
      if (scripted) {
        assert.equal(scripted.model.calls.length, 0, 'the model was never called');
        assert.deepEqual(scripted.effects, { lookup: 0, track: 0, refund: 0 }, 'no tool ran');
      }
    });
  }

  it('a changed instruction diverges at the step it changes, with the model asked only from there', async () => {
    const fixture = fixtures.find((f) => f.name === 'scripted-track') as JournalFixture;
    const { config, effects, model } = scriptedConfig(`${SUPPORT_INSTRUCTIONS} You never track parcels.`);
    const report = await replayFixture(fixture, { ...config, live: true });
    const d = firstDivergence(report);
    const responded = (fixture.runs[fixture.rootRunId] ?? []).filter((e) => e.type === 'model.responded');
    assert.ok(d, 'diverges');
    assert.equal(d.kind, 'model-response');
    assert.equal(
      d.step,
      2,
      'the second model step: after the lookup, the new instructions answer instead of tracking',
    );
    assert.equal(d.seq, responded[1]?.seq);
    assert.deepEqual(
      (d.recorded as { toolCalls: { toolName: string }[] }).toolCalls.map((c) => c.toolName),
      ['track_parcel'],
    );
    assert.deepEqual((d.replayed as { toolCalls: unknown[] }).toolCalls, []);
    assert.match(report.notes.join('\n'), /agent support changed since the recording/);
    assert.equal(model.calls.length, 2, 'the changed agent was asked for steps 1 and 2 only');
    assert.deepEqual(effects, { lookup: 0, track: 0, refund: 0 }, 'no tool ran');
    const text = formatReplay(report);
    assert.match(text, /first divergence .* step 2/);
    assert.match(text, /track_parcel/);
  });

  it('without live models a changed instruction is reported, and decisions still match', async () => {
    const fixture = fixtures.find((f) => f.name === 'scripted-track') as JournalFixture;
    const { config, model } = scriptedConfig(`${SUPPORT_INSTRUCTIONS} You never track parcels.`);
    const report = await replayFixture(fixture, config);
    assert.equal(firstDivergence(report), null);
    assert.equal(model.calls.length, 0);
    assert.match(report.notes.join('\n'), /changed since the recording/);
  });

  it('a changed router diverges at the routing step', async () => {
    const fixture = fixtures.find((f) => f.name === 'scripted-track') as JournalFixture;
    const { config } = scriptedConfig();
    const router = { route: () => ({ ...scriptedRouter.route(''), choice: 'billing' }) };
    const d = firstDivergence(await replayFixture(fixture, { ...config, router }));
    assert.equal(d?.kind, 'route');
    assert.equal(d?.seq, 2);
    assert.deepEqual([d?.recorded, d?.replayed], ['support', 'billing']);
  });
});
