/**
 * core/limits.ts: every door that takes a run's input or an id refuses the same length — HTTP
 * submit, WebSocket `sendMessage`, a batch line, and `system.submit`'s own check.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBatch } from '../../src/batch/parse.ts';
import { MAX_ID_CHARS, MAX_INPUT_CHARS } from '../../src/core/limits.ts';
import { SubmitRunBody } from '../../src/gateway/schemas.ts';
import { WsActions } from '../../src/gateway/ws-messages.ts';
import { nonEmpty } from '../../src/runtime/submit.ts';

/** Whether each door accepts a run with this input and session id. */
function doors(input: string, sessionId: string): Record<string, boolean> {
  const ok = (fn: () => unknown): boolean => {
    try {
      fn();
      return true;
    } catch {
      return false;
    }
  };
  const [record] = parseBatch(JSON.stringify({ input, sessionId }));
  return {
    http: SubmitRunBody.safeParse({ input, sessionId }).success,
    ws: WsActions.sendMessage.safeParse({ action: 'sendMessage', text: input, sessionId }).success,
    batch: record !== undefined && record.problem === undefined,
    submit: ok(() => nonEmpty(input, 'input', MAX_INPUT_CHARS)) && ok(() => nonEmpty(sessionId, 'sessionId')),
  };
}

const all = (v: boolean) => ({ http: v, ws: v, batch: v, submit: v });

describe('limits declared once', () => {
  it('every door takes an input of MAX_INPUT_CHARS and refuses one more character', () => {
    assert.deepEqual(doors('x'.repeat(MAX_INPUT_CHARS), 's'), all(true));
    assert.deepEqual(doors('x'.repeat(MAX_INPUT_CHARS + 1), 's'), all(false));
  });

  it('every door takes a session id of MAX_ID_CHARS and refuses one more character', () => {
    assert.deepEqual(doors('hi', 's'.repeat(MAX_ID_CHARS)), all(true));
    assert.deepEqual(doors('hi', 's'.repeat(MAX_ID_CHARS + 1)), all(false));
  });
});
