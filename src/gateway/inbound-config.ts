/**
 * The configuration of work that enters without an API key: signed webhooks (`webhooks: [...]`)
 * and JWT identities (`gateway.auth.jwt`). The schemas and their compiling live here so config.ts
 * only plugs them in; every default is in config.ts's DEFAULTS and is passed in.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { compileTemplate, type HookTemplate } from './hook-template.ts';
import { ROLES, type Role } from './keys.ts';
import { MAX_ID_CHARS } from '../core/limits.ts';
import { lazy } from '../core/lazy.ts';

/** The webhook and JWT schemas, built on first use: only compiling a configuration needs them. */
function inboundSchemas() {
  const header = z
    .string()
    .regex(/^[A-Za-z0-9-]{1,100}$/, 'must be an HTTP header name')
    .transform((v) => v.toLowerCase());

  /** One webhook as a project writes it. */
  const webhook = z
    .object({
      name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a lowercase word (a-z, 0-9, _ and -)'),
      secrets: z
        .array(z.string().min(16, 'must be at least 16 characters (a random secret)'))
        .min(1, 'needs at least one secret'),
      agent: z.string().min(1).optional(),
      input: z.string().min(1, 'must not be empty'),
      session: z.string().min(1).optional(),
      idempotencyHeader: header.optional(),
      toleranceSec: z.number().int().min(1).max(86_400).optional(),
      maxBodyBytes: z.number().int().min(1).optional(),
      actor: z.string().min(1).max(MAX_ID_CHARS).optional(),
    })
    .strict();

  /** Seconds, or a duration such as `30s`, `2m`. */
  const seconds = z.union([
    z.number().int().min(0),
    z
      .string()
      .regex(/^\d+(s|m|h)$/, 'must be seconds or a duration such as 30s, 2m')
      .transform((v) => Number(v.slice(0, -1)) * { s: 1, m: 60, h: 3600 }[v.slice(-1) as 's' | 'm' | 'h']),
  ]);

  /** `gateway.auth.jwt` as a project writes it. */
  const jwt = z
    .object({
      issuer: z.string().min(1),
      audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
      jwksUrl: z.url().optional(),
      publicKey: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
      algorithms: z.array(z.string().regex(/^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/)).optional(),
      actorClaim: z.string().min(1).optional(),
      roleClaim: z.string().min(1).optional(),
      roles: z.record(z.string(), z.enum(ROLES)).optional(),
      defaultRole: z.enum(ROLES).optional(),
      plan: z.string().min(1).optional(),
      clockTolerance: seconds.optional(),
      jwksCooldownMs: z.number().int().min(0).optional(),
      jwksCacheMaxAgeMs: z.number().int().min(1).optional(),
      jwksTimeoutMs: z.number().int().min(1).optional(),
    })
    .strict()
    .refine((j) => (j.jwksUrl === undefined) !== (j.publicKey === undefined), {
      message: 'needs exactly one of jwksUrl or publicKey',
      path: ['jwksUrl'],
    });
  return { webhook, jwt };
}
type InboundSchemas = ReturnType<typeof inboundSchemas>;
export const inboundSchemasOf = lazy(inboundSchemas);

export type WebhookInput = z.input<InboundSchemas['webhook']>;

/** A webhook with every default filled in and its templates compiled. */
export interface WebhookConfig {
  name: string;
  /** HMAC keys, newest first; any one verifying is enough (rotation). */
  secrets: string[];
  agent?: string;
  input: HookTemplate;
  /** Session template; absent: one session per event (`hook:<name>:<eventId>`). */
  session?: HookTemplate;
  /** Lower-case header carrying the event id (dedup key, part of the signed content). */
  idempotencyHeader: string;
  toleranceSec: number;
  /** Largest body, bytes; absent: the gateway's `limits.maxBodyBytes`. */
  maxBodyBytes?: number;
  actor: string;
}

export const WEBHOOK_DEFAULTS = { idempotencyHeader: 'webhook-id', toleranceSec: 300 } as const;

