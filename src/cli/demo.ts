/**
 * `switchboard demo` (what `npm start` runs): seed the reference system if needed, start its
 * workers, the gateway and console on 127.0.0.1:7070, print an admin and an approver key, then play
 * a tour of realistic requests so the console has real runs to show. `--exit` ends after the tour
 * with a summary table (exit 0 when every step behaved as designed).
 */
import { startDemoGateway } from '../gateway/cli.ts';
import { newId } from '../system.ts';
import { OFFLINE_MODEL_LABEL } from '../models/offline.ts';
import { openApp } from './app.ts';
import { adminRoutes, telemetryFor } from './serve.ts';
import { describeEvent } from './trace.ts';

export interface TourStep {
  title: string;
  input: string;
  /** Statuses that count as this step behaving as designed. */
  expect: string[];
  agent?: string;
  /** Same session as the previous step (multi-turn). */
  sameSession?: boolean;
  /** Journal event types the step must show (e.g. a retry, a delegation). */
  shows?: string[];
}

/** The tour: each request shows one capability on the seeded business data. */
export const TOUR: TourStep[] = [
  { title: 'Knowledge base answer', input: 'What is your return policy?', expect: ['completed'] },
  {
    title: 'Shipping question answered through delegation',
    input: 'Where is my parcel for order ORD-10497?',
    agent: 'support',
    expect: ['completed'],
    shows: ['delegation.requested'],
  },
  {
    title: 'Transient carrier failure, retried',
    input: 'Where is my order ORD-10421?',
    expect: ['completed'],
    shows: ['tool.failed'],
  },
  {
    title: 'Refund over the limit waits for an approver',
    input: 'Refund order ORD-10003',
    expect: ['waiting'],
    shows: ['approval.requested'],
  },
  {
    title: 'Out-of-scope request is escalated, not guessed',
    input: 'What will the weather be like on Mars next week?',
    expect: ['escalated'],
  },
  {
    title: 'Multi-turn, 1: find a customer',
    input: 'Look up the customer tomas.sato@example.com',
    expect: ['completed'],
  },
  {
    title: 'Multi-turn, 2: "his orders" resolved from memory',
    input: 'Show his recent orders',
    sameSession: true,
    expect: ['completed'],
    shows: ['memory.loaded'],
  },
];

export async function runDemo(options: { reset: boolean; exit: boolean; port?: number }): Promise<number> {
  const app = openApp({ reset: options.reset });
  const { system } = app;
  await system.start();
  const telemetry = await telemetryFor(system);
  const gateway = await startDemoGateway(
    system,
    console.log,
    {
      ...(options.port !== undefined ? { port: options.port } : {}),
    },
    { adminRoutes: adminRoutes(telemetry) },
  );
  console.log(
    `\nSwitchboard demo: the enterprise support desk (${app.agents.length} agents, ${OFFLINE_MODEL_LABEL})`,
  );
  console.log(`business data: ${app.paths.businessDb}\n`);
  const rows: { step: string; status: string; agent: string; ok: boolean; runId: string }[] = [];
  let session = newId('tour');
  try {
    for (const step of TOUR) {
      if (!step.sameSession) session = newId('tour');
      console.log(`▶ ${step.title}\n  "${step.input}"`);
      const { runId } = await system.submit({
        actorId: 'demo-user',
        sessionId: session,
        input: step.input,
        channel: 'demo',
        ...(step.agent ? { agent: step.agent } : {}),
      });
      const seen = new Set<string>();
      for await (const e of system.events(runId)) {
        seen.add(e.type);
        if (
          [
            'progress',
            'route.decided',
            'route.escalated',
            'delegation.requested',
            'tool.failed',
            'approval.requested',
          ].includes(e.type)
        ) {
          console.log(`    ${describeEvent(e).split('\n')[0]}`);
        }
        if (e.type === 'run.needs_attention' || e.type === 'approval.requested') break;
      }
      const run = await system.get(runId);
      const ok = step.expect.includes(run.status) && (step.shows ?? []).every((t) => seen.has(t));
      rows.push({ step: step.title, status: run.status, agent: run.agent ?? '-', ok, runId });
      const said =
        run.output ??
        run.escalation?.reason ??
        run.error?.message ??
        (run.status === 'waiting' ? 'waiting for an approver' : '');
      console.log(`  ${ok ? '✔' : '✘'} ${run.status}: ${said}\n`);
    }
    console.log(`${'step'.padEnd(52)}${'agent'.padEnd(13)}${'status'.padEnd(12)}run`);
    for (const r of rows)
      console.log(
        `${r.ok ? '✔' : '✘'} ${r.step.padEnd(50)}${r.agent.padEnd(13)}${r.status.padEnd(12)}${r.runId}`,
      );
    console.log('\nTrace any run with: npx switchboard trace <run>');
    if (!options.exit) {
      console.log(
        'Approve the waiting refund in the console (approver key) or with: npx switchboard approvals --pending',
      );
      console.log('Serving until Ctrl-C.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
  } finally {
    await gateway.stop();
    await telemetry.stop();
    await system.stop();
    app.business.close();
  }
  return rows.every((r) => r.ok) ? 0 : 1;
}
