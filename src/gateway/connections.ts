/**
 * Open long-lived connections (WebSockets, SSE streams) by key: the per-key cap, and the sweep that
 * closes every connection of a revoked key within `sweepMs` (keys may be revoked by another
 * process, e.g. `switchboard keys revoke`, so the store is asked rather than told).
 */
import type { Authenticator } from './auth.ts';
import { HttpError } from './errors.ts';

/** Close code and reason of a connection whose JWT expired (docs/gateway.md). */
export const TOKEN_EXPIRED = { code: 4001, reason: 'token expired' } as const;

/** Longest delay setTimeout takes; a later expiry re-arms. */
const MAX_DELAY = 2 ** 31 - 1;

/** How a connection is told to go away. */
export type Closer = (code: number, reason: string) => void;

/** One held connection slot: bind how the connection is closed once it is open, release it when it ends. */
export interface Slot {
  /** How to close the connection; called at once when the slot was closed before it was bound. */
  bind(close: Closer): void;
  /** Give the slot back (idempotent). */
  release(): void;
}

interface Entry {
  close: Closer | null;
  expiry: NodeJS.Timeout | null;
  /** Set when the slot was told to close before the connection bound its closer. */
  closed: { code: number; reason: string } | null;
}

const closeEntry = (e: Entry, code: number, reason: string): void => {
  if (e.expiry) clearTimeout(e.expiry);
  e.expiry = null;
  if (e.close) e.close(code, reason);
  else e.closed ??= { code, reason };
};

/**
 * The open connections of this process. The per-key cap counts WebSockets and SSE streams together
 * and is per gateway process (see docs/gateway.md): connections live and die with the process that
 * holds them, so a count kept here can never outlive a crash the way a shared row could.
 */
export class Connections {
  readonly #byKey = new Map<string, Set<Entry>>();
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

  /**
   * Take one of `keyId`'s `cap` slots, or 429 `too_many_connections` when all are held. Checking and
   * taking are one synchronous step, so concurrent opens of one key never pass the cap together.
   * With `expiresAt` (a JWT's exp, ms) the connection is closed 4001 `token expired` then.
   */
  open(keyId: string, cap: number, expiresAt?: number): Slot {
    if (this.count(keyId) >= cap)
      throw new HttpError(429, 'too_many_connections', `at most ${cap} open connections per key`, {
        headers: { 'Retry-After': '1' },
        details: { limit: cap },
      });
    let set = this.#byKey.get(keyId);
    if (!set) this.#byKey.set(keyId, (set = new Set()));
    const entry: Entry = { close: null, expiry: null, closed: null };
    set.add(entry);
    const owner = set;
    if (expiresAt !== undefined) {
      const arm = (): void => {
        const left = expiresAt - Date.now();
        if (left <= 0) return closeEntry(entry, TOKEN_EXPIRED.code, TOKEN_EXPIRED.reason);
        entry.expiry = setTimeout(arm, Math.min(left, MAX_DELAY));
        entry.expiry.unref();
      };
      arm();
    }
    return {
      bind: (close) => {
        entry.close = close;
        if (entry.closed) close(entry.closed.code, entry.closed.reason);
      },
      release: () => {
        if (entry.expiry) clearTimeout(entry.expiry);
        entry.expiry = null;
        owner.delete(entry);
        if (owner.size === 0 && this.#byKey.get(keyId) === owner) this.#byKey.delete(keyId);
      },
    };
  }

  /** Close every connection of keys that are no longer live. */
  async sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      for (const keyId of [...this.#byKey.keys()]) {
        if (await this.#auth.isLive(keyId)) continue;
        for (const e of [...(this.#byKey.get(keyId) ?? [])]) closeEntry(e, 1008, 'API key revoked');
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
    for (const set of this.#byKey.values()) for (const e of [...set]) closeEntry(e, code, reason);
    this.#byKey.clear();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
