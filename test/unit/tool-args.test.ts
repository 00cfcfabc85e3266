/** Issue 22 item 4, the pure part: how raw tool-call argument text becomes a call's input and denial. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { argumentsDenial, replayedInput, toolCallInput } from '../../src/core/decisions/output.ts';

describe('issue 22 item 4: tool arguments that are not JSON', () => {
  it('parses JSON, keeps anything else raw and says why: cut off when the answer hit its cap', () => {
    assert.deepEqual(toolCallInput('{"id":"A"}', 'tool-calls'), { input: { id: 'A' } });
    assert.deepEqual(toolCallInput('', 'tool-calls'), { input: {} });
    assert.deepEqual(toolCallInput('{"id":"A', 'length'), { input: '{"id":"A', argumentsError: 'cut-off' });
    assert.deepEqual(toolCallInput('id A', 'tool-calls'), { input: 'id A', argumentsError: 'not-json' });
    // Complete JSON at the cap is still a usable call.
    assert.deepEqual(toolCallInput('{"id":"A"}', 'length'), { input: { id: 'A' } });
  });

  it('quotes the model’s text once, bounded, and replays the call with empty arguments', () => {
    const call = {
      callId: 's1c1',
      modelCallId: 'c',
      toolName: 'lookup_order',
      input: '{"id":"A',
      argumentsError: 'cut-off' as const,
    };
    const m = argumentsDenial(call, 'cut-off');
    assert.match(m, /^The arguments of lookup_order were cut off: /);
    assert.equal(m.split('{"id":"A').length - 1, 1);
    assert.deepEqual(replayedInput(call), {});
    assert.deepEqual(replayedInput({ ...call, input: { id: 'A' }, argumentsError: undefined }), { id: 'A' });
    const long = argumentsDenial({ ...call, input: 'x'.repeat(5000) }, 'not-json');
    assert.match(long, /were not valid JSON/);
    assert.match(long, /… \(5000 characters\)/);
    assert.ok(long.length < 2300);
  });
});
