/**
 * What a configuration edit (a `switchboard dev` reload, a deploy) does to runs already in the
 * journal, on every store: a run whose agent was removed fails with the reason journaled (its
 * parent is told, as of any failed child) instead of waiting forever; a call to a removed tool is
 * denied with the reason and the run goes on. Nothing runs twice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineAgent } from '../../src/core/agent.ts';
import { defineTool } from '../../src/core/tool.ts';
import { scriptedModel } from '../../src/models/scripted.ts';
import { createSystem } from '../../src/system.ts';
import { ADAPTERS, makeStore } from '../helpers.ts';

const effects: string[] = [];
const note = defineTool({
  name: 'note',
  description: 'Write a note',
  input: z.object({ text: z.string() }),
  risk: 'write',
  run: ({ text }, ctx) => {
    effects.push(`${ctx.idempotencyKey}:${text}`);
    return { ok: true };
  },
});
const front = defineAgent({
  name: 'front',
  responsibility: 'Front desk',
  instructions: 'Help.',
  tools: [note],
});
const back = defineAgent({
  name: 'back',
  responsibility: 'Back office',
  instructions: 'File.',
  tools: [note],
});

for (const adapter of ADAPTERS) {
  describe(`configuration edits under runs in flight (${adapter})`, () => {
    it('a run whose agent was removed fails with the reason, once', async () => {
      const { store, cleanup } = makeStore(adapter);
      try {
        const before = createSystem({
          agents: [front, back],
          model: scriptedModel([{ text: 'never' }]),
          store,
          workers: false,
          onWarning: () => {},
        });
        const { runId } = await before.submit({
          actorId: 'u',
          sessionId: 's',
          input: 'file it',
          agent: 'back',
        });
        await before.stop();
        const after = createSystem({
          agents: [front],
          model: scriptedModel([{ text: 'never' }]),
          store,
          pollMs: 10,
          onWarning: () => {},
        });
        await after.start();
        try {
          const view = await after.wait(runId);
          assert.equal(view.status, 'failed');
          assert.equal(view.error?.code, 'config_error');
          assert.match(view.error?.message ?? '', /agent "back" is no longer in the configuration/);
          // The path this test is named after ran: the failure came from the sweep, journaled once.
          const events = await store.journal.read(runId);
          assert.equal(events.filter((e) => e.type === 'run.failed').length, 1);
          assert.ok(!events.some((e) => e.type === 'agent.started'));
          assert.equal(await after.sweep(), 0);
        } finally {
          await after.stop();
        }
      } finally {
        await cleanup();
      }
    });

    it('a call to a removed tool is denied with the reason and the run goes on', async () => {
      const { store, cleanup } = makeStore(adapter);
      effects.length = 0;
      try {
        const bare = defineAgent({
          name: 'front',
          responsibility: 'Front desk',
          instructions: 'Help.',
          tools: [],
        });
        const model = scriptedModel([
          { toolCalls: [{ toolName: 'note', input: { text: 'hello' } }] },
          { text: 'I could not write the note.' },
        ]);
        const system = createSystem({ agents: [bare], model, store, pollMs: 10, onWarning: () => {} });
        await system.start();
        try {
          const { runId } = await system.submit({ actorId: 'u', sessionId: 's', input: 'note hello' });
          const view = await system.wait(runId);
          assert.equal(view.status, 'completed');
          const denied = (await store.journal.read(runId)).filter((e) => e.type === 'tool.denied');
          assert.equal(denied.length, 1);
          assert.deepEqual(effects, []);
        } finally {
          await system.stop();
        }
      } finally {
        await cleanup();
      }
    });
  });
}
