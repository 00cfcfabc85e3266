/** Issue 17 hardening, small defects of the telemetry, routing explanations and CLI formatting. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JournalEvent } from '../../src/core/events.ts';
import { describeEvent } from '../../src/cli/trace.ts';
import { createRouter } from '../../src/routing/index.ts';
import { formatPair } from '../../src/routing/format.ts';

/** A tiny deterministic PRNG, so a failing case can be reproduced from its seed. */
const prng = (seed: number) => (): number => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
};

/** Every "a < b", "a ≥ b", "a is below the threshold b" printed in `text` holds for the printed numbers. */
function assertComparisonsTrue(text: string): number {
  const re = /(\d+\.\d+)\)?\s*(<|≥ threshold|≥|is below the threshold|\(threshold)\s*(\d+\.\d+)/g;
  let seen = 0;
  for (const m of text.matchAll(re)) {
    const a = Number(m[1]);
    const b = Number(m[3]);
    const holds = m[2] === '<' || m[2] === 'is below the threshold' ? a < b : a >= b;
    assert.ok(holds, `printed comparison is false: "${m[0]}" in ${text}`);
    seen++;
  }
  return seen;
}

describe('hardening #23: a printed comparison of confidence and threshold is true as printed', () => {
  const agents = [
    { name: 'billing', description: 'Refunds, invoices, charges and payment problems' },
    { name: 'shipping', description: 'Parcels, deliveries, carriers and tracking numbers' },
    { name: 'accounts', description: 'Passwords, logins, profiles and account settings' },
  ];
  const query = 'my parcel was charged twice';
  const confidence = createRouter(agents, { threshold: 0 }).route(query).confidence;

  it('formatPair orders the printed values as the numbers, for many close pairs', () => {
    const next = prng(17);
    for (let i = 0; i < 2000; i++) {
      const b = Math.round(next() * 100) / 100;
      const a = b + (next() - 0.5) * 10 ** -(1 + Math.floor(next() * 12));
      const [sa, sb] = formatPair(a, b);
      assert.equal(Math.sign(Number(sa) - Number(sb)), Math.sign(a - b), `${a} vs ${b}: ${sa} vs ${sb}`);
      assert.ok(sa.split('.')[1]!.length >= 2);
    }
    assert.deepEqual(formatPair(0.3496, 0.35), ['0.3496', '0.3500']);
    assert.deepEqual(formatPair(0.5, 0.25), ['0.50', '0.25']);
  });

  it("the router's reason and the trace line, just below and just above the threshold", () => {
    assert.ok(confidence > 0.01, `the query scores (${confidence})`);
    for (const delta of [1e-3, 4e-3, 1e-6, -1e-3, -4e-3, -1e-6]) {
      const threshold = confidence + delta;
      const d = createRouter(agents, { threshold }).route(query);
      assert.equal(d.choice === null, delta > 0);
      assert.ok(assertComparisonsTrue(d.reason) >= 1, d.reason);
      const e = (
        d.choice === null
          ? {
              type: 'route.escalated',
              data: { reason: d.reason, confidence: d.confidence, threshold, candidates: d.candidates },
            }
          : {
              type: 'route.decided',
              data: {
                agent: d.choice,
                method: d.method,
                confidence: d.confidence,
                threshold,
                reason: d.reason,
                candidates: d.candidates,
              },
            }
      ) as JournalEvent;
      const line = describeEvent({ ...e, runId: 'r', seq: 2, at: 0, v: 1 });
      assert.ok(assertComparisonsTrue(line.split('\n')[0]!) >= 2, line);
    }
  });
});
