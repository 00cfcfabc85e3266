import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineAgent, type AgentDefinition } from '../../src/core/agent.ts';
import { formatLint, LINT_RULES, lintAgents, lintExitCode, type LintFinding } from '../../src/core/lint.ts';
import { defineTool, type AnyTool, type RiskClass } from '../../src/core/tool.ts';

const WORDS =
  'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa'.split(
    ' ',
  );

function tool(
  name: string,
  extra: { risk?: RiskClass; domain?: string; description?: string; approval?: boolean } = {},
): AnyTool {
  return defineTool({
    name,
    description: extra.description ?? `Handles ${name} and ${name} records only`,
    risk: extra.risk ?? 'read',
    input: z.object({}),
    ...(extra.domain ? { domain: extra.domain } : {}),
    ...(extra.approval ? { requiresApproval: () => true } : {}),
    run: () => null,
  });
}

const tools = (n: number): AnyTool[] => WORDS.slice(0, n).map((w) => tool(w));

function agent(name: string, overrides: Partial<Parameters<typeof defineAgent>[0]> = {}): AgentDefinition {
  return defineAgent({
    name,
    responsibility: `The ${name} desk`,
    instructions: 'Be brief.',
    tools: tools(3),
    ...overrides,
  });
}

const rulesOf = (findings: LintFinding[], name?: string): string[] =>
  findings.filter((f) => name === undefined || f.agent === name).map((f) => f.rule);

void test('a narrow agent with 3 tools has no findings', () => {
  assert.deepEqual(lintAgents([agent('billing')]), []);
});

void test('missing-responsibility: an agent without a responsibility is an error', () => {
  const [f] = lintAgents([agent('billing', { responsibility: '  ' })]);
  assert.equal(f?.rule, 'missing-responsibility');
  assert.equal(f?.severity, 'error');
  assert.equal(f?.agent, 'billing');
  assert.ok(f?.fix);
});

void test('tool-budget: 6 to 8 tools are warned', () => {
  const findings = lintAgents([agent('six', { tools: tools(6) }), agent('eight', { tools: tools(8) })]);
  assert.deepEqual(rulesOf(findings), ['tool-budget', 'tool-budget']);
  assert.ok(findings.every((f) => f.severity === 'warning'));
});

void test('tool-retrieval-required: 10 or more tools need tool retrieval', () => {
  const off = lintAgents([agent('big', { tools: tools(10) })]);
  assert.ok(off.some((f) => f.rule === 'tool-retrieval-required' && f.severity === 'error'));
  const on = lintAgents([
    agent('big', { tools: tools(10), toolRetrieval: { enabled: true, topK: 5, pinned: [] } }),
  ]);
  assert.ok(!on.some((f) => f.rule === 'tool-retrieval-required'));
});

void test('too-many-tools: 15 or more is an error unless explicitly allowed', () => {
  const retrieval = { enabled: true, topK: 5, pinned: [] };
  const denied = lintAgents([agent('huge', { tools: tools(15), toolRetrieval: retrieval })]);
  assert.deepEqual(rulesOf(denied), ['too-many-tools']);
  assert.equal(denied[0]?.severity, 'error');
  const allowed = lintAgents([
    agent('huge', { tools: tools(15), toolRetrieval: retrieval, allowManyTools: true }),
  ]);
  assert.ok(!allowed.some((f) => f.rule === 'too-many-tools'));
  assert.equal(lintExitCode(allowed), 0);
});

void test('mixed-domains: tools from several business domains in one agent', () => {
  const findings = lintAgents([
    agent('ops', { tools: [tool('refund', { domain: 'billing' }), tool('ship', { domain: 'shipping' })] }),
  ]);
  assert.deepEqual(rulesOf(findings), ['mixed-domains']);
  assert.match(findings[0]?.message ?? '', /billing, shipping/);
});

void test('near-duplicate-tools: near-identical descriptions confuse selection', () => {
  const findings = lintAgents([
    agent('orders', {
      tools: [
        tool('get_order', { description: 'Look up an order by its id and return its status' }),
        tool('fetch_order', { description: 'Look up the order by id and return the status' }),
        tool('cancel_order', { description: 'Cancel an unshipped order' }),
      ],
    }),
  ]);
  assert.deepEqual(rulesOf(findings), ['near-duplicate-tools']);
  assert.match(findings[0]?.message ?? '', /get_order and fetch_order/);
});

void test('financial-without-approval: financial tools need requiresApproval or a policy', () => {
  const pay = tool('pay', { risk: 'financial' });
  assert.deepEqual(rulesOf(lintAgents([agent('billing', { tools: [pay] })])), ['financial-without-approval']);
  const approved = tool('pay', { risk: 'financial', approval: true });
  assert.deepEqual(lintAgents([agent('billing', { tools: [approved] })]), []);
  assert.deepEqual(
    lintAgents([agent('billing', { tools: [pay] })], { approvalPolicyFor: (t) => t.name === 'pay' }),
    [],
  );
});

void test('unknown-delegate: delegates must name defined agents', () => {
  const findings = lintAgents([agent('support', { delegates: ['billing'] })]);
  assert.deepEqual(rulesOf(findings), ['unknown-delegate']);
  assert.match(findings[0]?.message ?? '', /"billing"/);
});

void test('delegation-cycle: a cycle is reported once, naming its agents', () => {
  const findings = lintAgents([
    agent('a', { delegates: ['b'] }),
    agent('b', { delegates: ['c'] }),
    agent('c', { delegates: ['a'] }),
    agent('d', { delegates: ['a'] }),
  ]);
  assert.deepEqual(rulesOf(findings), ['delegation-cycle']);
  assert.match(findings[0]?.message ?? '', /a → b → c → a/);
});

void test('every rule is covered and the CLI output names agent, rule and fix', () => {
  const findings = lintAgents([
    agent('x', {
      responsibility: '',
      tools: [
        ...tools(15),
        tool('pay', { risk: 'financial', domain: 'billing' }),
        tool('ship', { domain: 'shipping' }),
      ],
      delegates: ['x', 'ghost'],
    }),
  ]);
  const seen = new Set(rulesOf(findings));
  for (const rule of LINT_RULES)
    if (rule !== 'tool-budget' && rule !== 'near-duplicate-tools') assert.ok(seen.has(rule), rule);
  const text = formatLint(findings);
  assert.match(text, /^error\s+x\s+missing-responsibility: /m);
  assert.match(text, /fix: /);
  assert.match(text, /lint: \d+ error\(s\)/);
  assert.equal(lintExitCode(findings), 1);
  assert.equal(formatLint([]), 'lint: no findings');
});
