/**
 * The scenario suite: multi-turn conversations against the enterprise system with expected
 * outcomes (routing, tools called, delegations, approvals, escalations, final database state).
 * Each scenario runs on its own fresh copy of the seeded business database and its own store.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LanguageModelV4 } from '@ai-sdk/provider';
import { getEncoding } from 'js-tiktoken';
import { z } from 'zod';
import type { AgentDefinition, JournalEvent, System } from '../../src/index.ts';
import { createEnterpriseSystem, enterprisePaths } from './agents.ts';
import { openBusinessDb, schemaSql, type BusinessDb } from './db.ts';

const SCENARIO_DIR = join(import.meta.dirname, 'scenarios');

const turnExpect = z
  .object({
    /** The run's final state for this turn. */
    status: z.enum(['completed', 'failed', 'escalated', 'awaiting-approval']).optional(),
    /**
     * The agent the router chose for the root run; `null`: the router escalated (no agent). Required
     * on every turn that does not address an agent itself.
     */
    agent: z.string().nullable().optional(),
    /** Tools called in this turn, delegated runs included (a subset check). */
    tools: z.array(z.string()).optional(),
    /** Tools that must not be called in this turn. */
    notTools: z.array(z.string()).optional(),
    /** Agents delegated to in this turn. */
    delegations: z.array(z.string()).optional(),
    /** Approvals raised in this turn. */
    approvals: z.number().int().optional(),
    /** At least one tool call needed a retry. */
    retried: z.boolean().optional(),
    /** Substrings the answer must contain (case-insensitive). */
    outputIncludes: z.array(z.string()).optional(),
    /** The answer is a question back to the user. */
    asks: z.boolean().optional(),
  })
  .strict();

const dbCheck = z
  .object({
    sql: z.string(),
    /** The exact rows expected (column → value). */
    rows: z.array(z.record(z.string(), z.unknown())).optional(),
    /** Or just how many rows. */
    count: z.number().int().optional(),
  })
  .strict();

export const scenarioSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    turns: z
      .array(
        z
          .object({
            input: z.string(),
            /** Address an agent directly instead of routing. */
            agent: z.string().optional(),
            /** How to decide approvals this turn raises, when the system supports deciding them. */
            approval: z.enum(['approve', 'reject']).optional(),
            expect: turnExpect,
          })
          .strict(),
      )
      .min(1),
    db: z.array(dbCheck).default([]),
    /**
     * Why the scenario has no `db` check: it writes nothing to the business database. The runner
     * then checks that every table is exactly as seeded.
     */
    readOnly: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    for (const [i, t] of s.turns.entries()) {
      if (t.agent === undefined && t.expect.agent === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['turns', i, 'expect', 'agent'],
          message: `turn ${i + 1} is routed: say which agent it must reach (or null for an escalation)`,
        });
    }
    if (s.db.length === 0 && s.readOnly === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['db'],
        message: 'give a database check, or say in `readOnly` why the scenario writes nothing',
      });
    if (s.db.length > 0 && s.readOnly !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['readOnly'],
        message: 'a scenario with db checks is not read-only',
      });
  });
export type Scenario = z.infer<typeof scenarioSchema>;

/** Load every scenario file, in name order. */
export function loadScenarios(dir: string = SCENARIO_DIR): Scenario[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const parsed = scenarioSchema.safeParse(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      if (!parsed.success) throw new Error(`${f}: ${parsed.error.message}`);
      return parsed.data;
    });
}

/** Every turn's input of every scenario: held out of the router threshold's calibration. */
export function scenarioInputs(dir: string = SCENARIO_DIR): Set<string> {
  return new Set(loadScenarios(dir).flatMap((s) => s.turns.map((t) => t.input)));
}

/** What one turn did, read from the journal of its run and its child runs. */
export interface TurnObservation {
  runId: string;
  status: string;
  agent: string | null;
  output: string;
  tools: string[];
  delegations: string[];
  approvals: number;
  retried: boolean;
  /** Names of the tools shown at each model call. */
  shownPerModelCall: string[][];
}

/** One expectation a scenario missed: what was expected and what happened instead. */
export interface ScenarioFailure {
  scenario: string;
  /** 1-based turn; `null` for the end-of-scenario database checks. */
  turn: number | null;
  expected: string;
  got: string;
}

