/**
 * Signed webhooks: `POST /v1/hooks/:name`. The signature is the authentication (no API key), in
 * the Standard Webhooks (Svix) scheme: `webhook-id`, `webhook-timestamp` (Unix seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256>` over `<id>.<timestamp>.<raw body>` (or Stripe's
 * `<timestamp>.<raw body>`, base64 or hex). Nothing is
 * stored or run before the signature verifies; the event id makes redeliveries return the first
 * run. docs/webhooks.md is the contract.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { ConfigError } from '../core/errors.ts';
import type { System } from '../system.ts';
import type { GatewayEnv } from './context.ts';
import { HttpError, notFound } from './errors.ts';
import { renderTemplate } from './hook-template.ts';
import type { WebhookConfig } from './inbound-config.ts';
import { MAX_ID_CHARS } from '../core/limits.ts';

export type { WebhookConfig } from './inbound-config.ts';

/** The headers of the scheme (the event id header is the hook's `idempotencyHeader`). */
export const HOOK_HEADERS = { timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;

/** Why a delivery was refused (the `code` of its 401). */
export type SignatureFailure = 'signature_missing' | 'signature_stale' | 'signature_invalid';

/** The HMAC key of a secret: `whsec_<base64>` (Svix / Standard Webhooks) is decoded, anything else is UTF-8. */
export const secretKey = (secret: string): Buffer =>
  secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');

/**
 * The `v1,<base64>` signature of a delivery, as a sender computes it.
 * @example
 * const sig = signWebhook(secret, 'evt_1', Math.floor(Date.now() / 1000), body);
 */
export function signWebhook(
  secret: string,
  id: string,
  timestamp: number,
  body: string | Uint8Array,
): string {
  const mac = createHmac('sha256', secretKey(secret));
  mac.update(`${id}.${timestamp}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

/** The HMAC of `<timestamp>.<raw body>` alone (Stripe's signed content, without the event id). */
function timestampMac(secret: string, timestamp: number, body: Uint8Array): Buffer {
  return createHmac('sha256', secretKey(secret)).update(`${timestamp}.`).update(body).digest();
}

/** A `v1,` signature's bytes: base64 (Standard Webhooks) or 64 hex digits (Stripe's encoding). */
const signatureBytes = (s: string): Buffer =>
  /^[0-9a-f]{64}$/i.test(s) ? Buffer.from(s, 'hex') : Buffer.from(s, 'base64');

/**
 * Check a delivery's headers and raw body against `secrets` (any one verifying is enough, so a
 * rotation can list the new secret beside the old). Returns null when it verifies, else why not.
 * Two signed contents verify: `<id>.<timestamp>.<body>` (Standard Webhooks, recommended: the id is
 * covered) and `<timestamp>.<body>` (Stripe's; docs/webhooks.md says what it leaves uncovered).
 * Every comparison is constant-time; the timestamp is checked before any HMAC is computed.
 */
export function verifyDelivery(
  secrets: readonly string[],
  delivery: { id: string | undefined; timestamp: string | undefined; signature: string | undefined },
  body: Uint8Array,
  options: { toleranceSec: number; nowMs: number },
): SignatureFailure | null {
  const { id, timestamp, signature } = delivery;
  if (!id || !timestamp || !signature) return 'signature_missing';
  if (!/^\d{1,12}$/.test(timestamp)) return 'signature_invalid';
  // Stale or from the future: a captured delivery cannot be replayed outside the window.
  if (Math.abs(options.nowMs / 1000 - Number(timestamp)) > options.toleranceSec) return 'signature_stale';
  const offered = signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => signatureBytes(s.slice(3)));
  for (const secret of secrets) {
    const expected = [
      Buffer.from(signWebhook(secret, id, Number(timestamp), body).slice(3), 'base64'),
      timestampMac(secret, Number(timestamp), body),
    ];
    for (const e of expected)
      for (const o of offered) if (o.length === e.length && timingSafeEqual(o, e)) return null;
  }
  return 'signature_invalid';
}

const messageOf = (failure: SignatureFailure, hook: WebhookConfig): string =>
  failure === 'signature_missing'
    ? `${hook.idempotencyHeader}, ${HOOK_HEADERS.timestamp} and ${HOOK_HEADERS.signature} headers are required`
    : failure === 'signature_stale'
      ? `webhook timestamp is more than ${hook.toleranceSec} s from now`
      : 'no webhook signature matches';

/** The configured hooks by name; a ConfigError for a hook naming an agent the system lacks. */
export function hookTable(system: System, hooks: readonly WebhookConfig[]): Map<string, WebhookConfig> {
  const table = new Map<string, WebhookConfig>();
  for (const [i, h] of hooks.entries()) {
    if (h.agent !== undefined && !system.agents.has(h.agent))
      throw new ConfigError(`webhooks[${i}].agent`, `unknown agent "${h.agent}"`);
    table.set(h.name, h);
  }
  return table;
}

/**
 * Handle one delivery: 404 for an unknown hook, 413 above its body limit, 401 for a missing,
 * stale or wrong signature, 400 for a body that is not JSON; else submit (once per event id)
 * and answer 202 `{ runId, status, deduplicated }` without waiting for the run.
 */
export async function receiveHook(
  system: System,
  table: ReadonlyMap<string, WebhookConfig>,
  c: Context<GatewayEnv>,
  gatewayMaxBytes: number,
): Promise<Response> {
  const name = c.req.param('name') ?? '';
  const hook = table.get(name);
  if (!hook) throw notFound(`webhook ${name.slice(0, 64)}`);
  const max = Math.min(hook.maxBodyBytes ?? gatewayMaxBytes, gatewayMaxBytes);
  const body = new Uint8Array(await c.req.arrayBuffer());
  if (body.byteLength > max)
    throw new HttpError(413, 'payload_too_large', `request body is larger than ${max} bytes`);
  const id = c.req.header(hook.idempotencyHeader);
  const failure = verifyDelivery(
    hook.secrets,
    {
      id,
      timestamp: c.req.header(HOOK_HEADERS.timestamp),
      signature: c.req.header(HOOK_HEADERS.signature),
    },
    body,
    { toleranceSec: hook.toleranceSec, nowMs: Date.now() },
  );
  if (failure) throw new HttpError(401, failure, messageOf(failure, hook));
  const eventId = id!;
  if (eventId.length > MAX_ID_CHARS)
    throw new HttpError(400, 'bad_request', `${hook.idempotencyHeader}: too long`);
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as unknown;
  } catch {
    throw new HttpError(400, 'invalid_json', 'webhook body is not valid JSON', {
      details: { field: 'body' },
    });
  }
  const input = renderTemplate(hook.input, payload);
  if (input.trim() === '')
    throw new HttpError(400, 'bad_request', `webhook ${hook.name}: the input template rendered empty`);
  const session = hook.session ? renderTemplate(hook.session, payload).slice(0, MAX_ID_CHARS) : '';
  // The event id is the idempotency key: a redelivery (even to another process) gets the first run.
  const r = await system.submit({
    actorId: hook.actor,
    sessionId: session.trim() === '' ? `hook:${hook.name}:${eventId}` : session,
    input,
    channel: 'webhook',
    role: 'user',
    idempotencyKey: `hook:${hook.name}:${eventId}`,
    metadata: { hook: hook.name, eventId },
    ...(hook.agent !== undefined ? { agent: hook.agent } : {}),
  });
  return c.json({ runId: r.runId, status: r.status, deduplicated: r.deduplicated }, 202);
}
