/**
 * Server-sent events for one run: every journal event after `after` (id = seq, so a reconnecting
 * EventSource resumes with Last-Event-ID), heartbeats while the run is silent, and an end once the
 * run is over. The stream's queue is bounded: a client that stops reading is cut off.
 */
import type { Principal } from './auth.ts';
import type { Edge } from './context.ts';
import type { Subscription } from '../store/feed.ts';

const encoder = new TextEncoder();

/** An SSE response following `runId` (the caller has checked `principal` may see it). */
export function sseResponse(
  edge: Edge,
  principal: Principal,
  runId: string,
  after: number,
  signal: AbortSignal,
  endedAt?: number,
): Response {
  // The stream holds one of the key's connection slots, shared with its WebSockets: 429 when none is free.
  const slot = edge.connections.open(
    principal.keyId,
    edge.usage.plan(principal.plan).maxConnections,
    principal.expiresAt,
  );
  let sub: Subscription | null = null;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    slot.release();
    edge.emit('sse-close', { runId, actorId: principal.actorId });
  };
  let done = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const finish = (): void => {
          if (done) return;
          done = true;
          sub?.close();
          release();
          try {
            controller.close();
          } catch {
            // already closed by the client going away
          }
        };
        const write = (chunk: string): void => {
          if (done) return;
          // desiredSize goes negative by the bytes queued beyond the high-water mark.
          if ((controller.desiredSize ?? 0) < -edge.limits.sendBufferBytes) {
            edge.emit('slow-consumer', { transport: 'sse', runId, actorId: principal.actorId });
            finish();
            return;
          }
          controller.enqueue(encoder.encode(chunk));
        };
        write('retry: 2000\n\n');
        slot.bind((code, reason) => {
          write(`event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`);
          finish();
        });
        edge.emit('sse-open', { runId, actorId: principal.actorId });
        signal.addEventListener('abort', finish, { once: true });
        sub = edge.feed.subscribe(
          runId,
          after,
          {
            event: (e) => write(`id: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`),
            heartbeat: (h) => write(`event: heartbeat\ndata: ${JSON.stringify(h)}\n\n`),
            end: (error) => {
              write(
                `event: end\ndata: ${JSON.stringify({ runId, ...(error ? { error: 'feed failed' } : {}) })}\n\n`,
              );
              finish();
            },
          },
          endedAt,
        );
      },
      cancel() {
        done = true;
        sub?.close();
        release();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
  );
  return new Response(stream, {
    status: 200,
    headers: {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    },
  });
}
