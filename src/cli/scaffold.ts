/**
 * What `switchboard init` writes: a working project with one agent and two tools (a read, and a
 * write with a progress milestone behind an approval rule), a test on the scripted model, a README.
 */

export interface ScaffoldOptions {
  /** The project's package name. */
  name: string;
  /** This package's name and the dependency range to write. */
  packageName: string;
  packageRange: string;
  zodRange: string;
}

/** File path (relative to the project) → contents. */
export function scaffoldFiles(o: ScaffoldOptions): Record<string, string> {
  const pkg = {
    name: o.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=22.18' },
    scripts: {
      start: 'switchboard serve',
      dev: 'switchboard dev',
      test: 'node --test "test/*.test.ts"',
      lint: 'switchboard lint',
    },
    dependencies: { [o.packageName]: o.packageRange, zod: o.zodRange },
  };
  return {
    'package.json': `${JSON.stringify(pkg, null, 2)}\n`,
    '.gitignore': 'node_modules/\n.switchboard/\n',
    'switchboard.config.ts': CONFIG.replaceAll('%PKG%', o.packageName),
    'tickets.ts': TICKETS,
    'test/agent.test.ts': TEST.replaceAll('%PKG%', o.packageName),
    'README.md': README.replaceAll('%PKG%', o.packageName).replaceAll('%NAME%', o.name),
  };
}

const CONFIG = `/**
 * A Switchboard project: one agent with two tools. \`npx switchboard run "<request>"\` runs it,
 * \`npx switchboard dev\` serves it with the console and reloads on save.
 */
import { z } from 'zod';
import { defineAgent, defineConfig, defineTool } from '%PKG%';
import { closeTicket, findTicket } from './tickets.ts';

const getTicket = defineTool({
  name: 'get_ticket',
  description: 'Look up a support ticket by its id (T-1234): subject, status and assignee',
  input: z.object({ ticketId: z.string().regex(/^T-\\d{4}$/).describe('The ticket id, e.g. T-1001') }),
  risk: 'read',
  idempotent: true,
  progress: 'Looking the ticket up',
  examples: ['What is the status of ticket T-1001?', 'Who is working on T-1002?'],
  run: async ({ ticketId }) => findTicket(ticketId),
});

const closeTicketTool = defineTool({
  name: 'close_ticket',
  description: 'Close a support ticket (T-1234) with a resolution note',
  input: z.object({
    ticketId: z.string().regex(/^T-\\d{4}$/).describe('The ticket id, e.g. T-1001'),
    resolution: z.string().min(1).default('resolved').describe('Why the ticket is closed'),
  }),
  risk: 'write',
  // Same idempotency key, same effect: a retry after a crash closes the ticket once.
  idempotent: true,
  progress: ({ ticketId }) => \`Closing ticket \${ticketId}\`,
  examples: ['Close ticket T-1001, the customer confirmed the fix'],
  run: async ({ ticketId, resolution }, ctx) => closeTicket(ticketId, resolution, ctx.idempotencyKey),
});

const helpdesk = defineAgent({
  name: 'helpdesk',
  responsibility: 'Support tickets: look them up and close them',
  instructions: 'Look the ticket up before acting on it. Answer in one sentence.',
  tools: [getTicket, closeTicketTool],
  examples: ['What is the status of ticket T-1001?', 'Close ticket T-1002'],
});

export default defineConfig({
  agents: [helpdesk],
  // Closing a ticket waits for a person with the approver role (console, or \`switchboard approve\`).
  policies: [
    {
      id: 'close-needs-approval',
      effect: 'require-approval',
      reason: 'Closing a ticket is visible to the customer',
      match: { tool: 'close_ticket' },
    },
  ],
  // 'offline' runs without an LLM; set e.g. SWITCHBOARD_MODEL=openai:gpt-4o-mini (and OPENAI_API_KEY).
  model: 'offline',
  store: { dataDir: '.switchboard' },
});
`;

