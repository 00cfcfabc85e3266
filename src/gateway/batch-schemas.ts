/**
 * The HTTP contract of batches (docs/batch.md): schemas and the routes schemas.ts puts in its
 * route table, so they are validated and documented like every other route. `err` and `common`
 * are schemas.ts's error responses (passed in: this module must not import schemas.ts, which
 * imports it).
 */
import { z } from 'zod';
import { RUN_STATUSES } from '../core/run-state.ts';
import { BATCH_STATUSES } from '../store/batch-port.ts';

const RECORD_STATUSES = [
  'pending',
  'submitted',
  'completed',
  'failed',
  'cancelled',
  'escalated',
  'invalid',
] as const;

export const BatchView = z.object({
  batchId: z.string(),
  status: z.enum(BATCH_STATUSES as [string, ...string[]]),
  owner: z.string().describe('The actor its runs are submitted as'),
  agent: z.string().nullable().describe('The agent of records that name none (null: routed)'),
  origin: z.string().describe('cli or http'),
  inputDigest: z.string().describe('SHA-256 of the JSONL input'),
  total: z.number().int(),
  counts: z
    .partialRecord(z.enum(RECORD_STATUSES), z.number().int())
    .describe('Records per status; submitted = has a run that was not final when last seen'),
  createdAt: z.number(),
  updatedAt: z.number(),
});

export const BatchCreated = BatchView.extend({
  created: z.boolean().describe('False: the same body was posted before, this is that batch'),
});

/** One line of `GET /v1/batches/:id/results` (and of `batch run --out`). */
export const BatchResultRowSchema = z.object({
  id: z.string().describe("The line's id, else its 1-based line number"),
  runId: z.string().nullable(),
  status: z.enum([...RUN_STATUSES, 'invalid', 'pending']),
  output: z.string().nullable(),
  error: z.object({ name: z.string(), code: z.string(), message: z.string() }).passthrough().nullable(),
  totals: z.record(z.string(), z.number()).nullable(),
});

export const SubmitBatchQuery = z.strictObject({
  agent: z.string().min(1).max(100).optional().describe('Records that name no agent go to this agent'),
});

export const ListBatchesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

/** Content types a JSONL body may come with. */
export const JSONL_TYPES = ['application/x-ndjson', 'application/jsonl', 'text/plain'] as const;

/** The batch routes of the route table. */
export const batchRoutes = <E, C extends object>(err: (description: string) => E, common: C) =>
  [
    {
      method: 'post',
      path: '/v1/batches',
      operationId: 'submitBatch',
      summary:
        'Submit a batch: a JSONL body, one request a line ({"id"?, "input", "sessionId"?, "agent"?, "metadata"?}); the same body again is the same batch',
      query: SubmitBatchQuery,
      rawBody: { types: JSONL_TYPES, limit: 'batch' },
      responses: {
        200: { description: 'The batch, posted before', schema: BatchCreated },
        201: { description: 'Created; its records are being submitted', schema: BatchCreated },
        400: err('Empty, or not JSONL at all (a malformed line is an invalid record instead)'),
        413: err('Body larger than batch.maxBodyBytes'),
        415: err('Content-Type is not JSONL'),
        ...common,
      },
    },
    {
      method: 'get',
      path: '/v1/batches',
      operationId: 'listBatches',
      summary: "The caller's batches, newest first (operators and admins: everyone's)",
      query: ListBatchesQuery,
      responses: {
        200: { description: 'Batches', schema: z.object({ batches: z.array(BatchView) }) },
        ...common,
      },
    },
    {
      method: 'get',
      path: '/v1/batches/:id',
      operationId: 'getBatch',
      summary: 'A batch and its records per status',
      ownerScoped: true,
      responses: {
        200: { description: 'The batch', schema: BatchView },
        404: err('No such batch'),
        ...common,
      },
    },
    {
      method: 'get',
      path: '/v1/batches/:id/results',
      operationId: 'batchResults',
      summary:
        'The output rows in input order, streamed as JSONL: {"id", "runId", "status", "output", "error", "totals"}',
      ownerScoped: true,
      responses: {
        200: { description: 'JSONL, one row a record', schema: BatchResultRowSchema, jsonl: true },
        404: err('No such batch'),
        ...common,
      },
    },
    {
      method: 'post',
      path: '/v1/batches/:id/cancel',
      operationId: 'cancelBatch',
      summary: 'Cancel a batch: records not submitted yet are cancelled, and so are the runs still going',
      ownerScoped: true,
      responses: {
        200: { description: 'The batch', schema: BatchView },
        404: err('No such batch'),
        ...common,
      },
    },
  ] as const;