const template = (source: string, key: string): HookTemplate => {
  try {
    return compileTemplate(source);
  } catch (error) {
    throw new ConfigError(key, (error as Error).message);
  }
};

/** Compile the configured webhooks: defaults, templates, unique names, known agents. */
export function compileWebhooks(
  list: readonly z.output<InboundSchemas['webhook']>[],
  defaults: { idempotencyHeader: string; toleranceSec: number } = WEBHOOK_DEFAULTS,
): WebhookConfig[] {
  const seen = new Set<string>();
  return list.map((w, i) => {
    const key = `webhooks[${i}]`;
    if (seen.has(w.name)) throw new ConfigError(`${key}.name`, `duplicate webhook name "${w.name}"`);
    seen.add(w.name);
    return {
      name: w.name,
      secrets: [...w.secrets],
      ...(w.agent !== undefined ? { agent: w.agent } : {}),
      input: template(w.input, `${key}.input`),
      ...(w.session !== undefined ? { session: template(w.session, `${key}.session`) } : {}),
      idempotencyHeader: w.idempotencyHeader ?? defaults.idempotencyHeader,
      toleranceSec: w.toleranceSec ?? defaults.toleranceSec,
      ...(w.maxBodyBytes !== undefined ? { maxBodyBytes: w.maxBodyBytes } : {}),
      actor: w.actor ?? `hook:${w.name}`,
    };
  });
}

export type JwtInput = z.input<InboundSchemas['jwt']>;

/** JWT verification settings with every default filled in. */
export interface JwtConfig {
  issuer: string;
  audience: string | string[];
  jwksUrl?: string;
  /** A PEM SPKI public key, or one public JWK. */
  publicKey?: string | Record<string, unknown>;
  algorithms: string[];
  actorClaim: string;
  roleClaim: string;
  /** Claim value → gateway role; without it the claim must name a role (user, operator, …). */
  roles?: Record<string, Role>;
  /** The role of a token without the role claim; absent: such a token is refused. */
  defaultRole?: Role;
  plan: string;
  /** Seconds of clock skew accepted on exp / nbf / iat. */
  clockTolerance: number;
  jwksCooldownMs: number;
  jwksCacheMaxAgeMs: number;
  jwksTimeoutMs: number;
}

export const JWT_DEFAULTS = {
  algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
  actorClaim: 'sub',
  roleClaim: 'role',
  plan: 'default',
  clockTolerance: 30,
  jwksCooldownMs: 30_000,
  jwksCacheMaxAgeMs: 600_000,
  jwksTimeoutMs: 5_000,
} as const;

/** Fill in the JWT defaults. */
export function compileJwt(
  j: z.output<InboundSchemas['jwt']>,
  defaults: typeof JWT_DEFAULTS = JWT_DEFAULTS,
): JwtConfig {
  return {
    issuer: j.issuer,
    audience: j.audience,
    ...(j.jwksUrl !== undefined ? { jwksUrl: j.jwksUrl } : {}),
    ...(j.publicKey !== undefined ? { publicKey: j.publicKey } : {}),
    algorithms: j.algorithms ?? [...defaults.algorithms],
    actorClaim: j.actorClaim ?? defaults.actorClaim,
    roleClaim: j.roleClaim ?? defaults.roleClaim,
    ...(j.roles ? { roles: j.roles } : {}),
    ...(j.defaultRole ? { defaultRole: j.defaultRole } : {}),
    plan: j.plan ?? defaults.plan,
    clockTolerance: j.clockTolerance ?? defaults.clockTolerance,
    jwksCooldownMs: j.jwksCooldownMs ?? defaults.jwksCooldownMs,
    jwksCacheMaxAgeMs: j.jwksCacheMaxAgeMs ?? defaults.jwksCacheMaxAgeMs,
    jwksTimeoutMs: j.jwksTimeoutMs ?? defaults.jwksTimeoutMs,
  };
}
