/**
 * Who is calling: API keys (`Authorization: Bearer sbk_…` or `X-API-Key`) and short-lived,
 * single-use WebSocket tickets for browsers (which cannot set headers on an upgrade).
 */
import { randomBytes } from 'node:crypto';
import { HttpError } from './errors.ts';
import { hashKey, sameDigest, type KeyRecord, type KeyStore, type Role } from './keys.ts';

/** The authenticated caller. `actorId` comes from the key, never from a request body. */
export interface Principal {
  keyId: string;
  actorId: string;
  role: Role;
  plan: string;
}

/** What each role may do beyond its own runs. */
export const can = {
  /** See and cancel every actor's runs. */
  readAll: (p: Principal): boolean => p.role === 'operator' || p.role === 'admin',
  approve: (p: Principal): boolean => p.role === 'approver' || p.role === 'admin',
  administer: (p: Principal): boolean => p.role === 'admin',
};

const principalOf = (k: KeyRecord): Principal => ({
  keyId: k.id,
  actorId: k.actorId,
  role: k.role,
  plan: k.plan,
});

export interface AuthenticatorOptions {
  keys: KeyStore;
  /**
   * How long a looked-up key is trusted without asking the store again. Together with the
   * connection sweep this bounds how long a revoked key keeps working (≤ 1 s by default).
   */
  cacheMs?: number;
  ticketTtlMs?: number;
  now?: () => number;
}

/** Authenticates keys with a short cache, and issues WebSocket tickets. */
export class Authenticator {
  readonly #keys: KeyStore;
  readonly #cacheMs: number;
  readonly #ticketTtlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { record: KeyRecord | null; until: number }>();
  readonly #tickets = new Map<string, { principal: Principal; expiresAt: number }>();

  constructor(options: AuthenticatorOptions) {
    this.#keys = options.keys;
    this.#cacheMs = options.cacheMs ?? 400;
    this.#ticketTtlMs = options.ticketTtlMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /** The key in an Authorization / X-API-Key header, or null when none is given. */
  static keyFrom(authorization: string | null | undefined, apiKey: string | null | undefined): string | null {
    if (apiKey) return apiKey.trim();
    if (!authorization) return null;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw new HttpError(401, 'unauthenticated', 'Authorization must be "Bearer <api key>"');
    return m[1]!;
  }

  /** The principal of a live key; 401 for a missing, unknown or revoked key. */
  async authenticate(key: string | null): Promise<Principal> {
    if (!key)
      throw new HttpError(401, 'unauthenticated', 'an API key is required (Authorization: Bearer <key>)');
    if (key.length > 200) throw new HttpError(401, 'unauthenticated', 'invalid API key');
    const hash = hashKey(key);
    const now = this.#now();
    let hit = this.#cache.get(hash);
    if (!hit || hit.until <= now) {
      const record = await this.#keys.findByHash(hash);
      hit = { record: record && sameDigest(record.hash, hash) ? record : null, until: now + this.#cacheMs };
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(hash, hit);
    }
    const record = hit.record;
    if (!record || record.revokedAt !== null)
      throw new HttpError(401, 'unauthenticated', 'invalid or revoked API key');
    return principalOf(record);
  }

  /** True while the key is live (asks the store: used by the sweep of open connections). */
  async isLive(keyId: string): Promise<boolean> {
    const record = await this.#keys.get(keyId);
    const live = record !== null && record.revokedAt === null;
    if (!live) this.forget(keyId);
    return live;
  }

  /** Drop cached lookups of a key (it was found revoked). */
  forget(keyId: string): void {
    for (const [hash, hit] of this.#cache) if (hit.record?.id === keyId) this.#cache.delete(hash);
  }

  /** A single-use ticket to open a WebSocket as `principal`. */
  issueTicket(principal: Principal): { ticket: string; expiresAt: number } {
    const now = this.#now();
    for (const [t, v] of this.#tickets) if (v.expiresAt <= now) this.#tickets.delete(t);
    const ticket = `wst_${randomBytes(24).toString('base64url')}`;
    const expiresAt = now + this.#ticketTtlMs;
    this.#tickets.set(ticket, { principal, expiresAt });
    return { ticket, expiresAt };
  }

  /** Spend a ticket; 401 when unknown, used or expired. The key behind it must still be live. */
  async redeemTicket(ticket: string): Promise<Principal> {
    const t = this.#tickets.get(ticket);
    this.#tickets.delete(ticket);
    if (!t || t.expiresAt <= this.#now())
      throw new HttpError(401, 'unauthenticated', 'invalid or expired ticket');
    if (!(await this.isLive(t.principal.keyId)))
      throw new HttpError(401, 'unauthenticated', 'invalid or revoked API key');
    return t.principal;
  }
}
