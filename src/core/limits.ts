/**
 * Size limits that more than one entry point enforces, declared once: the HTTP and WebSocket
 * schemas, batch-file parsing, webhooks and `system.submit` must agree, or a request accepted at
 * one door is refused at the next. Lengths are in UTF-16 code units (JavaScript string length).
 */

/** A run's input: what the user asks (HTTP submit, WebSocket `sendMessage`, a batch record, a webhook's rendering). */
export const MAX_INPUT_CHARS = 100_000;

/** An id a store looks up: session, client message, run, approval, key, batch record, webhook event, actor. */
export const MAX_ID_CHARS = 200;

/** An agent's name (and a version or alias label in a path or query). */
export const MAX_NAME_CHARS = 100;

/** A caller-wide idempotency key (batch record, schedule slot, webhook event). */
export const MAX_IDEMPOTENCY_KEY_CHARS = 1_000;

/** Default body limit of `POST /v1/batches` (`batch.maxBodyBytes`): 32 MiB. */
export const BATCH_BODY_BYTES = 32 * 1024 * 1024;
