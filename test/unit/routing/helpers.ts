import type { RoutingTarget } from '../../../src/routing/index.ts';

/** Three small agents with example requests (a supervised catalog). */
export const agents: RoutingTarget[] = [
  {
    name: 'billing',
    description: 'Refunds, invoices, charges and payment problems.',
    examples: [
      'I was charged twice for my order',
      'please refund my last payment',
      'where is my invoice for March',
      'my card was billed the wrong amount',
      'I want my money back',
      'why did you charge me a fee',
    ],
  },
  {
    name: 'shipping',
    description: 'Delivery status, tracking, addresses and lost parcels.',
    examples: [
      'where is my package',
      'track my delivery',
      'my parcel never arrived',
      'change the delivery address of my order',
      'when will my shipment arrive',
      'the courier lost my box',
    ],
  },
  {
    name: 'accounts',
    description: 'Logins, passwords, profile and account settings.',
    examples: [
      'I forgot my password',
      'reset my login',
      'how do I change my email address on my profile',
      'I cannot sign in to my account',
      'delete my account',
      'enable two factor authentication',
    ],
  },
];

/** Six tools without examples (a description-only catalog). */
export const tools: RoutingTarget[] = [
  {
    name: 'issue_refund',
    description: 'Issue a refund to the customer for an order payment.',
    parameters: {
      type: 'object',
      properties: { orderId: { type: 'string', description: 'The order to refund' } },
    },
  },
  {
    name: 'lookup_order',
    description: 'Look up an order by id: items, status, payment and delivery.',
    parameters: { type: 'object', properties: { orderId: { type: 'string' } } },
  },
  {
    name: 'track_parcel',
    description: 'Track a parcel with the carrier and return its delivery status.',
    parameters: { type: 'object', properties: { trackingNumber: { type: 'string' } } },
  },
  {
    name: 'reset_password',
    description: 'Send a password reset link to the account email.',
    parameters: { type: 'object', properties: { email: { type: 'string' } } },
  },
  {
    name: 'get_weather',
    description: 'Current weather conditions for a city.',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
  {
    name: 'send_invoice',
    description: 'Email an invoice PDF for an order to the customer.',
    parameters: { type: 'object', properties: { orderId: { type: 'string' } } },
  },
];
