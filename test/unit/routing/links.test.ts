/**
 * Issue 21: the tools a request needs but never names — schema-linked retrieval and co-usage
 * priors, with their provenance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JournalEvent } from '../../../src/core/events.ts';
import {
  DEFAULT_LINKS,
  completedRunTools,
  createToolRetriever,
  learnCoUsage,
  type RoutingTarget,
} from '../../../src/routing/index.ts';

const ORDER_ID = { type: 'string', pattern: '^ORD-\\d{5}$', description: 'Order id, e.g. ORD-10042' };
const CUSTOMER = { type: 'string', description: 'Customer id (CUS-0042)' };

/** A tool that requires one argument of the given schema. */
const needs = (name: string, description: string, argument: string, schema: object): RoutingTarget => ({
  name,
  description,
  parameters: { type: 'object', properties: { [argument]: schema }, required: [argument] },
});

const catalog: RoutingTarget[] = [
  {
    name: 'modify_order_address',
    description: 'Change the shipping address of an order that has not shipped yet.',
    parameters: {
      type: 'object',
      properties: { orderId: ORDER_ID, address: { type: 'string', description: 'New street address' } },
      required: ['orderId', 'address'],
    },
  },
  {
    name: 'list_orders',
    description: "List a customer's recent orders with their ids, items and status.",
    parameters: { type: 'object', properties: { customerId: CUSTOMER }, required: ['customerId'] },
  },
  {
    name: 'find_customer',
    description: 'Find a customer account by email address or full name and zip code.',
    parameters: { type: 'object', properties: { email: { type: 'string' } }, required: ['email'] },
  },
  { name: 'get_weather', description: 'Current weather conditions for a city.' },
  { name: 'send_sms', description: 'Send a text message to a phone number.' },
  { name: 'book_table', description: 'Reserve a table at a restaurant.' },
  { name: 'translate', description: 'Translate text between languages.' },
];
const permitted = new Set(catalog.map((t) => t.name));
const REQUEST = 'I want to change the shipping address of my last order to 12 Elm Street';

void test('schema links: a tool needing an order id the request lacks pulls in its producers, transitively', () => {
  const plain = createToolRetriever(catalog, { links: false }).retrieve(REQUEST, { permitted, topK: 3 });
  const linked = createToolRetriever(catalog).retrieve(REQUEST, { permitted, topK: 3 });
  assert.equal(plain.candidates[0]?.name, 'modify_order_address');
  assert.equal(plain.linked, undefined, 'links off: no provenance');
  assert.deepEqual(linked.shown, ['modify_order_address', 'list_orders', 'find_customer']);
  const byName = new Map((linked.linked ?? []).map((l) => [l.name, l]));
  assert.deepEqual(
    { via: byName.get('list_orders')?.via, from: byName.get('list_orders')?.from },
    { via: 'schema', from: 'modify_order_address' },
  );
  assert.equal(byName.get('list_orders')?.argument, 'orderId');
  // The second hop: list_orders needs a customer id, which find_customer produces.
  assert.equal(byName.get('find_customer')?.from, 'list_orders');
  assert.equal(byName.get('find_customer')?.argument, 'customerId');
  const first = linked.candidates[0]?.fused ?? 0;
  const hop1 = linked.candidates.find((c) => c.name === 'list_orders')?.fused ?? 0;
  const hop2 = linked.candidates.find((c) => c.name === 'find_customer')?.fused ?? 0;
  assert.ok(first > hop1 && hop1 > hop2, `the score decays per hop: ${first} > ${hop1} > ${hop2}`);
  assert.equal(linked.candidates.find((c) => c.name === 'list_orders')?.scores.linked, hop1);
});

void test('schema links: a request that supplies the identifier pulls nothing in', () => {
  const r = createToolRetriever(catalog).retrieve(
    'Change the shipping address of order ORD-10042 to 12 Elm St',
    {
      permitted,
      topK: 3,
    },
  );
  assert.equal(r.candidates[0]?.name, 'modify_order_address');
  assert.ok(!(r.linked ?? []).some((l) => l.from === 'modify_order_address'), JSON.stringify(r.linked));
});

void test('schema links: a producer the agent may not call is never added', () => {
  const narrow = new Set(['modify_order_address', 'find_customer', 'get_weather']);
  const r = createToolRetriever(catalog).retrieve(REQUEST, { permitted: narrow, topK: 3 });
  assert.ok(r.candidates.every((c) => narrow.has(c.name)));
  assert.ok(!(r.linked ?? []).some((l) => l.name === 'list_orders'));
});

