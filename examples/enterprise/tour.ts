/** The tour `switchboard demo` plays on the reference system's seeded data. */
import type { TourStep } from '../../src/cli/demo.ts';

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
