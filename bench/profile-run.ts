/** Profile helper: sequential runs on SQLite (NORMAL) for `node --cpu-prof`. Not part of the suite. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { defineAgent } from '../src/core/agent.ts';
import { defineTool } from '../src/core/tool.ts';
import { policyModel, toolResults } from '../src/models/scripted.ts';
import { createSqliteStore } from '../src/store/sqlite/store.ts';
import { createSystem } from '../src/system.ts';

const lookup = defineTool({
  name: 'lookup',
  description: 'Look up',
  input: z.object({ id: z.number() }),
  risk: 'read',
  idempotent: true,
  run: ({ id }) => ({ id }),
});
const agent = defineAgent({
  name: 'orders',
  responsibility: 'Orders',
  instructions: 'Answer.',
  tools: [lookup],
});
const model = policyModel(({ prompt }) =>
  toolResults(prompt).length ? { text: 'ok' } : { toolCalls: [{ toolName: 'lookup', input: { id: 7 } }] },
);
const dir = mkdtempSync(join(tmpdir(), 'sb-prof-'));
const store = createSqliteStore({ path: join(dir, 'db'), synchronous: 'NORMAL' });
const system = createSystem({ agents: [agent], model, store, onWarning: () => {} });
await system.start();
const t0 = performance.now();
const n = Number(process.argv[2] ?? 2000);
for (let i = 0; i < n; i++)
  await system.wait((await system.submit({ actorId: 'b', sessionId: `s${i}`, input: 'x' })).runId);
console.log(`${((performance.now() - t0) / n).toFixed(3)} ms/run`);
await system.stop();
await store.close();
rmSync(dir, { recursive: true, force: true });
