/**
 * Agent versions, the pure parts: the weighted pick, `name@version` references, the content
 * digest (what changes it and what does not), the rule for one name defined twice, and the
 * queue and key names of a version.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent, type AgentOptions } from '../../src/core/agent.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { parsePolicies } from '../../src/core/policy.ts';
import { mulberry32 } from '../../src/core/random.ts';
import { defineTool } from '../../src/core/tool.ts';
import { policyModel } from '../../src/models/scripted.ts';
import { agentQueue, buildAgentSet, primaryDefinitions, versionKey } from '../../src/runtime/agents.ts';
import { parseAgentRef, pickWeighted } from '../../src/runtime/versions.ts';

const model = policyModel(() => ({ text: 'ok' }));

const lookup = (description = 'Look up an order', run = async () => ({ ok: true })) =>
  defineTool({
    name: 'lookup_order',
    description,
    input: z.object({ id: z.number().int() }),
    risk: 'read',
    idempotent: true,
    run,
  });

const base: AgentOptions = {
  name: 'shop',
  responsibility: 'Answer shop questions',
  instructions: 'Be brief.',
  tools: [lookup()],
  examples: ['where is my order'],
};

const digestOf = (o: Partial<AgentOptions> = {}): string =>
  buildAgentSet([defineAgent({ ...base, ...o })], model).agents.get('shop')!.digest;

describe('pickWeighted', () => {
  it('splits draws in proportion to the weights (seeded, 20,000 draws)', () => {
    const random = mulberry32(18);
    const counts: Record<string, number> = {};
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const v = pickWeighted({ v1: 70, v2: 30 }, random())!;
      counts[v] = (counts[v] ?? 0) + 1;
    }
    assert.deepEqual(Object.keys(counts).sort(), ['v1', 'v2']);
    assert.ok(Math.abs(counts.v2! / n - 0.3) < 0.01, `v2 share ${counts.v2! / n}`);
    // Three versions, weights not summing to 100: shares follow the total.
    const three: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const v = pickWeighted({ a: 1, b: 2, c: 1 }, random())!;
      three[v] = (three[v] ?? 0) + 1;
    }
    assert.ok(Math.abs(three.b! / n - 0.5) < 0.015, `b share ${three.b! / n}`);
    assert.ok(Math.abs(three.a! / n - 0.25) < 0.015, `a share ${three.a! / n}`);
  });

  it('edges: the draw boundaries, zero weights, one version, nothing weighted', () => {
    // Versions in name order: [0, 0.7) → v1, [0.7, 1) → v2, whatever the object's key order.
    assert.equal(pickWeighted({ v2: 30, v1: 70 }, 0), 'v1');
    assert.equal(pickWeighted({ v2: 30, v1: 70 }, 0.6999), 'v1');
    assert.equal(pickWeighted({ v2: 30, v1: 70 }, 0.7), 'v2');
    assert.equal(pickWeighted({ v2: 30, v1: 70 }, 0.99999), 'v2');
    // A version at weight 0 is never picked, at any draw.
    for (const r of [0, 0.25, 0.5, 0.75, 0.999999]) {
      assert.equal(pickWeighted({ v1: 0, v2: 100 }, r), 'v2');
      assert.equal(pickWeighted({ v1: 100, v2: 0 }, r), 'v1');
      assert.equal(pickWeighted({ only: 100 }, r), 'only');
      assert.equal(pickWeighted({ only: 5 }, r), 'only');
    }
    assert.equal(pickWeighted({}, 0.5), undefined);
    assert.equal(pickWeighted({ v1: 0, v2: 0 }, 0.5), undefined);
    assert.equal(pickWeighted({ v1: -5 }, 0.5), undefined);
  });
});

describe('parseAgentRef', () => {
  it('splits name@version at the first @; a plain name has no version', () => {
    assert.deepEqual(parseAgentRef('shop'), { agent: 'shop' });
    assert.deepEqual(parseAgentRef('shop@v2'), { agent: 'shop', version: 'v2' });
    assert.deepEqual(parseAgentRef('shop@2026-12-02.1'), { agent: 'shop', version: '2026-12-02.1' });
    assert.equal(parseAgentRef('shop@v2').version, 'v2');
    assert.equal('version' in parseAgentRef('shop'), false);
  });
});

describe('agentQueue and versionKey', () => {
  it('a labeled version has its own queue and key; an unlabeled agent keeps the name', () => {
    assert.equal(agentQueue('shop'), 'agent:shop');
    assert.equal(agentQueue('shop', 'v2'), 'agent:shop@v2');
    assert.equal(agentQueue('shop', ''), 'agent:shop');
    assert.equal(versionKey('shop'), 'shop');
    assert.equal(versionKey('shop', 'v2'), 'shop@v2');
  });

  it('buildAgentSet: one runtime per version, the first declared is the primary', () => {
    const v1 = defineAgent({ ...base, version: 'v1' });
    const v2 = defineAgent({ ...base, version: 'v2', instructions: 'Be very brief.' });
    const other = defineAgent({ ...base, name: 'faq' });
    const set = buildAgentSet([v1, v2, other], model);
    assert.deepEqual([...set.versions.keys()], ['shop@v1', 'shop@v2', 'faq']);
    assert.deepEqual([...set.agents.keys()], ['shop', 'faq']);
    assert.equal(set.agents.get('shop')!.version, 'v1');
    const r2 = set.versions.get('shop@v2')!;
    assert.equal(r2.labeled, true);
    assert.equal(r2.queue, 'agent:shop@v2');
    assert.equal(r2.key, 'shop@v2');
    assert.notEqual(r2.digest, set.versions.get('shop@v1')!.digest);
    const faq = set.versions.get('faq')!;
    assert.equal(faq.labeled, false);
    assert.equal(faq.queue, 'agent:faq');
    assert.equal(faq.key, 'faq');
    assert.equal(faq.version, faq.digest);
    assert.match(faq.digest, /^[0-9a-f]{12}$/);
  });
});

describe('the content digest', () => {
  it('changes with instructions, tools, tool schemas, budget, examples, responsibility, model', () => {
    const d = digestOf();
    assert.equal(digestOf(), d, 'the same definition twice gives the same digest');
    const changed: Record<string, string> = {
      instructions: digestOf({ instructions: 'Be thorough.' }),
      'a tool added': digestOf({
        tools: [lookup(), defineTool({ ...lookup(), name: 'cancel_order', risk: 'write' })],
      }),
      'no tools': digestOf({ tools: [] }),
      'a tool description': digestOf({ tools: [lookup('Find an order')] }),
      'a tool schema': digestOf({
        tools: [
          defineTool({
            name: 'lookup_order',
            description: 'Look up an order',
            input: z.object({ id: z.string() }),
            risk: 'read',
            idempotent: true,
            run: async () => ({ ok: true }),
          }),
        ],
      }),
      budget: digestOf({ budget: { maxSteps: 3 } }),
      examples: digestOf({ examples: ['where is my order', 'cancel it'] }),
      responsibility: digestOf({ responsibility: 'Answer every question' }),
      escalation: digestOf({ escalation: true }),
      model: digestOf({ model: policyModel(() => ({ text: 'ok' }), { modelId: 'other' }) }),
    };
    for (const [what, digest] of Object.entries(changed))
      assert.notEqual(digest, d, `${what} must change the digest`);
    assert.equal(new Set(Object.values(changed)).size, Object.keys(changed).length);
  });

  it('does not change with the label, a tool implementation, concurrency or the output cap', () => {
    const d = digestOf();
    assert.equal(digestOf({ version: 'v7' }), d);
    assert.equal(digestOf({ tools: [lookup(undefined, async () => ({ ok: false }))] }), d);
    assert.equal(digestOf({ concurrency: 9 }), d);
    assert.equal(digestOf({ maxOutputTokens: 100 }), d);
  });

  it('changes with a policy that names the agent, not with one naming another agent', () => {
    const def = defineAgent(base);
    const of = (policies: unknown[]) =>
      buildAgentSet([def], model, 4096, parsePolicies(policies)).agents.get('shop')!.digest;
    const d = of([]);
    const mine = { id: 'p1', effect: 'deny', match: { agent: 'shop', tool: 'lookup_order' } };
    const theirs = { id: 'p2', effect: 'deny', match: { agent: 'faq', tool: 'lookup_order' } };
    assert.notEqual(of([mine]), d);
    assert.equal(of([theirs]), d);
  });
});

describe('one name defined twice', () => {
  const v1 = defineAgent({ ...base, version: 'v1' });
  const v2 = defineAgent({ ...base, version: 'v2' });
  const bare = defineAgent(base);
  const throwsAt = (defs: ReturnType<typeof defineAgent>[], message: RegExp): void =>
    assert.throws(
      () => primaryDefinitions(defs),
      (e: unknown) => e instanceof ConfigError && e.key === 'agents.shop' && message.test(e.message),
    );

  it('without labels, or with one label missing, is a ConfigError at agents.<name>', () => {
    throwsAt([bare, bare], /distinct version label/);
    throwsAt([v1, bare], /distinct version label/);
    throwsAt([bare, v2], /distinct version label/);
    assert.throws(() => buildAgentSet([bare, bare], model), ConfigError);
  });

  it('with the same label twice is a ConfigError; distinct labels are two versions', () => {
    throwsAt([v1, v2, defineAgent({ ...base, version: 'v1', instructions: 'x' })], /version "v1"/);
    const primary = primaryDefinitions([v1, v2]);
    assert.equal(primary.size, 1);
    assert.equal(primary.get('shop'), v1);
  });
});
