/** The gateway's public API: create a gateway in front of a system; key stores; plans and their counters. */
export { createGateway } from './server.ts';
export type { Gateway, GatewayOptions } from './server.ts';
export { createMemoryKeyStore, createSqliteKeyStore, issueKey, hashKey, ROLES } from './keys.ts';
export type { IssuedKey, KeyRecord, KeyStore, Role } from './keys.ts';
export { createPostgresKeyStore } from './keys-postgres.ts';
export type { GatewayPgOptions } from './keys-postgres.ts';
export { DEFAULT_PLANS, UsageMeter } from './plans.ts';
export type { Admission, Plan, UsageCounter } from './plans.ts';
export { createPostgresUsage } from './usage-postgres.ts';
export { DEFAULT_LIMITS } from './context.ts';
export type { ApprovalsApi, GatewayLimits, MemoryApi } from './context.ts';
export { HttpError, mapError } from './errors.ts';
export { ROUTES } from './schemas.ts';
export { openApiDocument } from './openapi.ts';
export type { FetchHandler } from './http.ts';
export { keysCreate, keysList, keysRevoke, serve, startDemoGateway } from './cli.ts';
