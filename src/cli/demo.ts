/**
 * `switchboard demo` (what `npm start` runs): seed the reference system if needed, start its
 * workers, and play a tour of realistic requests, printing each run's progress and outcome.
 */
import { newId } from '../system.ts';
import { openApp } from './app.ts';
import { describeEvent } from './trace.ts';

export interface TourStep {
  title: string;
  input: string;
  /** Statuses that count as this step behaving as designed. */
  expect: string[];
  agent?: string;
  /** Same session as the previous step (multi-turn). */
  sameSession?: boolean;
}

/** The tour: each request shows one capability on the seeded business data. */
export const TOUR: TourStep[] = [
  { title: 'Knowledge base answer', input: 'What is your return policy?', expect: ['completed'] },
  {
    title: 'Shipping question, routed to operations',
    input: 'Where is my order ORD-10042?',
    expect: ['completed'],
  },
  {
    title: 'Refund through commerce',
    input: 'Refund order ORD-10143, the item arrived damaged',
    expect: ['completed', 'waiting'],
  },
  { title: 'Customer lookup', input: 'Look up the account of CUS-0042', expect: ['completed'] },
  {
    title: 'Out-of-scope request is escalated, not guessed',
    input: 'Compose a sonnet about the moon landing',
    expect: ['escalated'],
  },
];

export async function runDemo(options: { reset: boolean; exit: boolean }): Promise<number> {
  const app = openApp({ reset: options.reset });
  const { system } = app;
  await system.start();
  console.log(
    `Switchboard demo: the enterprise support desk (${app.agents.length} agents, offline model — no LLM)`,
  );
  console.log(`data: ${app.paths.businessDb}\n`);
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
      for await (const e of system.events(runId)) {
        if (
          e.type === 'progress' ||
          e.type === 'route.decided' ||
          e.type === 'route.escalated' ||
          e.type === 'delegation.requested' ||
          e.type === 'tool.failed'
        ) {
          console.log(`    ${describeEvent(e).split('\n')[0]}`);
        }
        if (e.type === 'run.needs_attention' || e.type === 'approval.requested') break;
      }
      const run = await system.get(runId);
      const ok = step.expect.includes(run.status);
      rows.push({ step: step.title, status: run.status, agent: run.agent ?? '-', ok, runId });
      console.log(
        `  ${ok ? '✔' : '✘'} ${run.status}: ${run.output ?? run.escalation?.reason ?? run.error?.message ?? ''}\n`,
      );
    }
  } finally {
    await system.stop();
    app.business.close();
  }
  console.log('step'.padEnd(52) + 'agent'.padEnd(13) + 'status'.padEnd(12) + 'run');
  for (const r of rows)
    console.log(
      `${r.ok ? '✔' : '✘'} ${r.step.padEnd(50)}${r.agent.padEnd(13)}${r.status.padEnd(12)}${r.runId}`,
    );
  console.log(`\nTrace any run with: npx switchboard trace <run>`);
  return rows.every((r) => r.ok) ? 0 : 1;
}
