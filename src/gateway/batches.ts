/**
 * Batches over HTTP: `POST /v1/batches` (a JSONL body), `GET /v1/batches`, `GET /v1/batches/:id`,
 * `GET /v1/batches/:id/results` (streamed JSONL) and `POST /v1/batches/:id/cancel`. Owner-scoped
 * like runs: a batch is its submitter's (its runs are submitted as that actor); operators and
 * admins see and cancel everyone's; anyone else gets 404, never 403.
 *
 * The gateway process that accepts a batch drives it (batch/driver.ts). A batch found `running`
 * with no driver in this process — the process that drove it stopped or crashed — is picked up
 * again when a gateway starts ({@link resumeBatchDrivers}) and when it is next read, listed or
 * posted: the driver resumes from the store, and the submit idempotency key keeps every record to
 * one run whichever process drives it.
 */
import type { Context } from 'hono';
import {
  BATCH_DEFAULTS,
  cancelBatch,
  createBatch,
  driveBatch,
  resultRow,
  type DriveOptions,
} from '../batch/driver.ts';
import { parseBatch } from '../batch/parse.ts';
import type { BatchRow } from '../store/batch-port.ts';
import type { System } from '../system.ts';
import { can, type Principal } from './auth.ts';
import { JSONL_TYPES } from './batch-schemas.ts';
import type { BatchSettings, Edge, GatewayEnv } from './context.ts';
import { badRequest, HttpError, notFound } from './errors.ts';
import { BATCH_BODY_BYTES } from '../core/limits.ts';

/** `POST /v1/batches`'s body limit when the gateway was given no batch settings. */
export { BATCH_BODY_BYTES };

interface BatchCall {
  c: Context<GatewayEnv>;
  principal: Principal;
  id: string;
  query: { limit?: number | undefined; agent?: string | undefined } | undefined;
}

/** Drivers running in this process, per system: one per batch. */
type Drivers = Map<string, { stop: AbortController; done: Promise<void> }>;
const drivers = new WeakMap<System, Drivers>();

/** Drive `batch` in this process unless a driver here does already (or it is not running). */
function ensureDriver(edge: Edge, batch: BatchRow): void {
  if (batch.status !== 'running') return;
  let mine = drivers.get(edge.system);
  if (!mine) drivers.set(edge.system, (mine = new Map() as Drivers));
  if (mine.has(batch.batchId)) return;
  const stop = new AbortController();
  const settings: Partial<BatchSettings> = edge.batch ?? BATCH_DEFAULTS;
  const options: DriveOptions = {
    ...(settings.share !== undefined ? { share: settings.share } : {}),
    ...(settings.concurrency !== undefined ? { concurrency: settings.concurrency } : {}),
    signal: stop.signal,
    ...(settings.routerConcurrency ? { routerConcurrency: settings.routerConcurrency } : {}),
  };
  const done = driveBatch(edge.system, batch.batchId, options)
    .catch((error: unknown) => {
      // A stopping gateway closes the store under its drivers: that is not an error to report.
      if (!stop.signal.aborted) edge.onError(error);
    })
    .finally(() => mine.delete(batch.batchId));
  mine.set(batch.batchId, { stop, done });
}

/**
 * At gateway start: drive every HTTP batch left `running` (its gateway stopped or crashed). A CLI
 * batch is left to its command, which writes the output file when run again.
 */
export async function resumeBatchDrivers(edge: Edge): Promise<number> {
  let resumed = 0;
  for (const batch of await edge.system.store.batches.list({ limit: 10_000 })) {
    if (batch.status !== 'running' || batch.origin !== 'http') continue;
    ensureDriver(edge, batch);
    resumed++;
  }
  return resumed;
}

/** Stop this process's drivers of `system` (the gateway stops); the batches stay resumable. */
export async function stopBatchDrivers(system: System): Promise<void> {
  const mine = drivers.get(system);
  if (!mine) return;
  for (const d of mine.values()) d.stop.abort();
  await Promise.all([...mine.values()].map((d) => d.done));
}

