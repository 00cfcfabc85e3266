/**
 * The reference system's scenario suite can fail: every routed turn asserts its agent, every
 * scenario checks the database (or is checked unchanged), and the router threshold is calibrated
 * on data the suite does not score.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createEnterpriseAgents, ENTERPRISE_ROUTING } from '../../examples/enterprise/agents.ts';
import { openBusinessDb } from '../../examples/enterprise/db.ts';
import { calibrateRouterThreshold, OFF_TOPIC } from '../../examples/enterprise/routing-calibration.ts';
import { loadScenarios, runScenarios, scenarioInputs } from '../../examples/enterprise/scenario-suite.ts';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'sb-scen-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A scenario directory holding `scenarios`, one file each. */
function scenarioDir(scenarios: object[]): string {
  const dir = tempDir();
  scenarios.forEach((s, i) => writeFileSync(join(dir, `s${i}.json`), JSON.stringify(s)));
  return dir;
}

describe('hardening #19: the scenario suite', () => {
  it('hardening #19: every turn that names no agent asserts the routed one; every scenario checks the database or says why it writes nothing', () => {
    const scenarios = loadScenarios();
    assert.ok(scenarios.length >= 49);
    for (const s of scenarios) {
      for (const [i, t] of s.turns.entries())
        if (t.agent === undefined) assert.notEqual(t.expect.agent, undefined, `${s.name} turn ${i + 1}`);
      assert.ok(s.db.length > 0 || (s.readOnly ?? '').length > 0, s.name);
    }
    // A file that leaves either out is refused when the suite loads, naming what is missing.
    const turn = { input: 'Is the Aurora Desk Lamp in stock?', expect: { status: 'completed' } };
    assert.throws(
      () => loadScenarios(scenarioDir([{ name: 'x', description: 'x', turns: [turn], readOnly: 'reads' }])),
      /s0\.json:[\s\S]*turn 1 is routed: say which agent it must reach/,
    );
    const routed = { ...turn, expect: { agent: 'operations' } };
    assert.throws(
      () => loadScenarios(scenarioDir([{ name: 'x', description: 'x', turns: [routed] }])),
      /give a database check, or say in `readOnly` why/,
    );
  });

  it('hardening #19: a turn routed to another agent, and a read-only scenario that writes, fail', async () => {
    const dir = scenarioDir([
      {
        name: 'wrong-agent',
        description: 'A stock question expected (wrongly) at commerce.',
        turns: [{ input: 'Is the Aurora Desk Lamp in stock?', expect: { agent: 'commerce' } }],
        readOnly: 'checking stock reads products only',
      },
      {
        name: 'writes',
        description: 'A refund claimed to be read-only.',
        turns: [{ input: 'Refund order ORD-10009, the item arrived late', expect: { agent: 'commerce' } }],
        readOnly: 'claimed',
      },
      {
        name: 'passes',
        description: 'The same stock question, at operations.',
        turns: [{ input: 'Is the Aurora Desk Lamp in stock?', expect: { agent: 'operations' } }],
        readOnly: 'checking stock reads products only',
      },
    ]);
    const suite = await runScenarios({ dir });
    const failures = new Map(suite.results.map((r) => [r.name, r.failures]));
    assert.deepEqual(failures.get('wrong-agent'), ['turn 1: routed to operations, expected commerce']);
    assert.ok(
      failures
        .get('writes')
        ?.some((f) => /^db: table (orders|refunds) changed, but the scenario is read-only/.test(f)),
      JSON.stringify(failures.get('writes')),
    );
    assert.deepEqual(failures.get('passes'), []);
  });

  it('hardening #19: the router threshold is the one calibrated on the agents’ examples and off-topic requests, with every scenario input held out', async () => {
    const dir = tempDir();
    const biz = openBusinessDb(join(dir, 'business.db'));
    try {
      const agents = createEnterpriseAgents(biz, { exportDir: join(dir, 'exports') });
      const inputs = scenarioInputs();
      const c = calibrateRouterThreshold(agents, inputs);
      assert.equal(ENTERPRISE_ROUTING.threshold, c.threshold);
      // Nothing the calibration scored is a scenario input.
      for (const x of [...c.inScope.map((e) => e.text), ...OFF_TOPIC]) assert.ok(!inputs.has(x), x);
      assert.ok(c.heldOut.length > 0, 'scenario inputs that are also agent examples are held out');
      assert.ok(c.inScope.length > 50 && c.offTopic.length >= 16);
    } finally {
      await biz.close();
    }
  });
});