void test('co-usage priors: learned from completed runs, they pull in the usual companion with provenance', () => {
  const priors = learnCoUsage([
    ['get_weather', 'send_sms'],
    ['get_weather', 'send_sms'],
    ['get_weather'],
    ['book_table', 'translate'],
  ]);
  assert.deepEqual(priors.get_weather, { send_sms: 0.6667 });
  assert.equal(priors.book_table, undefined, 'one run is not enough');
  const query = 'what is the weather in Paris';
  const without = createToolRetriever(catalog).retrieve(query, { permitted, topK: 2 });
  const withPriors = createToolRetriever(catalog, { coUsage: priors }).retrieve(query, {
    permitted,
    topK: 2,
  });
  assert.equal(withPriors.shown[0], 'get_weather');
  assert.equal(withPriors.shown[1], 'send_sms');
  assert.notEqual(without.shown[1], 'send_sms');
  assert.deepEqual(
    withPriors.linked?.find((l) => l.name === 'send_sms'),
    { name: 'send_sms', via: 'co-usage', from: 'get_weather', score: withPriors.candidates[1]?.fused },
  );
});

void test('co-usage priors learn only from completed runs, first attempts, in order', () => {
  const at = (runId: string, seq: number, type: string, data: Record<string, unknown>) =>
    ({ runId, seq, at: seq, v: 1, type, data }) as unknown as JournalEvent;
  const events = [
    at('ok', 1, 'tool.started', { callId: 'a', tool: 'get_weather', args: {}, attempt: 1 }),
    at('ok', 2, 'tool.started', { callId: 'a', tool: 'get_weather', args: {}, attempt: 2 }),
    at('ok', 3, 'tool.started', { callId: 'b', tool: 'send_sms', args: {}, attempt: 1 }),
    at('ok', 4, 'run.completed', { output: 'done' }),
    at('bad', 1, 'tool.started', { callId: 'c', tool: 'book_table', args: {}, attempt: 1 }),
    at('bad', 2, 'run.failed', { error: { message: 'x' } }),
    at('open', 1, 'tool.started', { callId: 'd', tool: 'translate', args: {}, attempt: 1 }),
  ];
  assert.deepEqual(completedRunTools(events), [['get_weather', 'send_sms']]);
});

void test('fewer tool-definition tokens: a clear winner is shown with one runner-up, not the full top k', () => {
  const query = 'what is the weather in Paris';
  const floor = createToolRetriever(catalog).retrieve(query, { permitted, topK: 5 });
  const full = createToolRetriever(catalog, { relativeFloor: 0 }).retrieve(query, { permitted, topK: 5 });
  assert.equal(full.shown.length, 5);
  assert.deepEqual(floor.shown, full.shown.slice(0, 2));
  const best = floor.candidates[0]?.fused ?? 0;
  assert.ok((floor.candidates[2]?.fused ?? 0) < 0.2 * best, 'the third candidate is below 0.2 of the best');
  const one = createToolRetriever(catalog, { minShown: 1 }).retrieve(query, { permitted, topK: 5 });
  assert.deepEqual(one.shown, ['get_weather']);
});

void test('reader links: a tool that changes an order pulls in the tool that reads it by the same id', () => {
  const desk: RoutingTarget[] = [
    ...catalog,
    needs('cancel_order', 'Cancel an order that has not shipped and refund it.', 'orderId', ORDER_ID),
    needs('get_order_details', 'Status, items and payments.', 'orderId', ORDER_ID),
  ];
  const all = new Set(desk.map((t) => t.name));
  // The id is supplied: no producer is needed, but the policy's read before the change still is.
  const query = 'please cancel ORD-10042, I ordered it by mistake';
  const r = createToolRetriever(desk).retrieve(query, { permitted: all, topK: 3 });
  const off = createToolRetriever(desk, { links: { readWeight: 0 } }).retrieve(query, {
    permitted: all,
    topK: 3,
  });
  assert.equal(r.candidates[0]?.name, 'cancel_order');
  assert.equal(r.candidates[1]?.name, 'get_order_details');
  assert.deepEqual(
    r.linked?.find((l) => l.name === 'get_order_details'),
    {
      name: 'get_order_details',
      via: 'reads',
      from: 'cancel_order',
      argument: 'orderId',
      score: r.candidates[1]?.fused,
    },
  );
  assert.ok(!(off.linked ?? []).some((l) => l.via === 'reads'), 'readWeight 0 turns reader links off');
  const own = off.candidates.find((c) => c.name === 'get_order_details')?.fused ?? 0;
  assert.ok(own < (r.candidates[1]?.fused ?? 0), `its own score ${own} is below the linked one`);
  // A reader never pulls in other readers: reading is not a change.
  const read = createToolRetriever(desk).retrieve('show me the details of ORD-10042', {
    permitted: all,
    topK: 3,
  });
  assert.ok(!(read.linked ?? []).some((l) => l.via === 'reads' && l.from === 'get_order_details'));
});

