/**
 * `switchboard batch run <input.jsonl> --out <output.jsonl>`: one run per line, output rows in
 * input order. The batch is recorded in the store; the same command again (same input, same
 * output path) resumes it — no record gets a second run — and rewrites the output whole.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { UserError } from '../core/errors.ts';
import type { BatchRecordRow } from '../store/batch-port.ts';
import type { System } from '../system.ts';
import { CONFIG_FLAG, withProject } from './app.ts';

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

interface RunFlags {
  out: string;
  agent?: string;
  concurrency?: number;
  json?: boolean;
  config?: string;
}

/**
 * Writes output rows in input order as soon as the records before them are final, so a partial
 * file is always a correct prefix; the rest (records waiting for a person) at the end.
 */
function orderedWriter(system: System, path: string, total: number, resultRow: Driver['resultRow']) {
  const fd = openSync(path, 'w');
  const settled = new Map<number, BatchRecordRow>();
  const rows: Awaited<ReturnType<typeof resultRow>>[] = [];
  let chain = Promise.resolve();
  const write = async (r: BatchRecordRow): Promise<void> => {
    const row = await resultRow(system, r);
    rows.push(row);
    writeSync(fd, `${JSON.stringify(row)}\n`);
  };
  const flush = async (): Promise<void> => {
    while (rows.length < total && settled.has(rows.length)) await write(settled.get(rows.length)!);
  };
  return {
    rows,
    settle(r: BatchRecordRow): void {
      settled.set(r.index, r);
      chain = chain.then(flush);
    },
    /** Write every remaining row from the store's records; close the file. */
    async finish(batchId: string): Promise<void> {
      await chain;
      try {
        for (const r of await system.store.batches.records(batchId, { from: rows.length })) await write(r);
      } finally {
        closeSync(fd);
      }
    },
    close(): void {
      closeSync(fd);
    },
  };
}

type Driver = typeof import('../batch/driver.ts');

async function runBatch(input: string, opts: RunFlags): Promise<void> {
  let text: string;
  try {
    text = readFileSync(input, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read ${input}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, 'input');
  }
  const { createBatch, driveBatch, resultRow, summaryOf } = await import('../batch/driver.ts');
  const { progressReporter } = await import('../batch/progress.ts');
  await withProject(opts.config, { workers: true }, async ({ system, config }) => {
    const out = resolve(opts.out);
    const { batch, created } = await createBatch(system, {
      text,
      owner: 'cli',
      origin: 'cli',
      ...(opts.agent ? { agent: opts.agent } : {}),
      scope: out,
    });
    const tty = process.stdout.isTTY === true;
    const progress = progressReporter(process.stderr, tty);
    if (!tty)
      process.stderr.write(
        `batch ${batch.batchId}: ${created ? 'created' : 'resumed'}, ${batch.total} records, output ${out}\n`,
      );
    const writer = orderedWriter(system, out, batch.total, resultRow);
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await driveBatch(system, batch.batchId, {
        concurrency: opts.concurrency ?? config.batch.concurrency,
        share: config.batch.share,
        routerConcurrency: config.limits.routerConcurrency,
        signal: abort.signal,
        onProgress: (p) => progress.update(p),
        onSettled: (r) => writer.settle(r),
      });
      await writer.finish(batch.batchId);
    } catch (error) {
      writer.close();
      throw error;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      progress.end();
    }
    const summary = summaryOf(batch.batchId, writer.rows);
    if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else
      process.stdout.write(
        `batch ${summary.batchId}: ${summary.completed} completed, ${summary.failed} failed, ${summary.escalated} escalated, ${summary.waiting} waiting of ${summary.total}; output ${out}\n`,
      );
    if (abort.signal.aborted) process.exitCode = 130;
    else if (summary.failed > 0) process.exitCode = 1;
  });
}

export function registerBatchCommands(program: Command): void {
  const batch = program.command('batch').description('run many requests from a JSONL file (docs/batch.md)');
  batch
    .command('run')
    .description(
      'one run per line of <input>, output rows in input order; the same command again resumes the batch',
    )
    .argument('<input>', 'JSONL: {"id"?, "input", "sessionId"?, "agent"?, "metadata"?} per line')
    .requiredOption('--out <file>', 'where the output JSONL goes (rewritten whole on every resume)')
    .option('--agent <name>', 'skip routing: records without an agent go to this agent')
    .option('--concurrency <n>', 'most runs in flight (default batch.concurrency)', positiveInt)
    .option('--json', 'print the summary as JSON')
    .option(...CONFIG_FLAG)
    .action((input: string, opts: RunFlags) => runBatch(input, opts));
}
