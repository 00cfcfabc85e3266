/**
 * How the reference system's router threshold is chosen — from the agents' own routing examples and
 * a fixed set of off-topic requests, never from the scenario suite that scores it (the scenarios
 * stay held out; test/integration/hardening-scenarios.test.ts checks that no scenario input is a
 * calibration request and that the pinned threshold is what this calibration gives).
 *
 *   node examples/enterprise/routing-calibration.ts     prints the calibration as JSON
 *
 * In scope: every agent example, scored leave-one-out (the router is fitted without it, so the
 * score is what an unseen request like it would get); those routed to their own agent are the
 * positives. Out of scope: {@link OFF_TOPIC}, the negatives. The threshold maximizes Youden's J —
 * the share of positives kept plus the share of negatives escalated — so that neither class wins
 * by being the larger one; it is the midpoint of the widest interval of best J, to two decimals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentDefinition } from '../../src/core/agent.ts';
import { agentTarget, createRouter } from '../../src/routing/index.ts';
import { createEnterpriseAgents } from './agents.ts';
import { openBusinessDb } from './db.ts';
import { scenarioInputs } from './scenario-suite.ts';

/** Requests no agent of the support desk covers: chit-chat, general knowledge, other businesses. */
export const OFF_TOPIC: readonly string[] = [
  'Hello there',
  'Thanks, that is all',
  'Tell me a joke',
  'Write me a poem about the sea',
  'What is the capital of Australia?',
  'Who won the football match last night?',
  'What is the weather forecast for Berlin tomorrow?',
  'How do I bake sourdough bread?',
  'Recommend a good movie for tonight',
  'What time is it in Tokyo?',
  'Explain quantum entanglement simply',
  'Book me a flight to Lisbon',
  'What is 17 times 23?',
  'Can you help me with my maths homework?',
  'Which stocks should I buy this year?',
  'Play some relaxing music',
];

export interface Calibration {
  threshold: number;
  /** Leave-one-out confidence of each agent example, and whether its agent came first. */
  inScope: { text: string; agent: string; confidence: number; correct: boolean }[];
  offTopic: { text: string; confidence: number }[];
  /** Agent examples left out because a scenario uses them. */
  heldOut: string[];
  /** At the threshold: in-scope examples routed correctly, off-topic requests escalated. */
  kept: number;
  escalated: number;
}

/**
 * Calibrate the router threshold on `agents`' examples and {@link OFF_TOPIC}. Examples that are
 * also in `holdOut` (the scenario inputs) are not scored: what the threshold is then scored on
 * never chose it.
 */
export function calibrateRouterThreshold(
  agents: readonly AgentDefinition[],
  holdOut: ReadonlySet<string> = new Set(),
): Calibration {
  const targets = agents.map(agentTarget);
  const inScope: Calibration['inScope'] = [];
  for (const [i, target] of targets.entries()) {
    const examples = target.examples ?? [];
    for (const [j, text] of examples.entries()) {
      if (holdOut.has(text)) continue;
      const without = targets.map((t, k) =>
        k === i ? { ...t, examples: examples.filter((_, m) => m !== j) } : t,
      );
      const d = createRouter(without, { threshold: 0 }).route(text);
      inScope.push({ text, agent: target.name, confidence: d.confidence, correct: d.choice === target.name });
    }
  }
  const router = createRouter(targets, { threshold: 0 });
  const offTopic = OFF_TOPIC.map((text) => ({ text, confidence: router.route(text).confidence }));
  // Candidate cut points: every observed confidence. A cut t keeps scores >= t.
  const points = [
    ...new Set([0, 1, ...inScope.map((x) => x.confidence), ...offTopic.map((x) => x.confidence)]),
  ];
  points.sort((a, b) => a - b);
  const positives = inScope.filter((x) => x.correct);
  const score = (t: number): number =>
    positives.filter((x) => x.confidence >= t).length / Math.max(positives.length, 1) +
    offTopic.filter((x) => x.confidence < t).length / Math.max(offTopic.length, 1);
  // The best score is constant between two consecutive points: take the widest such interval.
  let best = { score: -Infinity, width: -1, low: 0, high: 0 };
  for (let k = 0; k + 1 < points.length; k++) {
    const low = points[k] ?? 0;
    const high = points[k + 1] ?? 1;
    const s = score(high);
    if (s > best.score + 1e-12 || (Math.abs(s - best.score) <= 1e-12 && high - low > best.width))
      best = { score: s, width: high - low, low, high };
  }
  const threshold = Math.round(((best.low + best.high) / 2) * 100) / 100;
  return {
    threshold,
    heldOut: targets.flatMap((t) => (t.examples ?? []).filter((e) => holdOut.has(e))),
    inScope,
    offTopic,
    kept: inScope.filter((x) => x.correct && x.confidence >= threshold).length,
    escalated: offTopic.filter((x) => x.confidence < threshold).length,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = mkdtempSync(join(tmpdir(), 'sb-calibrate-'));
  const biz = openBusinessDb(join(dir, 'business.db'));
  try {
    const agents = createEnterpriseAgents(biz, { exportDir: join(dir, 'exports') });
    console.log(JSON.stringify(calibrateRouterThreshold(agents, scenarioInputs()), null, 2));
  } finally {
    await biz.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
