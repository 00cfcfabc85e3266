/** Engagement tools: email, calendar, feedback, sentiment and translation. */
import { z } from 'zod';
import { defineTool } from '../../../src/core/tool.ts';
import { ToolError } from '../../../src/core/errors.ts';
import {
  type ToolEnv,
  customerRef,
  findCustomer,
  ISO_DATE,
  nextId,
  once,
  READ_RETRY,
  reconcileFrom,
  WRITE_RETRY,
} from './common.ts';

const POSITIVE = new Set(
  'great good love excellent amazing happy thanks thank perfect fast helpful wonderful awesome pleased satisfied recommend fantastic quick easy nice'.split(
    ' ',
  ),
);
const NEGATIVE = new Set(
  'bad terrible awful hate broken late slow angry disappointed worst horrible rude useless damaged missing wrong never refund furious unacceptable poor cracked lost'.split(
    ' ',
  ),
);
const NEGATORS = new Set(['not', 'never', "don't", 'no', "isn't", "wasn't", "didn't"]);

/** Lexicon-based sentiment in [-1, 1]; a deterministic stand-in for a sentiment model. */
export function scoreSentiment(text: string): { score: number; label: 'positive' | 'neutral' | 'negative' } {
  const tokens = text.toLowerCase().match(/[a-z']+/g) ?? [];
  let score = 0;
  let hits = 0;
  tokens.forEach((t, i) => {
    const polarity = POSITIVE.has(t) ? 1 : NEGATIVE.has(t) ? -1 : 0;
    if (!polarity) return;
    const negated = NEGATORS.has(tokens[i - 1] ?? '') || NEGATORS.has(tokens[i - 2] ?? '');
    score += negated ? -polarity : polarity;
    hits++;
  });
  const normalized = hits ? Math.max(-1, Math.min(1, score / hits)) : 0;
  const label = normalized > 0.2 ? 'positive' : normalized < -0.2 ? 'negative' : 'neutral';
  return { score: Math.round(normalized * 100) / 100, label };
}

const LANGUAGES = ['spanish', 'french', 'german', 'english'] as const;
/** A small customer-service glossary: word-by-word translation for the offline demo. */
const GLOSSARY: Record<string, [string, string, string]> = {
  hello: ['hola', 'bonjour', 'hallo'],
  thank: ['gracias', 'merci', 'danke'],
  thanks: ['gracias', 'merci', 'danke'],
  you: ['usted', 'vous', 'Sie'],
  your: ['su', 'votre', 'Ihre'],
  order: ['pedido', 'commande', 'Bestellung'],
  refund: ['reembolso', 'remboursement', 'Rückerstattung'],
  has: ['ha', 'a', 'hat'],
  have: ['tengo', 'ai', 'habe'],
  been: ['sido', 'été', 'worden'],
  is: ['es', 'est', 'ist'],
  shipped: ['enviado', 'expédiée', 'versandt'],
  delivered: ['entregado', 'livrée', 'geliefert'],
  payment: ['pago', 'paiement', 'Zahlung'],
  received: ['recibido', 'reçu', 'erhalten'],
  please: ['por favor', "s'il vous plaît", 'bitte'],
  help: ['ayuda', 'aide', 'Hilfe'],
  my: ['mi', 'ma', 'meine'],
  where: ['dónde', 'où', 'wo'],
  package: ['paquete', 'colis', 'Paket'],
  parcel: ['paquete', 'colis', 'Paket'],
  the: ['el', 'le', 'die'],
  a: ['un', 'un', 'ein'],
  and: ['y', 'et', 'und'],
  we: ['nosotros', 'nous', 'wir'],
  are: ['estamos', 'sommes', 'sind'],
  sorry: ['lo siento', 'désolé', 'Entschuldigung'],
  for: ['por', 'pour', 'für'],
  delay: ['retraso', 'retard', 'Verzögerung'],
  today: ['hoy', "aujourd'hui", 'heute'],
  tomorrow: ['mañana', 'demain', 'morgen'],
  processed: ['procesado', 'traité', 'bearbeitet'],
  welcome: ['bienvenido', 'bienvenue', 'willkommen'],
  customer: ['cliente', 'client', 'Kunde'],
  support: ['soporte', 'assistance', 'Kundendienst'],
  will: ['va a', 'va', 'wird'],
  arrive: ['llegar', 'arriver', 'ankommen'],
  soon: ['pronto', 'bientôt', 'bald'],
  good: ['bueno', 'bon', 'gut'],
  morning: ['mañana', 'matin', 'Morgen'],
  day: ['día', 'jour', 'Tag'],
  not: ['no', 'pas', 'nicht'],
  yes: ['sí', 'oui', 'ja'],
  no: ['no', 'non', 'nein'],
  invoice: ['factura', 'facture', 'Rechnung'],
  account: ['cuenta', 'compte', 'Konto'],
  ticket: ['ticket', 'ticket', 'Ticket'],
};
// Reverse lookup, so Spanish/French/German text can be turned into English.
const TO_ENGLISH = new Map<string, string>();
for (const [en, forms] of Object.entries(GLOSSARY))
  for (const f of forms) if (!TO_ENGLISH.has(f.toLowerCase())) TO_ENGLISH.set(f.toLowerCase(), en);

/** Word-by-word glossary translation; unknown words pass through unchanged. */
export function translate(
  text: string,
  target: (typeof LANGUAGES)[number],
): { text: string; coverage: number } {
  const tokens = text.split(/(\s+|[.,!?;:])/);
  let known = 0;
  let total = 0;
  const out = tokens.map((tok) => {
    if (!/[\p{L}']/u.test(tok)) return tok;
    total++;
    const lower = tok.toLowerCase();
    let translated: string | undefined;
    if (target === 'english') translated = TO_ENGLISH.get(lower);
    else {
      const idx = { spanish: 0, french: 1, german: 2 }[target];
      translated = GLOSSARY[lower]?.[idx];
    }
    if (translated === undefined) return tok;
    known++;
    return /^[A-Z]/.test(tok) ? translated.charAt(0).toUpperCase() + translated.slice(1) : translated;
  });
  return { text: out.join(''), coverage: total ? Math.round((known / total) * 100) / 100 : 1 };
}

export function engagementTools(env: ToolEnv) {
  const { biz } = env;

  const sendEmail = defineTool({
    name: 'send_email',
    description:
      'Send an email message to a customer address (queued in the outbox), e.g. a confirmation or follow-up.',
    input: z.object({
      to: z.string().email().describe('Recipient email address'),
      subject: z.string().max(150).optional().describe('Email subject line'),
      body: z.string().min(3).describe('The message text'),
    }),
    risk: 'customer-impacting',
    idempotent: false,
    retry: WRITE_RETRY,
    domain: 'engagement',
    progress: (args) => `Sending an email to ${args.to}`,
    examples: [
      'Email jane.cooper@example.com saying "Your replacement ships today"',
      'Send a follow-up email to the customer',
      'Notify omar.haddad@example.com that the refund was issued',
    ],
    reconcile: reconcileFrom(biz),
    run: ({ to, subject, body }, ctx) =>
      once(biz, 'send_email', ctx, async (tx) => {
        const id = await nextId(tx, 'outbox', 'EML', 5);
        const line = subject ?? (body.length > 60 ? `${body.slice(0, 57)}...` : body);
        await tx.run(
          "INSERT INTO outbox (id, to_address, subject, body, status, created_at, idempotency_key) VALUES (?,?,?,?,'queued',?,?)",
          id,
          to.toLowerCase(),
          line,
          body,
          biz.now().toISOString(),
          ctx.idempotencyKey,
        );
        return {
          emailId: id,
          to: to.toLowerCase(),
          subject: line,
          summary: `Email ${id} to ${to.toLowerCase()} queued: "${line}".`,
        };
      }),
  });

  const scheduleMeeting = defineTool({
    name: 'schedule_meeting',
    description:
      'Schedule a call or appointment with a customer representative: books the first free calendar slot on a date, at or after an optional time.',
    input: z.object({
      customer: customerRef(),
      date: z.string().regex(ISO_DATE).describe('Day of the meeting, YYYY-MM-DD'),
      time: z
        .string()
        .regex(/^\d{2}:\d{2}$/)
        .optional()
        .describe('Earliest start time, HH:MM (24h)'),
      topic: z.string().max(200).optional().describe('What the call is about'),
    }),
    risk: 'write',
    idempotent: false,
    retry: WRITE_RETRY,
    domain: 'engagement',
    progress: (args) => `Booking a call on ${args.date}`,
    examples: [
      'Book a call for CUS-0042 on 2025-06-04 at 14:00',
      'Schedule an appointment with a representative for jane.cooper@example.com on 2025-06-05',
    ],
    reconcile: reconcileFrom(biz),
    run: ({ customer, date, time, topic }, ctx) =>
      once(biz, 'schedule_meeting', ctx, async (tx) => {
        const row = await findCustomer(tx, customer);
        const from = `${date}T${time ?? '00:00'}:00.000Z`;
        const slot = await tx.get<{ id: string; starts_at: string; representative: string }>(
          "SELECT id, starts_at, representative FROM calendar_slots WHERE status = 'free' AND starts_at >= ? AND starts_at < ? ORDER BY starts_at, id LIMIT 1",
          from,
          `${date}T23:59:59.999Z`,
        );
        if (!slot)
          throw new ToolError(`no free slot on ${date}${time ? ` after ${time}` : ''}`, { retryable: false });
        await tx.run(
          "UPDATE calendar_slots SET status = 'booked', customer_id = ?, topic = ?, idempotency_key = ? WHERE id = ?",
          row.id,
          topic ?? 'customer call',
          ctx.idempotencyKey,
          slot.id,
        );
        const when = `${slot.starts_at.slice(0, 10)} at ${slot.starts_at.slice(11, 16)}`;
        return {
          slotId: slot.id,
          customerId: row.id,
          startsAt: slot.starts_at,
          representative: slot.representative,
          summary: `Booked ${slot.id} for ${row.id} on ${when} UTC with ${slot.representative}.`,
        };
      }),
  });

  const collectFeedback = defineTool({
    name: 'collect_feedback',
    description: 'Record customer feedback: a 1-5 star rating and an optional comment, with its sentiment.',
    input: z.object({
      customer: customerRef(),
      rating: z.number().int().min(1).max(5).describe('Rating from 1 to 5 stars'),
      comment: z.string().max(1000).optional().describe('What the customer said'),
    }),
    risk: 'write',
    idempotent: false,
    retry: WRITE_RETRY,
    domain: 'engagement',
    progress: 'Recording your feedback',
    examples: [
      'CUS-0042 rates us 5 stars: "Fast delivery, great kettle"',
      'Leave feedback for jane.cooper@example.com: 2 out of 5, "support was slow"',
    ],
    reconcile: reconcileFrom(biz),
    run: ({ customer, rating, comment }, ctx) =>
      once(biz, 'collect_feedback', ctx, async (tx) => {
        const row = await findCustomer(tx, customer);
        const sentiment = scoreSentiment(comment ?? '').label;
        const id = await nextId(tx, 'feedback', 'FB', 5);
        await tx.run(
          'INSERT INTO feedback (id, customer_id, rating, comment, sentiment, created_at, idempotency_key) VALUES (?,?,?,?,?,?,?)',
          id,
          row.id,
          rating,
          comment ?? '',
          sentiment,
          biz.now().toISOString(),
          ctx.idempotencyKey,
        );
        return {
          feedbackId: id,
          customerId: row.id,
          rating,
          sentiment,
          summary: `Thanks! Feedback ${id} recorded for ${row.id}: ${rating}/5 (${sentiment}).`,
        };
      }),
  });

  const analyzeSentiment = defineTool({
    name: 'analyze_sentiment',
    description:
      'Analyze the sentiment (positive, neutral or negative mood) of a customer message. A small deterministic lexicon scorer, not a trained model.',
    input: z.object({ text: z.string().min(1).describe('The message to analyse') }),
    risk: 'read',
    idempotent: true,
    retry: READ_RETRY,
    domain: 'engagement',
    progress: 'Reading the tone of the message',
    examples: [
      'What is the sentiment of "the parcel was late and the box was damaged"?',
      'Is this review positive or negative?',
    ],
    run: ({ text }) => {
      const { score, label } = scoreSentiment(text);
      return { sentiment: label, score, summary: `The message reads as ${label} (score ${score}).` };
    },
  });

  const translateText = defineTool({
    name: 'translate_text',
    description:
      'Translate a message between English and Spanish, French or German. A small deterministic glossary translator (word by word), not a neural model.',
    input: z.object({
      text: z.string().min(1).describe('Text to translate'),
      targetLanguage: z.enum(LANGUAGES).describe('Language to translate into'),
    }),
    risk: 'read',
    idempotent: true,
    retry: READ_RETRY,
    domain: 'engagement',
    progress: (args) => `Translating into ${args.targetLanguage}`,
    examples: [
      'Translate "your refund has been processed" into spanish',
      'Translate "merci pour votre commande" to english',
    ],
    run: ({ text, targetLanguage }) => {
      const out = translate(text, targetLanguage);
      return {
        translation: out.text,
        targetLanguage,
        coverage: out.coverage,
        summary: `In ${targetLanguage}: "${out.text}"${out.coverage < 1 ? ` (glossary covers ${Math.round(out.coverage * 100)}% of the words)` : ''}.`,
      };
    },
  });

  return { sendEmail, scheduleMeeting, collectFeedback, analyzeSentiment, translateText };
}
