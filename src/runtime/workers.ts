/**
 * A worker pool per queue: claims ready wake-ups up to its concurrency limit, keeps their leases
 * alive while it works, and sleeps until a local enqueue, a timer for the next ready task, or a poll.
 */
import type { ClaimedTask, Store } from '../store/ports.ts';
import type { Engine } from './engine.ts';

export interface PoolOptions {
  queue: string;
  concurrency: number;
  owner: string;
  leaseMs: number;
  /** Longest sleep between claims when nothing signals (other processes' enqueues). */
  pollMs: number;
  /** Pause before a run whose processing threw is tried again. */
  errorRetryMs: number;
  onError: (error: unknown, task: ClaimedTask) => void;
}

export class WorkerPool {
  readonly opts: PoolOptions;
  readonly #engine: Engine;
  readonly #store: Store;
  readonly #inflight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #wake: (() => void) | null = null;
  #kicked = false;
  #loop: Promise<void> | null = null;

  constructor(engine: Engine, store: Store, opts: PoolOptions) {
    this.#engine = engine;
    this.#store = store;
    this.opts = opts;
  }

  get busy(): number {
    return this.#inflight.size;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Something became ready on this queue: claim now rather than at the next poll. */
  kick(): void {
    this.#kicked = true;
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.kick();
    await this.#loop;
    await Promise.allSettled([...this.#inflight]);
  }

  async #run(): Promise<void> {
    const { queue, concurrency, owner, leaseMs } = this.opts;
    while (!this.#abort.signal.aborted) {
      this.#kicked = false;
      const free = concurrency - this.#inflight.size;
      let claimed: ClaimedTask[] = [];
      if (free > 0) {
        try {
          claimed = await this.#store.queue.claim(queue, owner, free, leaseMs);
        } catch (error) {
          this.opts.onError(error, {
            runId: '',
            queue,
            readyAt: 0,
            owner,
            fence: 0,
            leaseExpiresAt: 0,
            attempts: 0,
          });
        }
        for (const task of claimed) this.#track(task);
      }
      if (claimed.length > 0 && claimed.length === free) continue;
      if (this.#kicked) continue;
      await this.#sleep(free > claimed.length ? await this.#delay() : this.opts.pollMs);
    }
  }

  async #delay(): Promise<number> {
    const next = await this.#store.queue.nextReadyAt(this.opts.queue).catch(() => null);
    if (next === null) return this.opts.pollMs;
    return Math.max(0, Math.min(this.opts.pollMs, next - this.#store.now()));
  }

  #sleep(ms: number): Promise<void> {
    // A kick that arrived while we were computing the delay must not be lost.
    if (this.#kicked || this.#abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        done();
      };
    });
  }

  #track(task: ClaimedTask): void {
    const p = this.#work(task).finally(() => {
      this.#inflight.delete(p);
      this.kick();
    });
    this.#inflight.add(p);
  }

  async #work(task: ClaimedTask): Promise<void> {
    const controller = new AbortController();
    const onStop = (): void => controller.abort();
    this.#abort.signal.addEventListener('abort', onStop);
    // Keep the lease while a long tool runs; losing it aborts the work (the fence would refuse it anyway).
    const heartbeat = setInterval(
      () => {
        this.#store.queue.extend(task.runId, task.fence, this.opts.leaseMs).then(
          (held) => {
            if (!held) controller.abort();
          },
          () => {},
        );
      },
      Math.max(50, Math.floor(this.opts.leaseMs / 3)),
    );
    try {
      await this.#engine.process(task, controller.signal);
    } catch (error) {
      this.opts.onError(error, task);
      // Give the run back after a pause; the journal is intact, so the next claim resumes it.
      await this.#store.queue
        .release(task.runId, task.fence, this.#store.now() + this.opts.errorRetryMs)
        .catch(() => {});
    } finally {
      clearInterval(heartbeat);
      this.#abort.signal.removeEventListener('abort', onStop);
    }
  }
}
