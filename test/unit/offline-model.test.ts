import { test } from 'node:test';
import assert from 'node:assert/strict';
import type {
  LanguageModelV4FunctionTool,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
} from '@ai-sdk/provider';
import {
  createOfflineModel,
  decide,
  extractArguments,
  findPattern,
  splitClauses,
} from '../../src/models/offline.ts';

// Tools defined here, not taken from the example: the model must work on any schema.
const tool = (name: string, description: string, properties: Record<string, unknown>, required: string[]) =>
  ({
    type: 'function',
    name,
    description,
    inputSchema: { type: 'object', properties, required },
  }) as LanguageModelV4FunctionTool;

const track = tool(
  'track_parcel',
  'Track where a parcel is with the carrier by shipment number.',
  {
    shipment: { type: 'string', pattern: '^SHP-\\d{6}$', description: 'Shipment number, e.g. SHP-000123' },
  },
  ['shipment'],
);
const refund = tool(
  'refund_invoice',
  'Refund an invoice, fully or a given amount.',
  {
    invoice: { type: 'string', pattern: '^INV-\\d{4}$' },
    amount: { type: 'number', exclusiveMinimum: 0, description: 'Amount in dollars' },
    reason: { type: 'string', description: 'Why' },
  },
  ['invoice'],
);
const notify = tool(
  'notify_client',
  'Send an email notification message to a client.',
  {
    to: { type: 'string', format: 'email' },
    message: { type: 'string', description: 'The message text' },
  },
  ['to', 'message'],
);
const rate = tool(
  'record_rating',
  'Record a star rating from a client.',
  {
    client: { type: 'string', pattern: '^CL-\\d{3}$' },
    stars: { type: 'integer', minimum: 1, maximum: 5, description: 'Rating 1-5 stars' },
  },
  ['client', 'stars'],
);
const book = tool(
  'book_visit',
  'Book a visit for a client on a day.',
  {
    client: { type: 'string', pattern: '^CL-\\d{3}$' },
    day: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
    slot: { type: 'string', enum: ['morning', 'afternoon'] },
  },
  ['client', 'day'],
);
const delegate = tool(
  'delegate_to_billing',
  'Hand a task to the billing agent (invoices, refunds and payments) and get its answer back.',
  {
    task: { type: 'string' },
  },
  ['task'],
);

const user = (text: string): LanguageModelV4Prompt[number] => ({
  role: 'user',
  content: [{ type: 'text', text }],
});
const callThenResult = (name: string, input: unknown, value: unknown): LanguageModelV4Prompt => [
  { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: name, input }] },
  {
    role: 'tool',
    content: [
      {
        type: 'tool-result',
        toolCallId: 'c1',
        toolName: name,
        output: { type: 'json', value: value as never },
      },
    ],
  },
];

test('picks the fitting tool and extracts an id by its schema pattern', () => {
  const d = decide([user('Where is my parcel SHP-004211?')], [refund, track, notify]);
  assert.deepEqual(d, {
    kind: 'call',
    toolName: 'track_parcel',
    input: { shipment: 'SHP-004211' },
    reason: d.kind === 'call' ? d.reason : '',
  });
});

test('extracts amounts, cue-introduced free text and upper-cases ids typed in lower case', () => {
  const { input, missing } = extractArguments(
    refund,
    'please refund $12.50 on inv-4242 because it arrived broken',
    {
      request: 'please refund $12.50 on inv-4242 because it arrived broken',
      sources: [],
    },
  );
  assert.deepEqual(missing, []);
  assert.deepEqual(input, { invoice: 'INV-4242', amount: 12.5, reason: 'it arrived broken' });
});

test('extracts emails, quoted text, ratings, dates and enum values', () => {
  const n = extractArguments(notify, 'email ann@example.org "Your visit is confirmed"', {
    request: '',
    sources: [],
  });
  assert.deepEqual(n.input, { to: 'ann@example.org', message: 'Your visit is confirmed' });
  const r = extractArguments(rate, 'CL-007 gives us 4 stars', { request: '', sources: [] });
  assert.deepEqual(r.input, { client: 'CL-007', stars: 4 });
  const b = extractArguments(book, 'book CL-007 on 2025-06-04 in the afternoon', {
    request: '',
    sources: [],
  });
  assert.deepEqual(b.input, { client: 'CL-007', day: '2025-06-04', slot: 'afternoon' });
});

test('asks a clarifying question naming the missing required argument', () => {
  const d = decide([user('I would like to book a visit for CL-007')], [book, notify]);
  assert.equal(d.kind, 'ask');
  assert.ok(d.kind === 'ask' && d.missing.includes('day'));
  assert.match(d.kind === 'ask' ? d.text : '', /\?$/);
});

test('a reply to its question completes the pending request', () => {
  const prompt: LanguageModelV4Prompt = [
    user('I would like to book a visit for CL-007'),
    {
      role: 'assistant',
      content: [{ type: 'text', text: 'To book a visit, I need the day. Could you give me it?' }],
    },
    user('2025-06-05'),
  ];
  const d = decide(prompt, [book, notify]);
  assert.equal(d.kind, 'call');
  assert.deepEqual(d.kind === 'call' ? d.input : null, { client: 'CL-007', day: '2025-06-05' });
});