void test('schema links: a tool that changes something produces nothing, and an id of the documented shape is supplied', () => {
  const desk: RoutingTarget[] = [
    needs('return_order_items', 'Return delivered items of an order.', 'order_id', {
      type: 'string',
      description: "The order id, e.g. '#W2918342'",
    }),
    needs('get_user', 'A user profile with the ids of their orders.', 'user_id', CUSTOMER),
    // Mentions orders, but answers with a confirmation: not a source of order ids.
    needs(
      'update_user_address',
      "Update a user's default address. Does not affect existing orders.",
      'user_id',
      CUSTOMER,
    ),
    { name: 'translate', description: 'Translate text between languages.' },
  ];
  const all = new Set(desk.map((t) => t.name));
  const retriever = createToolRetriever(desk);
  const lacking = retriever.retrieve('I want to return the lamp from my last order', {
    permitted: all,
    topK: 4,
  });
  const producers = (lacking.linked ?? []).filter((l) => l.from === 'return_order_items').map((l) => l.name);
  assert.deepEqual(producers, ['get_user']);
  // "#W2918342"-shaped text supplies the order id; a zip code or another number does not.
  const given = retriever.retrieve('return the lamp from order #W7791102', { permitted: all, topK: 4 });
  assert.ok(!(given.linked ?? []).some((l) => l.from === 'return_order_items'), JSON.stringify(given.linked));
  const zip = retriever.retrieve('return the lamp from my last order, zip 10013, ref A12B', {
    permitted: all,
    topK: 4,
  });
  assert.deepEqual(
    (zip.linked ?? []).filter((l) => l.from === 'return_order_items').map((l) => l.name),
    ['get_user'],
  );
});

void test('schema links: a producer that names an identifier of the entity outranks one that only mentions it', () => {
  const LINE_ID = { type: 'string', description: "Line id, e.g. 'L-5531'" };
  const desk: RoutingTarget[] = [
    needs('get_line_details', 'A line: plan, data used this cycle, roaming, add-ons.', 'line_id', LINE_ID),
    { name: 'get_account', description: 'Account overview: holder, lines (line id, number, user).' },
    { name: 'get_bill', description: 'Itemised bill: charges per line, credits and amount due.' },
    { name: 'translate', description: 'Translate text between languages.' },
  ];
  const all = new Set(desk.map((t) => t.name));
  const query = 'how much data is left on my line this cycle';
  const r = createToolRetriever(desk).retrieve(query, { permitted: all, topK: 4 });
  const score = (name: string) => r.candidates.find((c) => c.name === name)?.scores.linked ?? 0;
  assert.deepEqual(
    (r.linked ?? []).filter((l) => l.from === 'get_line_details').map((l) => l.name),
    ['get_account', 'get_bill'],
  );
  // Names "line id" (textAffinity) against only "per line" (mentionAffinity).
  const expected = DEFAULT_LINKS.textAffinity / DEFAULT_LINKS.mentionAffinity;
  assert.ok(expected > 1 && Math.abs(score('get_account') / score('get_bill') - expected) < 0.01);
  const even = createToolRetriever(desk, {
    links: { mentionAffinity: DEFAULT_LINKS.textAffinity },
  }).retrieve(query, {
    permitted: all,
    topK: 4,
  });
  const evenScore = (name: string) => even.candidates.find((c) => c.name === name)?.scores.linked ?? 0;
  assert.equal(evenScore('get_account'), evenScore('get_bill'));
});