export interface ScenarioResult {
  name: string;
  passed: boolean;
  /** One line per missed expectation (the table's text). */
  failures: string[];
  /** The same, structured (the JSON's `failures`). */
  missed: ScenarioFailure[];
  turns: TurnObservation[];
  agents: string[];
  tools: string[];
}

export interface SuiteResult {
  scenarios: number;
  passed: number;
  toolDefinitionTokens: { routed: number; allTools: number };
  results: ScenarioResult[];
  /** Tools and agents no scenario exercised. */
  uncovered: { tools: string[]; agents: string[] };
}

const TERMINAL = new Set([
  'run.completed',
  'run.failed',
  'run.cancelled',
  'route.escalated',
  'run.escalated',
]);

const SCENARIO_APPROVER = { id: 'scenario-approver', roles: ['approver'] };

async function collect(system: System, runId: string, timeoutMs: number, approval?: 'approve' | 'reject') {
  const events: JournalEvent[] = [];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    for await (const e of system.events(runId, { after: 0, follow: true, signal: controller.signal })) {
      events.push(e);
      if (TERMINAL.has(e.type)) break;
      if (e.type === 'approval.requested') {
        const { approvalId } = e.data as { approvalId: string };
        if (!approval) break;
        await system.approvals.decide(approvalId, {
          decision: approval === 'approve' ? 'approved' : 'rejected',
          approver: SCENARIO_APPROVER,
        });
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
  }
  return events;
}

async function observe(
  system: System,
  runId: string,
  timeoutMs: number,
  approval?: 'approve' | 'reject',
): Promise<TurnObservation> {
  const obs: TurnObservation = {
    runId,
    status: 'running',
    agent: null,
    output: '',
    tools: [],
    delegations: [],
    approvals: 0,
    retried: false,
    shownPerModelCall: [],
  };
  const visit = async (id: string, root: boolean) => {
    const events = await collect(system, id, timeoutMs, approval);
    const children: string[] = [];
    let pendingApproval = false;
    for (const e of events) {
      const d = e.data as Record<string, unknown>;
      switch (e.type) {
        case 'route.decided':
          if (root) obs.agent = String(d.agent);
          break;
        case 'model.requested':
          obs.shownPerModelCall.push((d.tools as string[]) ?? []);
          break;
        case 'tool.started':
          if (Number(d.attempt) === 1) obs.tools.push(String(d.tool));
          else obs.retried = true;
          break;
        case 'approval.requested':
          obs.approvals++;
          pendingApproval = true;
          break;
        case 'approval.decided':
          pendingApproval = false;
          break;
        case 'delegation.requested':
          obs.delegations.push(String(d.agent));
          children.push(String(d.childRunId));
          break;
        case 'run.completed':
          if (root) obs.output = String(d.output);
          break;
      }
      if (root && TERMINAL.has(e.type)) {
        obs.status = e.type === 'route.escalated' ? 'escalated' : e.type.slice(4);
      }
    }
    if (pendingApproval && root) obs.status = 'awaiting-approval';
    for (const child of children) await visit(child, false);
    if (pendingApproval && !root && obs.status === 'running') obs.status = 'awaiting-approval';
  };
  await visit(runId, true);
  return obs;
}

type Miss = Omit<ScenarioFailure, 'scenario'> & { line: string };

function checkTurn(
  expect: z.infer<typeof turnExpect>,
  obs: TurnObservation,
  turn: number,
  timeoutMs: number,
): Miss[] {
  const f: Miss[] = [];
  const at = `turn ${turn + 1}`;
  const miss = (expected: string, got: string, line: string): void =>
    void f.push({ turn: turn + 1, expected, got, line: `${at}: ${line}` });
  if (expect.status && expect.status !== obs.status) {
    const got = obs.status === 'running' ? `running (no end within ${timeoutMs} ms)` : obs.status;
    miss(`status ${expect.status}`, `status ${got}`, `status ${got}, expected ${expect.status}`);
  }
  if (expect.agent !== undefined && expect.agent !== obs.agent) {
    const got = obs.agent ?? 'nobody (escalated)';
    const want = expect.agent ?? 'an escalation';
    miss(`routed to ${want}`, `routed to ${got}`, `routed to ${got}, expected ${want}`);
  }
  const called = obs.tools.join(', ') || 'none';
  for (const t of expect.tools ?? [])
    if (!obs.tools.includes(t))
      miss(`${t} called`, `called: ${called}`, `${t} not called (called: ${called})`);
  for (const t of expect.notTools ?? [])
    if (obs.tools.includes(t)) miss(`${t} not called`, `${t} called`, `${t} called but should not be`);
  for (const a of expect.delegations ?? [])
    if (!obs.delegations.includes(a))
      miss(
        `delegation to ${a}`,
        `delegations: ${obs.delegations.join(', ') || 'none'}`,
        `no delegation to ${a}`,
      );
  if (expect.approvals !== undefined && expect.approvals !== obs.approvals) {
    const line = `${obs.approvals} approvals raised, expected ${expect.approvals}`;
    miss(`${expect.approvals} approvals`, `${obs.approvals} approvals`, line);
  }
  if (expect.retried !== undefined && expect.retried !== obs.retried)
    miss(`retried=${expect.retried}`, `retried=${obs.retried}`, `retried=${obs.retried}`);
  const answer = obs.output.slice(0, 200);
  for (const s of expect.outputIncludes ?? []) {
    if (!obs.output.toLowerCase().includes(s.toLowerCase()))
      miss(`answer includes "${s}"`, `answer: ${answer}`, `answer lacks "${s}": ${answer}`);
  }
  if (expect.asks !== undefined && expect.asks !== obs.output.trim().endsWith('?')) {
    miss(
      expect.asks ? 'a question back' : 'no question back',
      `answer: ${answer}`,
      `asks=${!expect.asks}: ${answer}`,
    );
  }
  return f;
}

/** Every business table's rows, sorted: what a read-only scenario must leave as seeded. */
async function dumpTables(biz: BusinessDb): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const [, table] of schemaSql('sqlite').matchAll(/CREATE TABLE (\w+)/g)) {
    if (!table) continue;
    const rows = await biz.all(`SELECT * FROM ${table}`);
    out.set(table, rows.map((r) => JSON.stringify(r)).sort());
  }
  return out;
}