const TICKETS = `/** The project's own data: a tiny in-process ticket table standing in for your real system. */
export interface Ticket {
  ticketId: string;
  subject: string;
  status: 'open' | 'closed';
  assignee: string;
  resolution?: string;
}

const tickets = new Map<string, Ticket>([
  ['T-1001', { ticketId: 'T-1001', subject: 'Printer on floor 2 is jammed', status: 'open', assignee: 'sam' }],
  ['T-1002', { ticketId: 'T-1002', subject: 'VPN drops every hour', status: 'open', assignee: 'alex' }],
]);
const closedBy = new Map<string, string>();

export function findTicket(ticketId: string): Ticket & { summary: string } {
  const t = tickets.get(ticketId);
  if (!t) throw new Error(\`no ticket \${ticketId}\`);
  return { ...t, summary: \`Ticket \${t.ticketId} (\${t.subject}) is \${t.status}, assigned to \${t.assignee}.\` };
}

/** Closing twice with the same idempotency key closes once. */
export function closeTicket(ticketId: string, resolution: string, idempotencyKey: string): Ticket & { summary: string } {
  const t = tickets.get(ticketId);
  if (!t) throw new Error(\`no ticket \${ticketId}\`);
  if (closedBy.get(ticketId) !== idempotencyKey) {
    closedBy.set(ticketId, idempotencyKey);
    Object.assign(t, { status: 'closed', resolution });
  }
  return { ...t, summary: \`Ticket \${t.ticketId} is closed: \${resolution}.\` };
}
`;

const TEST = `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSystem } from '%PKG%';
import { createMemoryStore, scriptedModel } from '%PKG%/testing';
import config from '../switchboard.config.ts';

test('the helpdesk agent looks a ticket up and answers', async () => {
  const model = scriptedModel([
    { toolCalls: [{ toolName: 'get_ticket', input: { ticketId: 'T-1001' } }] },
    { text: 'Ticket T-1001 is open, assigned to sam.' },
  ]);
  const agents = Array.isArray(config.agents) ? config.agents : [];
  const system = createSystem({ agents, model, store: createMemoryStore(), policies: config.policies ?? [] });
  await system.start();
  try {
    const { runId } = await system.submit({ actorId: 'me', sessionId: 's1', input: 'Status of T-1001?' });
    const run = await system.wait(runId);
    assert.equal(run.status, 'completed');
    assert.equal(run.output, 'Ticket T-1001 is open, assigned to sam.');
    assert.equal(model.calls.length, 2);
  } finally {
    await system.stop();
  }
});

test('closing a ticket waits for an approver', async () => {
  const model = scriptedModel([{ toolCalls: [{ toolName: 'close_ticket', input: { ticketId: 'T-1002' } }] }]);
  const agents = Array.isArray(config.agents) ? config.agents : [];
  const system = createSystem({ agents, model, store: createMemoryStore(), policies: config.policies ?? [] });
  await system.start();
  try {
    const { runId } = await system.submit({ actorId: 'me', sessionId: 's2', input: 'Close T-1002' });
    for await (const e of system.events(runId)) if (e.type === 'approval.requested') break;
    assert.equal((await system.get(runId)).status, 'waiting');
    assert.equal((await system.approvals.list({ status: 'pending' })).length, 1);
  } finally {
    await system.stop();
  }
});
`;

const README = `# %NAME%

A [Switchboard](https://www.npmjs.com/package/%PKG%) project: one agent (\`helpdesk\`) with a read
tool and a write tool that waits for an approver.

\`\`\`sh
npm install
npx switchboard run "What is the status of ticket T-1001?"   # on the offline model, no LLM
npx switchboard dev                                         # gateway + console on http://127.0.0.1:7070, reloads on save
npm test                                                    # the agent on the scripted model
\`\`\`

Next steps:
- Add tools and agents in \`switchboard.config.ts\` (keep each agent to 3–5 tools; \`npx switchboard lint\`).
- Use a real model: \`model: 'openai:gpt-4o-mini'\` (or \`SWITCHBOARD_MODEL=…\`) with \`OPENAI_API_KEY\` set.
- Create an API key for the console: \`npx switchboard keys create --name you --role admin\`.
- Every configuration key and environment variable: the package's \`docs/config.md\`.
`;
