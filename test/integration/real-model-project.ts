/**
 * A project opened the way the CLI opens one, with `SWITCHBOARD_MODEL=openai-compatible:…`
 * pointing at the llama-server fixture (test/fixtures/services/llm-server.ts): the configuration
 * compiles the environment, the provider model is created and wrapped from it, SQLite in a
 * temporary directory. Shared by the real-model-*.test.ts files of issue 22.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { compileConfig } from '../../src/config.ts';
import { defineAgent, type AgentDefinition, type AgentOptions } from '../../src/core/agent.ts';
import type { JournalEvent } from '../../src/core/events.ts';
import { defineTool } from '../../src/core/tool.ts';
import { openProject, type Project } from '../../src/project.ts';

/** A read tool the fixture's scripted model calls. */
export const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Look up an order by id',
  input: z.object({ id: z.string() }),
  risk: 'read',
  idempotent: true,
  run: ({ id }) => ({ id, status: 'shipped', carrier: 'DHL' }),
});

export const ordersAgent = (extra: Partial<AgentOptions> = {}): AgentDefinition =>
  defineAgent({
    name: 'orders',
    responsibility: 'Answer order questions',
    instructions: 'Be brief.',
    tools: [lookupOrder],
    ...extra,
  });

/** Open and start a project on the fixture at `url`; `env` adds variables (e.g. the output cap). */
export async function openOnFixture(
  url: string,
  options: { env?: Record<string, string>; agents?: AgentDefinition[] } = {},
): Promise<{
  project: Project;
  run(input: string): Promise<{ runId: string; events: JournalEvent[] }>;
  close(): Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-real-model-'));
  const env = {
    SWITCHBOARD_MODEL: `openai-compatible:${url}#qwen2-tiny`,
    SWITCHBOARD_DATA_DIR: dir,
    ...options.env,
  };
  const config = compileConfig({ agents: options.agents ?? [ordersAgent()] }, { env });
  const project = await openProject(config, { env, onError: () => {} });
  await project.system.start();
  return {
    project,
    async run(input) {
      const { runId } = await project.system.submit({
        actorId: 'u1',
        sessionId: `s-${Math.random()}`,
        input,
      });
      await project.system.wait(runId);
      return { runId, events: await project.system.store.journal.read(runId) };
    },
    async close() {
      await project.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
