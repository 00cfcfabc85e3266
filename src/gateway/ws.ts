/**
 * The WebSocket API (`/v1/ws`) on the `ws` package in `noServer` mode: authentication at the
 * upgrade, route selection on each message's `action`, and limits in line with managed gateways
 * (frame ≤ 32 KB and message ≤ 128 KB → 1009, invalid UTF-8 → 1007, repeated malformed input →
 * 1008, idle → 1001, a bounded send buffer → 1013 for a slow consumer).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { TERMINAL_STATUSES } from '../core/run-state.ts';
import { sessionKey } from '../core/ids.ts';
import { Authenticator, type Principal } from './auth.ts';
import type { Slot } from './connections.ts';
import { charge, visibleRun, type Edge } from './context.ts';
import { HttpError, mapError } from './errors.ts';
import type { Subscription } from '../store/feed.ts';
import { ipFilter, type IpRules } from './net.ts';
import { readMessage, type WsAction } from './ws-messages.ts';

export { WsActions } from './ws-messages.ts';

export interface WsOptions {
  cors?: { origins: string[] };
  ip?: IpRules;
}

/** Close codes (RFC 6455 and the IANA registry). */
export const CLOSE = {
  goingAway: 1001,
  invalidPayload: 1007,
  policy: 1008,
  tooBig: 1009,
  tryAgainLater: 1013,
} as const;

/**
 * Watch raw client frames and call `tooLarge` on the first data frame whose payload exceeds
 * `max` bytes — before its payload is buffered. (`ws`'s `maxPayload` bounds whole messages.)
 */
export function frameGuard(max: number, tooLarge: () => void): (chunk: Buffer) => void {
  let header = Buffer.alloc(0);
  let skip = 0;
  let off = false;
  const need = (h: Buffer): number => {
    if (h.length < 2) return 2;
    const len7 = h[1]! & 0x7f;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (h[1]! & 0x80 ? 4 : 0);
  };
  return (chunk) => {
    let i = 0;
    while (!off && i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      let want = need(header);
      while (header.length < want && i < chunk.length) {
        const n = Math.min(want - header.length, chunk.length - i);
        header = Buffer.concat([header, chunk.subarray(i, i + n)]);
        i += n;
        want = need(header);
      }
      if (header.length < want) return;
      const len7 = header[1]! & 0x7f;
      const len =
        len7 === 126 ? header.readUInt16BE(2) : len7 === 127 ? Number(header.readBigUInt64BE(2)) : len7;
      const opcode = header[0]! & 0x0f;
      header = Buffer.alloc(0);
      if (opcode < 8 && len > max) {
        off = true;
        tooLarge();
        return;
      }
      skip = len;
    }
  };
}

type Frame = Record<string, unknown> & { type: string };

/** Messages of one connection waiting to be handled before its socket is paused. */
const MAX_PENDING = 32;

/** One client connection. */
class WsSession {
  readonly subs = new Map<string, Subscription>();
  /** Answer-delta subscriptions per followed run. */
  readonly deltaStops = new Map<string, () => void>();
  readonly sessions = new Set<string>();
  lastMessageAt: number;
  #abuse = 0;
  #pending = 0;
  #refused = { until: 0, code: '', message: '' };
  #closing = false;
  #chain: Promise<void> = Promise.resolve();
  #maxBuffered = 0;

  readonly edge: Edge;
  readonly ws: WebSocket;
  readonly principal: Principal;
  readonly server: WsGateway;

  constructor(edge: Edge, ws: WebSocket, principal: Principal, server: WsGateway) {
    this.edge = edge;
    this.ws = ws;
    this.principal = principal;
    this.server = server;
    this.lastMessageAt = Date.now();
  }

  get maxBuffered(): number {
    return this.#maxBuffered;
  }