/** Tables whose rows differ from the seeded ones. */
async function changedTables(biz: BusinessDb, seeded: Map<string, string[]>): Promise<string[]> {
  const now = await dumpTables(biz);
  return [...seeded.keys()].filter((t) => JSON.stringify(now.get(t)) !== JSON.stringify(seeded.get(t)));
}

async function checkDb(biz: BusinessDb, checks: Scenario['db']): Promise<Miss[]> {
  const f: Miss[] = [];
  for (const c of checks) {
    const rows = await biz.all(c.sql);
    if (c.count !== undefined && rows.length !== c.count)
      f.push({
        turn: null,
        expected: `${c.sql} → ${c.count} rows`,
        got: `${rows.length} rows`,
        line: `db: ${c.sql} → ${rows.length} rows, expected ${c.count}`,
      });
    if (c.rows && JSON.stringify(rows) !== JSON.stringify(c.rows)) {
      f.push({
        turn: null,
        expected: `${c.sql} → ${JSON.stringify(c.rows)}`,
        got: JSON.stringify(rows),
        line: `db: ${c.sql} → ${JSON.stringify(rows)}, expected ${JSON.stringify(c.rows)}`,
      });
    }
  }
  return f;
}

/** Token counts of tool definitions as a model receives them (name, description, JSON schema). */
function toolTokenCounter(agents: AgentDefinition[]) {
  const enc = getEncoding('o200k_base');
  const delegation = z.object({
    task: z.string().min(1).describe('What the other agent should do, in plain words'),
    context: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Facts the other agent needs (ids, amounts)'),
  });
  const tokens = new Map<string, number>();
  const count = (name: string, description: string, schema: z.ZodType) => {
    const spec = {
      type: 'function',
      name,
      description,
      inputSchema: z.toJSONSchema(schema, { io: 'input' }),
    };
    tokens.set(name, enc.encode(JSON.stringify(spec)).length);
  };
  for (const a of agents) {
    for (const t of a.tools) count(t.name, t.description, t.input);
    for (const target of a.delegates) {
      const to = agents.find((x) => x.name === target);
      count(
        `delegate_to_${target}`,
        `Hand a task to the ${target} agent (${to?.responsibility ?? ''}) and get its answer back.`,
        delegation,
      );
    }
  }
  const allTools = agents
    .flatMap((a) => a.tools.map((t) => tokens.get(t.name) ?? 0))
    .reduce((s, n) => s + n, 0);
  return { of: (names: string[]) => names.reduce((s, n) => s + (tokens.get(n) ?? 0), 0), allTools };
}

