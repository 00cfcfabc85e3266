/**
 * Who is calling: API keys (`Authorization: Bearer sbk_…` or `X-API-Key`), JWTs from an identity
 * provider (`Authorization: Bearer eyJ…`, when `gateway.auth.jwt` is configured, jwt.ts) and
 * short-lived, single-use WebSocket tickets for browsers (which cannot set headers on an upgrade).
 * Every HTTP route and the WebSocket upgrade authenticate here, so both kinds work everywhere.
 */
import { randomBytes } from 'node:crypto';
import { HttpError } from './errors.ts';
import { looksLikeJwt, type JwtVerifier } from './jwt.ts';
import { hashKey, sameDigest, type KeyRecord, type KeyStore, type Role } from './keys.ts';
import { AuthThrottle } from './throttle.ts';

/** The authenticated caller. `actorId` comes from the key or token, never from a request body. */
export interface Principal {
  /** The API key's id, or `jwt:<actorId>` for a token (plan counters and connection caps key on it). */
  keyId: string;
  actorId: string;
  role: Role;
  plan: string;
  /** A token's `exp`, ms: connections opened with it close then. Absent for API keys. */
  expiresAt?: number;
}

/** The `keyId` of token principals: never an API key id (those are `key_…`). */
const JWT_KEY_PREFIX = 'jwt:';

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
  /** Failed authentications by client address (default 20 a minute). */
  throttle?: AuthThrottle;
  /** Accept JWTs of this issuer beside API keys. */
  jwt?: JwtVerifier;
  now?: () => number;
}

const MAX_CACHED = 10_000;
const MAX_MISSES = 1_000;

/** Authenticates keys with a short cache, and issues WebSocket tickets. */
export class Authenticator {
  readonly #keys: KeyStore;
  readonly #cacheMs: number;
  readonly #ticketTtlMs: number;
  readonly #now: () => number;
  /** Found keys by digest (revoked ones too, until they expire). */
  readonly #cache = new Map<string, { record: KeyRecord; until: number }>();
  /** Digests no key has, until when. */
  readonly #misses = new Map<string, number>();
  readonly #throttle: AuthThrottle;
  readonly #tickets = new Map<string, { principal: Principal; expiresAt: number }>();
  readonly #jwt: JwtVerifier | undefined;
  /** Verified tokens by digest, until the sooner of their exp and the cache time. */
  readonly #tokens = new Map<string, { principal: Principal; until: number }>();

  constructor(options: AuthenticatorOptions) {
    this.#keys = options.keys;
    this.#cacheMs = options.cacheMs ?? 400;
    this.#ticketTtlMs = options.ticketTtlMs ?? 30_000;
    this.#now = options.now ?? Date.now;
    this.#throttle = options.throttle ?? new AuthThrottle({ now: this.#now });
    this.#jwt = options.jwt;
  }

  /** The key in an Authorization / X-API-Key header, or null when none is given. */
  static keyFrom(authorization: string | null | undefined, apiKey: string | null | undefined): string | null {
    if (apiKey) return apiKey.trim();
    if (!authorization) return null;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw new HttpError(401, 'unauthenticated', 'Authorization must be "Bearer <api key>"');
    return m[1]!;
  }

  /**
   * The principal of a live key; 401 for a missing, unknown or revoked key, 429 while `address`
   * (the client's) has failed too often. Found keys and misses are cached apart: a flood of unknown
   * keys fills only the bounded miss cache and never pushes a valid key out of its own.
   */
  async authenticate(key: string | null, address?: string): Promise<Principal> {
    if (!key)
      throw new HttpError(401, 'unauthenticated', 'an API key is required (Authorization: Bearer <key>)');
    this.#throttle.check(address);
    if (this.#jwt && looksLikeJwt(key)) return this.#fromToken(this.#jwt, key, address);
    if (key.length > 200) return this.#failed(address, 'invalid API key');
    const hash = hashKey(key);
    const now = this.#now();
    let hit = this.#cache.get(hash);
    if (hit && hit.until <= now) {
      this.#cache.delete(hash);
      hit = undefined;
    }
    if (!hit) {
      const missUntil = this.#misses.get(hash);
      if (missUntil !== undefined && missUntil > now)
        return this.#failed(address, 'invalid or revoked API key');
      const found = await this.#keys.findByHash(hash);
      const record = found && sameDigest(found.hash, hash) ? found : null;
      if (!record) {
        if (this.#misses.size >= MAX_MISSES) this.#misses.clear();
        this.#misses.set(hash, now + this.#cacheMs);
        return this.#failed(address, 'invalid or revoked API key');
      }
      this.#misses.delete(hash);
      hit = { record, until: now + this.#cacheMs };
      // Bounded by the number of valid keys in use; beyond the bound the oldest entry goes.
      if (this.#cache.size >= MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(hash, hit);
    }
    if (hit.record.revokedAt !== null) return this.#failed(address, 'invalid or revoked API key');
    return principalOf(hit.record);
  }

  /** A token's principal; a refused token counts toward the throttle like a wrong key. */
  async #fromToken(jwt: JwtVerifier, token: string, address: string | undefined): Promise<Principal> {
    const digest = hashKey(token);
    const now = this.#now();
    const hit = this.#tokens.get(digest);
    if (hit && hit.until > now) return hit.principal;
    if (hit) this.#tokens.delete(digest);
    try {
      const id = await jwt.verify(token);
      const principal: Principal = {
        keyId: `${JWT_KEY_PREFIX}${id.actorId}`,
        actorId: id.actorId,
        role: id.role,
        plan: jwt.plan,
        expiresAt: id.expiresAt,
      };
      // As with keys: a token is re-verified at most every cacheMs, and never trusted past its exp.
      if (this.#tokens.size >= MAX_CACHED) this.#tokens.delete(this.#tokens.keys().next().value!);
      this.#tokens.set(digest, { principal, until: Math.min(now + this.#cacheMs, id.expiresAt) });
      return principal;
    } catch (error) {
      // 503 (the issuer's key set is unreachable) is not the caller's failure.
      if (error instanceof HttpError && error.status < 500) this.#throttle.fail(address);
      throw error;
    }
  }

  #failed(address: string | undefined, message: string): never {
    this.#throttle.fail(address);
    throw new HttpError(401, 'unauthenticated', message);
  }

  /** True while the key is live (asks the store: used by the sweep of open connections). */
  async isLive(keyId: string): Promise<boolean> {
    // A token cannot be revoked here: its connections close at its exp (connections.ts).
    if (keyId.startsWith(JWT_KEY_PREFIX)) return true;
    const record = await this.#keys.get(keyId);
    const live = record !== null && record.revokedAt === null;
    if (!live) this.forget(keyId);
    return live;
  }

  /** Drop cached lookups of a key (it was found revoked). */
  forget(keyId: string): void {
    for (const [hash, hit] of this.#cache) if (hit.record.id === keyId) this.#cache.delete(hash);
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
  async redeemTicket(ticket: string, address?: string): Promise<Principal> {
    this.#throttle.check(address);
    const t = this.#tickets.get(ticket);
    this.#tickets.delete(ticket);
    if (!t || t.expiresAt <= this.#now()) return this.#failed(address, 'invalid or expired ticket');
    if (t.principal.expiresAt !== undefined && t.principal.expiresAt <= this.#now())
      throw new HttpError(401, 'token_expired', 'token has expired');
    if (!(await this.isLive(t.principal.keyId)))
      throw new HttpError(401, 'unauthenticated', 'invalid or revoked API key');
    return t.principal;
  }
}
