/** Support tools: customer lookup, identity verification, tickets, knowledge base, escalation. */
import { z } from 'zod';
import { defineTool } from '../../../src/core/tool.ts';
import { ToolError } from '../../../src/core/errors.ts';
import {
  type CustomerRow,
  type ToolEnv,
  customerRef,
  findCustomer,
  nextId,
  once,
  READ_RETRY,
  reconcileFrom,
  WRITE_RETRY,
} from './common.ts';

const EMAIL_IN_TEXT = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/;
const CUSTOMER_ID_IN_TEXT = /\bCUS-\d{4}\b/i;

/** Words that carry no meaning for matching free text against rows. */
const STOPWORDS = new Set(
  'a an the and or of to for in on at is are was were be do does did how what when where why who which my our your their his her its i we you me us can could would should please with about from this that it as by not no'.split(
    ' ',
  ),
);
export const words = (text: string): string[] =>
  text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 1 && !STOPWORDS.has(w));

export function supportTools(env: ToolEnv) {
  const { biz } = env;

  const lookupCustomer = defineTool({
    name: 'lookup_customer',
    description:
      "Look up a customer's account profile by customer id, email address or full name: contact details, loyalty tier, language and open tickets.",
    input: z.object({
      query: z.string().min(2).describe('Customer id (CUS-0042), email address or full name'),
    }),
    risk: 'read',
    idempotent: true,
    retry: READ_RETRY,
    domain: 'support',
    progress: 'Looking up the customer account',
    examples: [
      'Look up customer jane.cooper@example.com',
      'Who is CUS-0042?',
      'Find the account of Priya Haddad',
      'What tier is this customer?',
    ],
    run: async ({ query }) => {
      const email = EMAIL_IN_TEXT.exec(query)?.[0];
      const id = CUSTOMER_ID_IN_TEXT.exec(query)?.[0];
      let customer: CustomerRow | undefined;
      if (email || id) customer = await findCustomer(biz, (email ?? id) as string);
      else {
        // A name: the customer whose full name appears in the query, else the best token overlap.
        const all = await biz.all<CustomerRow>('SELECT * FROM customers ORDER BY id');
        const q = query.toLowerCase();
        customer = all.find((c) => q.includes(c.name.toLowerCase()));
        if (!customer) {
          const qw = new Set(words(query));
          const scored = all
            .map((c) => ({ c, n: words(c.name).filter((w) => qw.has(w)).length }))
            .filter((s) => s.n > 0)
            .sort((a, b) => b.n - a.n);
          customer = scored[0]?.c;
        }
        if (!customer) throw new ToolError(`no customer matches "${query}"`, { retryable: false });
      }
      // An aggregate always returns one row.
      const orders = (await biz.get<{ n: number; last: string | null }>(
        'SELECT count(*) AS n, max(created_at) AS last FROM orders WHERE customer_id = ?',
        customer.id,
      )) as { n: number; last: string | null };
      const openTickets = await biz.all<{ id: string; subject: string }>(
        "SELECT id, subject FROM tickets WHERE customer_id = ? AND status != 'closed' ORDER BY id",
        customer.id,
      );
      return {
        customerId: customer.id,
        name: customer.name,
        email: customer.email,
        phone: customer.phone,
        tier: customer.tier,
        language: customer.language,
        city: customer.city,
        verified: customer.verified_at !== null,
        orderCount: orders.n,
        lastOrderAt: orders.last,
        openTickets,
        summary: `Customer ${customer.id} ${customer.name} (${customer.email}), ${customer.tier} tier, ${orders.n} orders, ${openTickets.length} open tickets.`,
      };
    },
  });

  const verifyIdentity = defineTool({
    name: 'verify_identity',
    description:
      "Verify a customer's identity (authentication) before account changes by checking their date of birth or postcode against the account.",
    input: z.object({
      customer: customerRef(),
      dateOfBirth: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/)
        .optional()
        .describe('Date of birth as YYYY-MM-DD'),
      postcode: z
        .string()
        .regex(/^\d{5}$/)
        .optional()
        .describe('Five-digit postcode on file'),
    }),
    risk: 'policy',
    idempotent: true,
    retry: READ_RETRY,
    domain: 'support',
    progress: 'Verifying the customer identity',
    examples: [
      'Verify identity of CUS-0042 with date of birth 1985-04-12',
      'Authenticate jane.cooper@example.com, postcode 62701',
    ],
    run: async ({ customer, dateOfBirth, postcode }) => {
      const row = await findCustomer(biz, customer);
      const factors: string[] = [];
      if (dateOfBirth) factors.push('date_of_birth');
      if (postcode) factors.push('postcode');
      if (factors.length === 0) {
        return {
          customerId: row.id,
          verified: false,
          summary: `I need the date of birth (YYYY-MM-DD) or postcode of ${row.id} to verify the identity.`,
        };
      }
      const verified =
        (dateOfBirth === undefined || dateOfBirth === row.date_of_birth) &&
        (postcode === undefined || postcode === row.postcode);
      const at = biz.now().toISOString();
      // The check and the verified mark commit together.
      await biz.transaction(async (tx) => {
        await tx.run(
          'INSERT INTO identity_checks (customer_id, factors, verified, created_at) VALUES (?,?,?,?)',
          row.id,
          factors.join(','),
          verified ? 1 : 0,
          at,
        );
        if (verified) await tx.run('UPDATE customers SET verified_at = ? WHERE id = ?', at, row.id);
      });
      return {
        customerId: row.id,
        verified,
        factors,
        summary: verified
          ? `Identity of ${row.id} ${row.name} verified (${factors.join(' and ')}).`
          : `Identity of ${row.id} could not be verified: the ${factors.join(' or ')} does not match.`,
      };
    },
  });

  const createTicket = defineTool({
    name: 'create_ticket',
    description:
      'Open a support ticket for a customer problem that needs follow-up (complaint, defect, account issue).',
    input: z.object({
      customer: customerRef(),
      subject: z.string().min(3).max(200).describe('Short summary of the problem'),
      priority: z.enum(['low', 'normal', 'high', 'urgent']).default('normal').describe('Ticket priority'),
    }),
    risk: 'write',
    idempotent: false,
    retry: WRITE_RETRY,
    domain: 'support',
    progress: 'Opening a support ticket',
    examples: [
      'Open a ticket for CUS-0042: "Blender arrived with a cracked jug"',
      'Create a high priority ticket for jane.cooper@example.com about a broken kettle',
      'Log a complaint for this customer',
    ],
    reconcile: reconcileFrom(biz),
    run: ({ customer, subject, priority }, ctx) =>
      once(biz, 'create_ticket', ctx, async (tx) => {
        const row = await findCustomer(tx, customer);
        const id = await nextId(tx, 'tickets', 'TCK', 4, 5000);
        await tx.run(
          "INSERT INTO tickets (id, customer_id, subject, description, priority, status, created_at, idempotency_key) VALUES (?,?,?,?,?,'open',?,?)",
          id,
          row.id,
          subject.slice(0, 200),
          subject,
          priority,
          biz.now().toISOString(),
          ctx.idempotencyKey,
        );
        return {
          ticketId: id,
          customerId: row.id,
          priority,
          status: 'open',
          summary: `Ticket ${id} opened for ${row.id} (${priority} priority): ${subject}`,
        };
      }),
  });

  const searchKnowledgeBase = defineTool({
    name: 'search_knowledge_base',
    description:
      'Search help-centre knowledge-base articles for policies and how-to answers (returns, shipping times, warranty, payments, passwords).',
    input: z.object({
      query: z.string().min(2).describe('The question or keywords'),
      limit: z.number().int().min(1).max(5).default(3).describe('How many articles to return'),
    }),
    risk: 'read',
    idempotent: true,
    retry: READ_RETRY,
    domain: 'support',
    progress: 'Searching the knowledge base',
    examples: [
      'What is your return policy?',
      'How long does a refund take?',
      'How do I reset my password?',
      'Is there a warranty?',
    ],
    run: async ({ query, limit }) => {
      const articles = await biz.all<{
        id: string;
        title: string;
        category: string;
        body: string;
        tags: string;
      }>('SELECT * FROM kb_articles ORDER BY id');
      const qw = words(query).map(stem);
      // Simple BM25-like scoring: tags and title weigh more than the body; shorter articles win ties.
      const scored = articles
        .map((a) => {
          const tags = new Set(words(a.tags).map(stem));
          const title = new Set(words(a.title).map(stem));
          const body = new Set(words(a.body).map(stem));
          let score = 0;
          for (const w of qw) score += (tags.has(w) ? 3 : 0) + (title.has(w) ? 2 : 0) + (body.has(w) ? 1 : 0);
          return { a, score: score - a.title.length / 1000 };
        })
        .filter((s) => s.score > 0.5)
        .sort((x, y) => y.score - x.score)
        .slice(0, limit);
      const results = scored.map(({ a }) => ({ articleId: a.id, title: a.title, excerpt: a.body }));
      const first = results[0];
      return {
        results,
        summary: first
          ? `${first.title} (${first.articleId}): ${first.excerpt}`
          : `No knowledge-base article matches "${query}".`,
      };
    },
  });

  const escalate = defineTool({
    name: 'escalate_to_human',
    description:
      'Escalate to a human specialist team (billing, legal, technical or general queue) when a request is out of policy, a legal threat, very upset, or cannot be resolved by tools.',
    input: z.object({
      reason: z.string().min(3).describe('Why a human is needed'),
      customer: customerRef().optional(),
      ticketId: z
        .string()
        .regex(/^TCK-\d{4,}$/)
        .optional()
        .describe('Related ticket id, e.g. TCK-5012'),
      priority: z.enum(['normal', 'high', 'urgent']).default('normal'),
    }),
    risk: 'customer-impacting',
    idempotent: false,
    retry: WRITE_RETRY,
    domain: 'support',
    progress: 'Handing this over to a human specialist',
    examples: [
      'I want to speak to a manager',
      'Escalate this: the customer is threatening legal action',
      'Please get a human to look at ticket TCK-5012',
    ],
    reconcile: reconcileFrom(biz),
    run: ({ reason, customer, ticketId, priority }, ctx) =>
      once(biz, 'escalate_to_human', ctx, async (tx) => {
        const row = customer ? await findCustomer(tx, customer) : undefined;
        const text = reason.toLowerCase();
        const queue = /lawyer|legal|sue|court|gdpr|privacy/.test(text)
          ? 'legal'
          : /charge|refund|invoice|payment|billing|money/.test(text)
            ? 'billing'
            : /broken|error|bug|crash|login|password|technical/.test(text)
              ? 'technical'
              : 'general';
        const urgency = /legal|lawyer|sue|urgent|immediately|furious/.test(text) ? 'urgent' : priority;
        const id = await nextId(tx, 'escalations', 'ESC', 4);
        await tx.run(
          "INSERT INTO escalations (id, customer_id, ticket_id, reason, priority, queue, status, created_at, idempotency_key) VALUES (?,?,?,?,?,?,'open',?,?)",
          id,
          row?.id ?? null,
          ticketId ?? null,
          reason,
          urgency,
          queue,
          biz.now().toISOString(),
          ctx.idempotencyKey,
        );
        return {
          escalationId: id,
          queue,
          priority: urgency,
          summary: `Escalated to the ${queue} team as ${id} (${urgency} priority); a specialist will reply within one business day.`,
        };
      }),
  });

  return { lookupCustomer, verifyIdentity, createTicket, searchKnowledgeBase, escalate };
}

/** A tiny English stemmer: enough to match "refunds" with "refund" and "shipping" with "ship". */
export function stem(word: string): string {
  if (word.length <= 4) return word;
  for (const suffix of ['ing', 'ed', 'es', 's', 'ly']) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 3) {
      const base = word.slice(0, -suffix.length);
      return suffix === 'ing' && /(.)\1$/.test(base) ? base.slice(0, -1) : base;
    }
  }
  return word;
}
