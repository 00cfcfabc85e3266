/**
 * Open long-lived connections (WebSockets, SSE streams) by key: the per-key cap, and the sweep that
 * closes every connection of a revoked key within `sweepMs` (keys may be revoked by another
 * process, e.g. `switchboard keys revoke`, so the store is asked rather than told).
 */
import type { Authenticator } from './auth.ts';

/** How a connection is told to go away. */
export type Closer = (code: number, reason: string) => void;

export class Connections {
  readonly #byKey = new Map<string, Set<Closer>>();
  readonly #auth: Authenticator;
  readonly #timer: NodeJS.Timeout;
  readonly #onError: (error: unknown) => void;
  #sweeping = false;

  constructor(auth: Authenticator, options: { sweepMs?: number; onError?: (error: unknown) => void } = {}) {
    this.#auth = auth;
    this.#onError = options.onError ?? (() => {});
    this.#timer = setInterval(() => void this.sweep(), options.sweepMs ?? 250);
    this.#timer.unref();
  }

  count(keyId: string): number {
    return this.#byKey.get(keyId)?.size ?? 0;
  }

  get size(): number {
    let n = 0;
    for (const s of this.#byKey.values()) n += s.size;
    return n;
  }

  /** Track a connection; returns the function that forgets it. */
  add(keyId: string, close: Closer): () => void {
    let set = this.#byKey.get(keyId);
    if (!set) this.#byKey.set(keyId, (set = new Set()));
    set.add(close);
    return () => {
      set.delete(close);
      if (set.size === 0 && this.#byKey.get(keyId) === set) this.#byKey.delete(keyId);
    };
  }

  /** Close every connection of keys that are no longer live. */
  async sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      for (const keyId of [...this.#byKey.keys()]) {
        if (await this.#auth.isLive(keyId)) continue;
        for (const close of [...(this.#byKey.get(keyId) ?? [])]) close(1008, 'API key revoked');
        this.#byKey.delete(keyId);
      }
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#sweeping = false;
    }
  }

  /** Close everything (shutdown). */
  closeAll(code: number, reason: string): void {
    for (const set of this.#byKey.values()) for (const close of [...set]) close(code, reason);
    this.#byKey.clear();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