void test('schema links: of two producers of the same id, the one the request can feed keeps its score', () => {
  const USER_ID = { type: 'string', description: "The user id, e.g. 'jane_doe_4821'" };
  const text = (description: string) => ({ type: 'string', description });
  const desk: RoutingTarget[] = [
    needs('get_user_details', 'A user: name, addresses, payment methods and order ids.', 'user_id', USER_ID),
    needs('find_user_id_by_email', 'Find a user id by email address.', 'email', text("e.g. 'jane@x.com'")),
    {
      name: 'find_user_id_by_name_zip',
      description: 'Find a user id by first name, last name and zip code.',
      parameters: {
        type: 'object',
        properties: {
          first_name: text("First name, e.g. 'Jane'"),
          last_name: text("Last name, e.g. 'Doe'"),
          zip: text("Zip code, e.g. '10013'"),
        },
        required: ['first_name', 'last_name', 'zip'],
      },
    },
    { name: 'translate', description: 'Translate text between languages.' },
  ];
  const all = new Set(desk.map((t) => t.name));
  const retriever = createToolRetriever(desk);
  const linked = (query: string) => {
    const r = retriever.retrieve(query, { permitted: all, topK: 4 });
    const s = (name: string) => r.candidates.find((c) => c.name === name)?.scores.linked ?? 0;
    return { email: s('find_user_id_by_email'), nameZip: s('find_user_id_by_name_zip') };
  };
  // Nothing given: one input (an email) is easier to ask for than three; 0.6 is the default weight.
  const none = linked('show me the details of my account');
  assert.ok(Math.abs(none.nameZip / none.email - 0.6) < 0.01, JSON.stringify(none));
  const byName = linked('show me the details of my account, I am Kenji Watanabe, 02134');
  assert.ok(Math.abs(byName.email / byName.nameZip - 0.6) < 0.01, JSON.stringify(byName));
  const byEmail = linked('show me the details of my account, kenji@example.org');
  assert.ok(byEmail.nameZip < byEmail.email, JSON.stringify(byEmail));
  // An input no text can show (a free-text reason) counts as missing, not as given.
  const withReason = [
    ...desk,
    needs('find_user_id_by_reason', 'Find a user id from a note.', 'note', text('Why the user calls')),
  ];
  const r = createToolRetriever(withReason).retrieve('show me my account, kenji@example.org', {
    permitted: new Set(withReason.map((t) => t.name)),
    topK: 5,
  });
  const s = (name: string) => r.candidates.find((c) => c.name === name)?.scores.linked ?? 0;
  assert.ok(s('find_user_id_by_reason') < s('find_user_id_by_email'), JSON.stringify(r.candidates));
  const off = createToolRetriever(desk, { links: { alternativeWeight: 1 } }).retrieve(
    'show me the details of my account',
    { permitted: all, topK: 4 },
  );
  const offScore = (name: string) => off.candidates.find((c) => c.name === name)?.scores.linked;
  assert.equal(offScore('find_user_id_by_email'), offScore('find_user_id_by_name_zip'));
});

void test('schema links: a quantity or an ordinal is not an identifier; a code argument is one', () => {
  const desk: RoutingTarget[] = [
    needs('get_customer_plan', 'The plan and usage of a customer.', 'customerId', CUSTOMER),
    needs('find_customer', 'Find a customer id by phone number.', 'phone', {
      type: 'string',
      description: "e.g. '+14155550143'",
    }),
    needs('change_plan', 'Move to a different plan.', 'plan_code', {
      type: 'string',
      description: 'Plan code',
    }),
    { name: 'get_plan_catalog', description: 'Lists mobile plans with prices and what they include.' },
    { name: 'translate', description: 'Translate text between languages.' },
  ];
  const all = new Set(desk.map((t) => t.name));
  const retriever = createToolRetriever(desk);
  const from = (query: string, consumer: string) =>
    (retriever.retrieve(query, { permitted: all, topK: 5 }).linked ?? [])
      .filter((l) => l.from === consumer)
      .map((l) => l.name);
  assert.deepEqual(
    from('what plan and usage do I have on my 256GB phone, since the 20th', 'get_customer_plan'),
    ['find_customer'],
  );
  assert.deepEqual(from('what plan and usage does customer CUS0042 have', 'get_customer_plan'), []);
  // `plan_code` names a plan: the catalog that lists plans produces it.
  assert.ok(from('move me to a different plan', 'change_plan').includes('get_plan_catalog'));
});
