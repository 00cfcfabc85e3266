import type { JournalEvent } from '../core/events.ts';
import type { StoreListener, TaskSpec } from './ports.ts';

/** Fan-out of store notifications to in-process listeners; a throwing listener never breaks a commit. */
export class Listeners {
  readonly #set = new Set<StoreListener>();

  add(listener: StoreListener): () => void {
    this.#set.add(listener);
    return () => this.#set.delete(listener);
  }

  appended(events: readonly JournalEvent[]): void {
    if (events.length === 0) return;
    for (const l of this.#set) safely(() => l.appended?.(events));
  }

  enqueued(tasks: readonly TaskSpec[]): void {
    for (const task of tasks) for (const l of this.#set) safely(() => l.enqueued?.(task));
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
