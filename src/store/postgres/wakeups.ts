/**
 * Cross-process delivery of wake-ups on pg-boss.
 *
 * The `tasks` table stays the lease and fencing authority (one row per run, a new fence per claim,
 * leases judged by the store's clock): that is what keeps a stale worker from appending. pg-boss
 * carries the *delivery*: every task a commit creates or moves is also inserted as a pg-boss job on
 * the agent's queue, in the same transaction (so no delivery escapes a rolled-back commit), with
 * `startAfter` at the task's ready time. A worker process subscribed to that queue receives the job
 * and kicks its local pool, which claims from `tasks`. A lost delivery costs one poll interval; a
 * duplicate one costs an empty claim — the journal and the fence make both harmless.
 */
import { PgBoss, type Db, type Job } from 'pg-boss';
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { PoolClient } from 'pg';
import type { TaskSpec } from '../ports.ts';

export interface WakeupOptions {
  url: string;
  /** pg-boss's own schema (defaults to `<store schema>_boss`). */
  schema: string;
  applicationName: string;
  /** Delivery attempts before a wake-up job is dead-lettered to `<queue>.dead`. */
  retryLimit?: number;
  onError: (error: unknown) => void;
  onDelivered: (task: TaskSpec) => void;
}

/** Named pg-boss statements per process. */
const MAX_PREPARED = 64;

/** pg-boss queue names allow `[\w.\-/]`: `agent:billing` becomes `sb.agent.billing`. */
export const bossQueueName = (queue: string): string => `sb.${queue.replace(/[^\w.\-/]/g, '.')}`;

export class BossWakeups {
  readonly boss: PgBoss;
  readonly #opts: WakeupOptions;
  readonly #created = new Map<string, Promise<void>>();
  readonly #working = new Set<string>();
  readonly #names = new Map<string, string>();
  #stopped = false;

  constructor(opts: WakeupOptions) {
    this.#opts = opts;
    this.boss = new PgBoss({
      connectionString: opts.url,
      schema: opts.schema,
      application_name: opts.applicationName,
      max: 4,
      useListenNotify: true,
      schedule: false,
    });
    // pg-boss reports a dropped connection as an event; unhandled, it would crash the process.
    this.boss.on('error', (error) => opts.onError(error));
  }

  async start(): Promise<void> {
    await this.boss.start();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.boss.stop({ graceful: false, close: true, timeout: 2000 });
  }

  /** Create the queue (and its dead-letter queue) once per process. */
  ensure(queue: string): Promise<void> {
    const name = bossQueueName(queue);
    let p = this.#created.get(name);
    if (!p) {
      p = (async () => {
        await this.boss.createQueue(`${name}.dead`, { retentionSeconds: 7 * 86_400 });
        await this.boss.createQueue(name, {
          notify: true,
          retryLimit: this.#opts.retryLimit ?? 3,
          retryBackoff: true,
          retryDelay: 1,
          deadLetter: `${name}.dead`,
          expireInSeconds: 60,
          deleteAfterSeconds: 600,
        });
      })();
      this.#created.set(name, p);
      p.catch(() => this.#created.delete(name));
    }
    return p;
  }

  /** Insert delivery jobs for `tasks` inside the caller's open transaction on `client`. */
  async send(client: PoolClient, tasks: readonly TaskSpec[]): Promise<void> {
    const byQueue = new Map<string, TaskSpec[]>();
    for (const t of tasks) {
      const list = byQueue.get(t.queue) ?? [];
      list.push(t);
      byQueue.set(t.queue, list);
    }
    const db: Db = { executeSql: async (text, values) => client.query(this.#prepared(text, values)) };
    for (const [queue, list] of byQueue) {
      await this.ensure(queue);
      await this.boss.insert(
        bossQueueName(queue),
        list.map((t) => ({
          data: { runId: t.runId, queue: t.queue, readyAt: t.readyAt },
          startAfter: new Date(t.readyAt),
        })),
        { db },
      );
    }
  }

  /**
   * pg-boss's insert is one large statement per queue (the JSON of the jobs is its only parameter):
   * named, PostgreSQL parses and plans it once per connection instead of on every commit. Only
   * parameterized texts are named (a text with values inlined would never repeat), and at most
   * {@link MAX_PREPARED} of them.
   */
  #prepared(text: string, values: unknown[] | undefined): pg.QueryConfig {
    if (!values?.length) return { text };
    let name = this.#names.get(text);
    if (name === undefined && this.#names.size < MAX_PREPARED) {
      name = `sb_boss_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
      this.#names.set(text, name);
    }
    return name === undefined ? { text, values } : { name, text, values };
  }

  /** Receive deliveries of `queue` in this process (first call only). */
  async subscribe(queue: string): Promise<void> {
    const name = bossQueueName(queue);
    if (this.#working.has(name) || this.#stopped) return;
    this.#working.add(name);
    try {
      await this.ensure(queue);
      await this.boss.work<TaskSpec>(
        name,
        { batchSize: 100, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 5 },
        async (jobs: Job<TaskSpec>[]) => {
          for (const job of jobs) this.#opts.onDelivered(job.data);
        },
      );
    } catch (error) {
      this.#working.delete(name);
      throw error;
    }
  }

  /** Wake-ups waiting for delivery on a queue, per pg-boss (health). */
  async backlog(queue: string): Promise<number> {
    const q = await this.boss.getQueue(bossQueueName(queue));
    return q?.queuedCount ?? 0;
  }
}