test('identifiers missing from the request come from the conversation, most recent first', () => {
  const prompt: LanguageModelV4Prompt = [
    user('who is CL-001?'),
    { role: 'assistant', content: [{ type: 'text', text: 'Client CL-003 Ann Lee.' }] },
    user('Record a rating of 5 stars for that client'),
  ];
  const d = decide(prompt, [rate, book]);
  assert.deepEqual(d.kind === 'call' ? d.input : null, { client: 'CL-003', stars: 5 });
});

test('answers from the result summary once the request is served', () => {
  const prompt = [
    user('Track SHP-004211'),
    ...callThenResult(
      'track_parcel',
      { shipment: 'SHP-004211' },
      { summary: 'In transit, arriving Friday.' },
    ),
  ];
  assert.deepEqual(decide(prompt, [track, refund]), { kind: 'answer', text: 'In transit, arriving Friday.' });
});

test('serves a second clause with a second tool before answering', () => {
  const request = 'Refund INV-4242 and email ann@example.org that the refund was issued';
  const first = decide([user(request)], [refund, notify, track]);
  assert.equal(first.kind === 'call' && first.toolName, 'refund_invoice');
  const second = decide(
    [user(request), ...callThenResult('refund_invoice', { invoice: 'INV-4242' }, { summary: 'Refunded.' })],
    [refund, notify, track],
  );
  assert.equal(second.kind === 'call' && second.toolName, 'notify_client');
  assert.equal(second.kind === 'call' && second.input.to, 'ann@example.org');
});

test('delegates when a delegation tool fits best, passing the identifiers along', () => {
  const d = decide([user('I need a refund for my invoices please')], [track, delegate]);
  assert.equal(d.kind === 'call' && d.toolName, 'delegate_to_billing');
});

test('reports tool errors and denials in plain words', () => {
  const prompt: LanguageModelV4Prompt = [
    user('Refund INV-4242'),
    {
      role: 'assistant',
      content: [
        { type: 'tool-call', toolCallId: 'c1', toolName: 'refund_invoice', input: { invoice: 'INV-4242' } },
      ],
    },
    {
      role: 'tool',
      content: [
        {
          type: 'tool-result',
          toolCallId: 'c1',
          toolName: 'refund_invoice',
          output: { type: 'execution-denied', reason: 'the approver said no' },
        },
      ],
    },
  ];
  const d = decide(prompt, [refund]);
  assert.equal(d.kind, 'answer');
  assert.match(d.kind === 'answer' ? d.text : '', /could not refund an invoice.*approver said no/);
});

test('says what it can do when nothing fits instead of guessing a tool', () => {
  const d = decide([user('Tell me a joke about penguins')], [track, refund]);
  assert.equal(d.kind, 'answer');
});

test('finds schema patterns as whole tokens only', () => {
  assert.deepEqual(findPattern('^\\d{5}$', 'order ORD-10042, postcode 62701'), ['62701']);
  assert.deepEqual(splitClauses('Refund INV-1 and email "a and b" to x'), [
    'Refund INV-1',
    'email "a and b" to x',
  ]);
});

test('doGenerate returns a tool call with usage and finish reason; doStream emits the same content', async () => {
  const model = createOfflineModel();
  assert.equal(model.specificationVersion, 'v4');
  assert.equal(model.provider, 'switchboard');
  assert.equal(model.modelId, 'offline');
  const options = { prompt: [user('Where is SHP-004211?')], tools: [track, refund] };
  const result = await model.doGenerate(options);
  assert.equal(result.finishReason.unified, 'tool-calls');
  const call = result.content[0];
  assert.equal(call?.type, 'tool-call');
  assert.deepEqual(call?.type === 'tool-call' ? JSON.parse(call.input) : null, { shipment: 'SHP-004211' });
  assert.ok((result.usage.inputTokens.total ?? 0) > 0);
  assert.ok((result.usage.outputTokens.total ?? 0) > 0);

  const { stream } = await model.doStream(options);
  const parts: LanguageModelV4StreamPart[] = [];
  for await (const p of stream) parts.push(p);
  const streamedCall = parts.find((p) => p.type === 'tool-call');
  assert.deepEqual(streamedCall, call);
  const finish = parts.at(-1);
  assert.equal(finish?.type === 'finish' && finish.finishReason.unified, 'tool-calls');

  const text = await model.doStream({ prompt: [user('Tell me a joke')], tools: [track] });
  let streamed = '';
  for await (const p of text.stream) if (p.type === 'text-delta') streamed += p.delta;
  const generated = await model.doGenerate({ prompt: [user('Tell me a joke')], tools: [track] });
  assert.equal(streamed, generated.content[0]?.type === 'text' ? generated.content[0].text : undefined);
});
