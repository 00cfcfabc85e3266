/**
 * JWT identities beside API keys: a bearer token from an identity provider is verified with jose
 * (a remote JWKS cached and refreshed on an unknown `kid`, at most once per cooldown; or one
 * configured public key), and its claims become the caller — actor from `actorClaim`, role from
 * `roleClaim` mapped onto the gateway's roles. Every refusal is a 401 (403 for a role the gateway
 * does not know) whose `code` says why.
 */
import {
  createRemoteJWKSet,
  errors,
  importJWK,
  importSPKI,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  type KeyObject,
} from 'jose';
import { HttpError } from './errors.ts';
import type { JwtConfig } from './inbound-config.ts';
import { ROLES, type Role } from './keys.ts';

export type { JwtConfig } from './inbound-config.ts';

/** The identity a verified token gives. */
export interface JwtIdentity {
  actorId: string;
  role: Role;
  /** `exp`, ms since epoch: an open connection is closed then. */
  expiresAt: number;
}

/** The reason codes of refused tokens. */
export type TokenFailure =
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_issuer'
  | 'token_audience'
  | 'token_signature'
  | 'token_unknown_kid'
  | 'token_malformed'
  | 'token_claims'
  | 'token_role';

/** True when `token` has the shape of a compact JWS (three base64url parts), not an API key. */
export const looksLikeJwt = (token: string): boolean =>
  /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);

const refuse = (code: TokenFailure, message: string, status = 401): HttpError =>
  new HttpError(status, code, message);

/** jose's error as the reason a caller is told (by class and claim, never by message text). */
function failureOf(error: unknown): HttpError {
  if (error instanceof errors.JWTExpired) return refuse('token_expired', 'token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' || error.claim === 'iat')
      return refuse('token_not_yet_valid', 'token is not valid yet');
    if (error.claim === 'iss') return refuse('token_issuer', 'token issuer is not accepted');
    if (error.claim === 'aud') return refuse('token_audience', 'token audience is not accepted');
    return refuse('token_claims', `token claim ${error.claim} is invalid`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return refuse('token_signature', 'token signature does not verify');
  if (error instanceof errors.JWKSNoMatchingKey)
    return refuse('token_unknown_kid', 'no key of the issuer matches the token kid');
  if (error instanceof errors.JWKSMultipleMatchingKeys)
    return refuse('token_unknown_kid', 'several keys match the token; it needs a kid');
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return refuse('token_malformed', 'token algorithm is not accepted');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid)
    return new HttpError(503, 'jwks_unavailable', 'the issuer key set could not be fetched', {
      headers: { 'Retry-After': '5' },
    });
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return refuse('token_malformed', 'token is malformed');
  if (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC')
    return new HttpError(503, 'jwks_unavailable', 'the issuer key set could not be fetched', {
      headers: { 'Retry-After': '5' },
    });
  return refuse('token_malformed', 'token is malformed');
}

type Key = CryptoKey | KeyObject | Uint8Array;

/** How keys are found: a remote JWKS (rotation-aware) or one configured key. */
function keySource(config: JwtConfig): (header: { alg?: string }) => Promise<Key> {
  if (config.jwksUrl) {
    return createRemoteJWKSet(new URL(config.jwksUrl), {
      // An unknown kid refetches the set — at most once per cooldown, however many tokens ask.
      cooldownDuration: config.jwksCooldownMs,
      cacheMaxAge: config.jwksCacheMaxAgeMs,
      timeoutDuration: config.jwksTimeoutMs,
    });
  }
  const byAlg = new Map<string, Promise<Key>>();
  const pk = config.publicKey!;
  return (header: { alg?: string }) => {
    const alg = header.alg ?? '';
    let key = byAlg.get(alg);
    if (!key) {
      key = typeof pk === 'string' ? importSPKI(pk, alg) : importJWK(pk as JWK, alg);
      byAlg.set(alg, key);
    }
    return key;
  };
}

/** The gateway role a claim value names, or null. */
function roleOf(config: JwtConfig, value: unknown): Role | null {
  const values = Array.isArray(value) ? value : [value];
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const mapped = config.roles
      ? config.roles[v]
      : (ROLES as readonly string[]).includes(v)
        ? (v as Role)
        : undefined;
    if (mapped) return mapped;
  }
  return null;
}

/** A claim by name; a dotted name reads a nested claim (`realm_access.roles`). */
const claim = (payload: JWTPayload, name: string): unknown =>
  name
    .split('.')
    .reduce<unknown>(
      (v, k) =>
        v && typeof v === 'object' && Object.hasOwn(v, k) ? (v as Record<string, unknown>)[k] : undefined,
      payload,
    );

/** Verifies bearer tokens against one issuer. */
export class JwtVerifier {
  readonly #config: JwtConfig;
  readonly #key: ReturnType<typeof keySource>;

  constructor(config: JwtConfig) {
    this.#config = config;
    this.#key = keySource(config);
  }

  get plan(): string {
    return this.#config.plan;
  }

  /** The identity of a valid token; an HttpError with the reason otherwise. */
  async verify(token: string): Promise<JwtIdentity> {
    const c = this.#config;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#key as JWTVerifyGetKey, {
        issuer: c.issuer,
        audience: c.audience,
        algorithms: c.algorithms,
        clockTolerance: c.clockTolerance,
        // Without exp a token would be good forever and an open socket never closed.
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw failureOf(error);
    }
    const actor = claim(payload, c.actorClaim);
    if (typeof actor !== 'string' || actor.length === 0 || actor.length > 200 || actor.includes('\u0000'))
      throw refuse('token_claims', `token has no usable ${c.actorClaim} claim`);
    const value = claim(payload, c.roleClaim);
    const role = value === undefined ? (c.defaultRole ?? null) : roleOf(c, value);
    if (!role)
      throw refuse(
        'token_role',
        value === undefined
          ? `token has no ${c.roleClaim} claim`
          : `token ${c.roleClaim} names no gateway role (${ROLES.join(', ')})`,
        403,
      );
    return { actorId: actor, role, expiresAt: payload.exp! * 1000 };
  }
}
