/**
 * What a WebSocket client may send: the actions, and how one raw message becomes an action or a
 * refusal. Pure: the session (ws.ts) meters, counts abuse and handles.
 */
import type { RawData } from 'ws';
import { z } from 'zod';
import { describeIssue } from './schemas.ts';
import { MAX_ID_CHARS, MAX_INPUT_CHARS } from '../core/limits.ts';

// Ids reach the store: no NUL, which PostgreSQL cannot look up (see PathId in schemas.ts).
const text = z
  .string()
  .min(1)
  .max(MAX_ID_CHARS)
  .refine((v) => !v.includes('\u0000'), 'must not contain NUL');
const replyId = z.union([z.string().max(MAX_ID_CHARS), z.number()]).optional();

/** Inbound messages, selected on `action`. */
export const WsActions = {
  sendMessage: z.strictObject({
    action: z.literal('sendMessage'),
    id: replyId,
    sessionId: text,
    text: z.string().min(1).max(MAX_INPUT_CHARS),
    clientMessageId: text.optional(),
    agent: text.optional(),
  }),
  subscribe: z
    .strictObject({
      action: z.literal('subscribe'),
      id: replyId,
      runId: text.optional(),
      sessionId: text.optional(),
      after: z.number().int().min(0).optional(),
    })
    .refine((m) => (m.runId === undefined) !== (m.sessionId === undefined), {
      message: 'give exactly one of runId and sessionId',
      path: ['runId'],
    }),
  unsubscribe: z
    .strictObject({
      action: z.literal('unsubscribe'),
      id: replyId,
      runId: text.optional(),
      sessionId: text.optional(),
    })
    .refine((m) => (m.runId === undefined) !== (m.sessionId === undefined), {
      message: 'give exactly one of runId and sessionId',
      path: ['runId'],
    }),
  ping: z.strictObject({ action: z.literal('ping'), id: replyId }),
};

export type WsAction = z.output<(typeof WsActions)[keyof typeof WsActions]>;

/** A message read: the action, or why it was refused (`abuse`: it counts toward `limits.maxAbuse`). */
export type Intake =
  | { ok: true; action: WsAction; id: { id?: string | number } }
  | {
      ok: false;
      code: string;
      message: string;
      id: { id?: string | number };
      extra?: Record<string, unknown>;
    };

/**
 * Read one client message. Every refusal — binary, not JSON, not an object, an unknown action, an
 * action whose fields do not fit — is the client's fault and counts toward the malformed limit.
 */
export function readMessage(data: RawData, isBinary: boolean): Intake {
  const none = {};
  if (isBinary)
    return { ok: false, code: 'binary_not_supported', message: 'send JSON text messages', id: none };
  let msg: unknown;
  try {
    msg = JSON.parse(
      Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'),
    );
  } catch {
    return { ok: false, code: 'malformed_json', message: 'message is not valid JSON', id: none };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
    return {
      ok: false,
      code: 'malformed_message',
      message: 'message must be a JSON object with an action',
      id: none,
    };
  const rid = (msg as { id?: unknown }).id;
  const id = typeof rid === 'string' || typeof rid === 'number' ? { id: rid } : {};
  const action = (msg as { action?: unknown }).action;
  const schema =
    typeof action === 'string' && Object.hasOwn(WsActions, action)
      ? WsActions[action as keyof typeof WsActions]
      : null;
  if (!schema) {
    const shown = JSON.stringify(action ?? null);
    return {
      ok: false,
      code: 'unknown_action',
      message: `unknown action ${shown.length > 60 ? shown.slice(0, 60) + '…' : shown}; use sendMessage, subscribe, unsubscribe or ping`,
      id,
    };
  }
  const parsed = schema.safeParse(msg);
  if (!parsed.success) {
    const { field, message } = describeIssue(parsed.error);
    return { ok: false, code: 'bad_request', message: `${field}: ${message}`, id, extra: { field } };
  }
  return { ok: true, action: parsed.data, id };
}