/** The batch when `p` may see it; otherwise 404 (never 403: that would tell the batch exists). */
async function visibleBatch(edge: Edge, p: Principal, batchId: string): Promise<BatchRow> {
  const row = await edge.system.store.batches.get(batchId);
  if (!row || (row.owner !== p.actorId && !can.readAll(p))) throw notFound(`batch ${batchId}`);
  return row;
}

/** A batch as the API shows it: the row and how many records are in each status. */
async function batchBody(edge: Edge, b: BatchRow) {
  return {
    batchId: b.batchId,
    status: b.status,
    owner: b.owner,
    agent: b.agent,
    origin: b.origin,
    inputDigest: b.inputDigest,
    total: b.total,
    counts: await edge.system.store.batches.counts(b.batchId),
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
  };
}

async function readJsonl(c: Context<GatewayEnv>): Promise<string> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!(JSONL_TYPES as readonly string[]).includes(type))
    throw new HttpError(
      415,
      'unsupported_media_type',
      `a batch body is JSONL: Content-Type ${JSONL_TYPES.join(', ')}`,
      {
        details: { field: 'content-type' },
      },
    );
  const text = await c.req.text();
  // Something that is not JSONL at all (a JSON array, a form, binary) names no record: refuse it whole.
  const parsed = parseBatch(text);
  if (parsed.length > 0 && parsed.every((r) => r.problem === 'not-json' || r.problem === 'not-object'))
    throw new HttpError(
      400,
      'invalid_jsonl',
      `body is not JSONL (one JSON object a line): ${parsed[0]!.error!.message}`,
      {
        details: { field: 'body' },
      },
    );
  return text;
}

/** The batch routes' handlers (http.ts mounts them from the route table). */
export function batchHandlers(edge: Edge) {
  const { system } = edge;
  return {
    async submitBatch({ c, principal, query }: BatchCall) {
      const agent = query?.agent;
      if (agent !== undefined && !system.agents.has(agent))
        throw badRequest('agent', `unknown agent "${agent.slice(0, 100)}"`);
      const text = await readJsonl(c);
      const { batch, created } = await createBatch(system, {
        text,
        owner: principal.actorId,
        origin: 'http',
        ...(agent !== undefined ? { agent } : {}),
      });
      ensureDriver(edge, batch);
      return c.json({ ...(await batchBody(edge, batch)), created }, created ? 201 : 200);
    },

    async listBatches({ c, principal, query }: BatchCall) {
      const rows = await system.store.batches.list({
        ...(can.readAll(principal) ? {} : { owner: principal.actorId }),
        limit: query?.limit ?? 50,
      });
      for (const b of rows) ensureDriver(edge, b);
      return c.json({ batches: await Promise.all(rows.map((b) => batchBody(edge, b))) });
    },

    async getBatch({ c, principal, id }: BatchCall) {
      const b = await visibleBatch(edge, principal, id);
      ensureDriver(edge, b);
      return c.json(await batchBody(edge, b));
    },

    async batchResults({ principal, id }: BatchCall) {
      const b = await visibleBatch(edge, principal, id);
      ensureDriver(edge, b);
      const encoder = new TextEncoder();
      let from = 0;
      // Paged from the store as the client reads: a large batch is never held in memory whole.
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const page = await system.store.batches.records(b.batchId, { from, limit: 200 });
          if (page.length === 0) return controller.close();
          from = page[page.length - 1]!.index + 1;
          const rows = await Promise.all(page.map((r) => resultRow(system, r)));
          controller.enqueue(encoder.encode(rows.map((r) => `${JSON.stringify(r)}\n`).join('')));
        },
      });
      return new Response(body, {
        status: 200,
        headers: { 'Content-Type': 'application/x-ndjson; charset=utf-8' },
      });
    },

    async cancelBatch({ c, principal, id }: BatchCall) {
      await visibleBatch(edge, principal, id);
      return c.json(await batchBody(edge, await cancelBatch(system, id, principal.actorId)));
    },
  };
}