export interface RunSuiteOptions {
  /** The model under test; the offline model when absent. */
  model?: LanguageModelV4;
  /** Only scenarios whose name includes this. */
  filter?: string;
  /** Where the scenario files are (default: examples/enterprise/scenarios). */
  dir?: string;
  /** Per-turn time limit, in ms (10 000: the offline model; a real model needs more). */
  turnTimeoutMs?: number;
  onResult?: (result: ScenarioResult) => void;
}

/** Run the suite and report pass counts and the routed vs all-tools definition tokens. */
export async function runScenarios(options: RunSuiteOptions = {}): Promise<SuiteResult> {
  const scenarios = loadScenarios(options.dir).filter(
    (s) => !options.filter || s.name.includes(options.filter),
  );
  const root = mkdtempSync(join(tmpdir(), 'switchboard-scenarios-'));
  // Seed once; every scenario starts from a copy of the same file.
  const template = join(root, 'template.db');
  const seedDb = openBusinessDb(template);
  const seeded = await dumpTables(seedDb);
  await seedDb.close();
  const results: ScenarioResult[] = [];
  let routed = 0;
  let allTools = 0;
  const usedTools = new Set<string>();
  const usedAgents = new Set<string>();
  let agentDefs: AgentDefinition[] = [];
  try {
    for (const [i, scenario] of scenarios.entries()) {
      const dataDir = join(root, `s${i}`);
      mkdirSync(dataDir, { recursive: true });
      copyFileSync(template, enterprisePaths(dataDir).businessDb);
      const ent = createEnterpriseSystem({ dataDir, ...(options.model ? { model: options.model } : {}) });
      agentDefs = ent.agents;
      const counter = toolTokenCounter(ent.agents);
      await ent.system.start();
      const failures: Miss[] = [];
      const turns: TurnObservation[] = [];
      const turnTimeoutMs = options.turnTimeoutMs ?? 10_000;
      try {
        for (const [t, turn] of scenario.turns.entries()) {
          const { runId } = await ent.system.submit({
            actorId: 'scenario-user',
            sessionId: `scenario-${scenario.name}`,
            input: turn.input,
            ...(turn.agent ? { agent: turn.agent } : {}),
          });
          const obs = await observe(ent.system, runId, turnTimeoutMs, turn.approval);
          turns.push(obs);
          failures.push(...checkTurn(turn.expect, obs, t, turnTimeoutMs));
          for (const shown of obs.shownPerModelCall) {
            routed += counter.of(shown);
            allTools += counter.allTools;
          }
        }
        failures.push(...(await checkDb(ent.business, scenario.db)));
        if (scenario.readOnly !== undefined)
          for (const t of await changedTables(ent.business, seeded))
            failures.push({
              turn: null,
              expected: `table ${t} as seeded`,
              got: `table ${t} changed`,
              line: `db: table ${t} changed, but the scenario is read-only (${scenario.readOnly})`,
            });
      } finally {
        await ent.system.stop();
        await ent.business.close();
      }
      const tools = [...new Set(turns.flatMap((t) => t.tools))];
      const agents = [...new Set(turns.flatMap((t) => [t.agent ?? '', ...t.delegations]).filter(Boolean))];
      tools.forEach((x) => usedTools.add(x));
      agents.forEach((x) => usedAgents.add(x));
      const result = {
        name: scenario.name,
        passed: failures.length === 0,
        failures: failures.map((f) => f.line),
        missed: failures.map(({ line: _line, ...f }) => ({ scenario: scenario.name, ...f })),
        turns,
        agents,
        tools,
      };
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const allToolNames = agentDefs.flatMap((a) => a.tools.map((t) => t.name));
  return {
    scenarios: results.length,
    passed: results.filter((r) => r.passed).length,
    toolDefinitionTokens: { routed, allTools },
    results,
    uncovered: {
      tools: allToolNames.filter((n) => !usedTools.has(n)),
      agents: agentDefs.map((a) => a.name).filter((n) => !usedAgents.has(n)),
    },
  };
}