  send(frame: Frame): void {
    if (this.#closing || this.ws.readyState !== WebSocket.OPEN) return;
    const buffered = this.ws.bufferedAmount;
    this.#maxBuffered = Math.max(this.#maxBuffered, buffered);
    if (buffered > this.edge.limits.sendBufferBytes) {
      this.edge.emit('slow-consumer', {
        transport: 'ws',
        actorId: this.principal.actorId,
        bufferedAmount: buffered,
      });
      this.close(CLOSE.tryAgainLater, 'slow consumer');
      return;
    }
    this.ws.send(JSON.stringify(frame));
  }

  close(code: number, reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.release();
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close(code, reason);
    // A peer that never answers the close handshake does not hold resources for long.
    setTimeout(() => this.ws.terminate(), 5000).unref();
  }

  /** Drop every subscription (on close). */
  release(): void {
    for (const s of this.subs.values()) s.close();
    this.subs.clear();
    for (const stop of this.deltaStops.values()) stop();
    this.deltaStops.clear();
    for (const key of this.sessions) this.server.unwatchSession(key, this);
    this.sessions.clear();
  }

  error(code: string, message: string, extra: Record<string, unknown> = {}): void {
    this.send({ type: 'error', code, message, ...extra });
  }

  abused(code: string, message: string, extra: Record<string, unknown> = {}): void {
    this.#abuse++;
    this.error(code, message, extra);
    if (this.#abuse >= this.edge.limits.maxAbuse) this.close(CLOSE.policy, 'too many malformed messages');
  }

  /**
   * Every message draws from the key's plan, whatever it holds: a flood of pings, subscribes or
   * garbage is rate-limited like a flood of requests. Malformed and unknown messages also count
   * toward the malformed limit. One message at a time per connection, in the order sent (a
   * session's messages are submitted FIFO); a client far ahead of its answers is paused.
   */
  onMessage(data: RawData, isBinary: boolean): void {
    if (this.#closing) return;
    this.lastMessageAt = Date.now();
    const intake = readMessage(data, isBinary);
    if (++this.#pending >= MAX_PENDING) this.ws.pause();
    this.#chain = this.#chain
      .then(async () => {
        if (this.#closing) return;
        const admitted = await this.#admit(intake.id);
        // Refused by the plan or not, a malformed message counts toward the malformed limit.
        if (!intake.ok) return this.abused(intake.code, intake.message, { ...intake.id, ...intake.extra });
        if (admitted) await this.handle(intake.action);
      })
      .catch((error: unknown) => {
        const m = mapError(error, this.edge.onError);
        this.error(m.body.error.code, m.body.error.message, {
          ...intake.id,
          ...(m.body.error.details ?? {}),
        });
      })
      .finally(() => {
        if (--this.#pending === MAX_PENDING - 1 && !this.#closing) this.ws.resume();
      });
  }

  /**
   * Charge one message to the plan; false (and a `rate_limited` / `quota_exceeded` frame) when over.
   * Once refused, messages until Retry-After are refused here without asking the counters again.
   */
  async #admit(id: { id?: string | number }): Promise<boolean> {
    const now = Date.now();
    if (now < this.#refused.until) {
      const retryAfter = Math.max(1, Math.ceil((this.#refused.until - now) / 1000));
      this.error(this.#refused.code, this.#refused.message, { ...id, retryAfter });
      return false;
    }
    try {
      await charge(this.edge, this.principal);
      return true;
    } catch (error) {
      if (!(error instanceof HttpError) || error.status !== 429) throw error;
      const retryAfter = Number(error.details?.retryAfter ?? 1);
      this.#refused = { until: now + retryAfter * 1000, code: error.code, message: error.message };
      this.error(error.code, error.message, { ...id, retryAfter });
      return false;
    }
  }

  /** Room for one more followed run or watched session (`limits.maxSubscriptions`). */
  hasRoom(): boolean {
    return this.subs.size + this.sessions.size < this.edge.limits.maxSubscriptions;
  }

  #tooMany(id: { id?: string | number }, extra: Record<string, unknown>): void {
    const max = this.edge.limits.maxSubscriptions;
    this.error('too_many_subscriptions', `at most ${max} subscriptions per connection`, {
      ...id,
      ...extra,
      limit: max,
    });
  }

  async handle(m: WsAction): Promise<void> {
    const id = m.id !== undefined ? { id: m.id } : {};
    const p = this.principal;
    switch (m.action) {
      case 'ping':
        return this.send({ type: 'pong', ...id, at: Date.now() });
      case 'sendMessage': {
        const r = await this.edge.system.submit({
          actorId: p.actorId,
          sessionId: m.sessionId,
          input: m.text,
          channel: 'websocket',
          role: p.role,
          ...(m.clientMessageId !== undefined ? { clientMessageId: m.clientMessageId } : {}),
          ...(m.agent !== undefined ? { agent: m.agent } : {}),
        });
        this.send({
          type: 'accepted',
          ...id,
          runId: r.runId,
          status: r.status,
          deduplicated: r.deduplicated,
          ...(m.clientMessageId !== undefined ? { clientMessageId: m.clientMessageId } : {}),
        });
        if (this.subs.has(r.runId)) return;
        if (this.hasRoom()) await this.follow(r.runId, 0);
        else this.#tooMany(id, { runId: r.runId });
        return;
      }
      case 'subscribe': {
        if (m.runId !== undefined) {
          if (!this.subs.has(m.runId) && !this.hasRoom()) return this.#tooMany(id, { runId: m.runId });
          await this.follow(m.runId, m.after ?? 0);
          return this.send({ type: 'subscribed', ...id, runId: m.runId, after: m.after ?? 0 });
        }
        const sessionId = m.sessionId!;
        const key = sessionKey(p.actorId, sessionId);
        if (!this.sessions.has(key) && !this.hasRoom()) return this.#tooMany(id, { sessionId });
        this.sessions.add(key);
        this.server.watchSession(key, this);
        const rows = await this.edge.system.list({ actorId: p.actorId, sessionId, limit: 200 });
        const active = rows.filter((r) => !TERMINAL_STATUSES.has(r.status)).map((r) => r.runId);
        for (const runId of active) if (!this.subs.has(runId) && this.hasRoom()) await this.follow(runId, 0);
        return this.send({ type: 'subscribed', ...id, sessionId, runs: active });
      }
      case 'unsubscribe': {
        if (m.runId !== undefined) {
          this.subs.get(m.runId)?.close();
          this.subs.delete(m.runId);
        } else {
          const key = sessionKey(p.actorId, m.sessionId!);
          this.sessions.delete(key);
          this.server.unwatchSession(key, this);
        }
        return this.send({
          type: 'unsubscribed',
          ...id,
          ...(m.runId !== undefined ? { runId: m.runId } : { sessionId: m.sessionId }),
        });
      }
    }
  }

  /** Stream `runId`'s events after `after` (a repeated subscribe restarts from the new point). */
  async follow(runId: string, after: number): Promise<void> {
    const row = await visibleRun(this.edge, this.principal, runId);
    this.subs.get(runId)?.close();
    this.deltaStops.get(runId)?.();
    // Live only (the journal keeps the final text): every step's text, and the answer (runtime/deltas.ts).
    const stopDeltas = this.edge.system.onLiveText(runId, (d) =>
      this.send(
        d.kind === 'answer'
          ? { type: 'answer.delta', runId, text: d.text }
          : { type: 'model.text.delta', runId, step: d.step, text: d.text },
      ),
    );
    this.deltaStops.set(runId, stopDeltas);
    const sub = this.edge.feed.subscribe(
      runId,
      after,
      {
        event: (e) => this.send({ type: 'event', runId, seq: e.seq, event: e }),
        heartbeat: (h) => this.send({ type: 'heartbeat', ...h }),
        end: (error) => {
          stopDeltas();
          if (this.deltaStops.get(runId) === stopDeltas) this.deltaStops.delete(runId);
          if (this.subs.get(runId) === sub) this.subs.delete(runId);
          if (error) this.error('feed_failed', `event feed of ${runId} failed`, { runId });
          else this.send({ type: 'end', runId });
        },
      },
      TERMINAL_STATUSES.has(row.status) ? row.lastSeq : undefined,
    );
    this.subs.set(runId, sub);
  }
}

/** The `/v1/ws` endpoint: upgrades, sessions, idle sweep. */
export class WsGateway {
  readonly #edge: Edge;
  readonly #wss: WebSocketServer;
  readonly #sessions = new Set<WsSession>();
  readonly #bySession = new Map<string, Set<WsSession>>();
  readonly #allowed: (address: string | undefined) => boolean;
  readonly #origins: Set<string> | null;
  readonly #idleTimer: NodeJS.Timeout;
  readonly #unlisten: () => void;

  constructor(edge: Edge, options: WsOptions = {}) {
    this.#edge = edge;
    this.#allowed = ipFilter(options.ip, 'ip.public');
    this.#origins = options.cors ? new Set(options.cors.origins) : null;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: edge.limits.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.#idleTimer = setInterval(
      () => this.#sweepIdle(),
      Math.min(30_000, Math.max(50, edge.limits.idleMs / 4)),
    );
    this.#idleTimer.unref();
    // New runs of a watched session are followed by every connection watching it.
    this.#unlisten = edge.feed.onSubmitted((e) => {
      if (e.data.parentRunId) return;
      const watchers = this.#bySession.get(sessionKey(e.data.actorId, e.data.sessionId));
      for (const s of watchers ?? []) {
        if (!s.subs.has(e.runId) && s.hasRoom())
          s.follow(e.runId, 0).catch((error: unknown) => edge.onError(error));
      }
    });
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Largest send buffer seen on any open connection (bounded-memory evidence). */
  maxBuffered(): number {
    let n = 0;
    for (const s of this.#sessions) n = Math.max(n, s.maxBuffered);
    return n;
  }

  watchSession(key: string, s: WsSession): void {
    let set = this.#bySession.get(key);
    if (!set) this.#bySession.set(key, (set = new Set()));
    set.add(s);
  }

  unwatchSession(key: string, s: WsSession): void {
    const set = this.#bySession.get(key);
    set?.delete(s);
    if (set?.size === 0) this.#bySession.delete(key);
  }

  /** Handle an HTTP upgrade for `/v1/ws`: refuse with an HTTP status, or open a session. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const edge = this.#edge;
    let principal: Principal;
    let slot: Slot;
    try {
      if (!this.#allowed(req.socket.remoteAddress))
        throw new HttpError(403, 'forbidden', 'address not allowed');
      const origin = req.headers.origin;
      if (origin && this.#origins && !this.#origins.has('*') && !this.#origins.has(origin))
        throw new HttpError(403, 'forbidden', 'origin not allowed');
      const url = new URL(req.url ?? '/', 'http://localhost');
      const ticket = url.searchParams.get('ticket');
      const address = req.socket.remoteAddress;
      principal = ticket
        ? await edge.auth.redeemTicket(ticket, address)
        : await edge.auth.authenticate(
            Authenticator.keyFrom(req.headers.authorization, headerValue(req.headers['x-api-key'])),
            address,
          );
      // The slot is taken before the handshake, so concurrent upgrades never pass the cap together.
      slot = edge.connections.open(
        principal.keyId,
        edge.usage.plan(principal.plan).maxConnections,
        principal.expiresAt,
      );
    } catch (error) {
      return refuse(socket, mapError(error, edge.onError));
    }
    if (socket.destroyed) return slot.release();
    const taken = slot;
    let opened = false;
    // A handshake that fails (ws answers 400 and drops the socket) gives its slot back.
    socket.once('close', () => {
      if (!opened) taken.release();
    });
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      opened = true;
      this.#open(ws, principal, socket, taken);
    });
  }

  #open(ws: WebSocket, principal: Principal, socket: Duplex, slot: Slot): void {
    const edge = this.#edge;
    const session = new WsSession(edge, ws, principal, this);
    this.#sessions.add(session);
    slot.bind((code, reason) => session.close(code, reason));
    const forget = (): void => slot.release();
    // Sees each chunk before ws parses it: an oversized frame is refused before it is buffered.
    socket.prependListener(
      'data',
      frameGuard(edge.limits.maxFrameBytes, () => session.close(CLOSE.tooBig, 'frame too large')),
    );
    ws.on('message', (data, isBinary) => session.onMessage(data, isBinary));
    // ws closes 1009 (message too big) and 1007 (invalid UTF-8) itself and reports it here.
    ws.on('error', () => {});
    ws.on('close', () => {
      session.release();
      this.#sessions.delete(session);
      forget();
      edge.emit('ws-close', { actorId: principal.actorId });
    });
    edge.emit('ws-open', { actorId: principal.actorId });
  }

  #sweepIdle(): void {
    const cutoff = Date.now() - this.#edge.limits.idleMs;
    for (const s of this.#sessions) if (s.lastMessageAt < cutoff) s.close(CLOSE.goingAway, 'idle timeout');
  }

  close(): void {
    clearInterval(this.#idleTimer);
    this.#unlisten();
    for (const s of this.#sessions) s.close(CLOSE.goingAway, 'server shutting down');
    this.#wss.close();
  }
}

const headerValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

/** Answer a refused upgrade with a plain HTTP response and drop the socket. */
function refuse(socket: Duplex, m: ReturnType<typeof mapError>): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(m.body);
  const headers = Object.entries({
    ...m.headers,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
  })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${m.status} ${REASONS[m.status] ?? 'Error'}\r\n${headers}\r\n${body}`);
}
