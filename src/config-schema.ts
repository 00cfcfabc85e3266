/**
 * The configuration schema (config.ts's compileConfig validates with it), built on first use.
 */
import type { LanguageModelV4 } from '@ai-sdk/provider';
import { z } from 'zod';
import type { AgentDefinition } from './core/agent.ts';
import type { AgentRouter } from './core/routing-port.ts';
import { inboundSchemasOf } from './gateway/inbound-config.ts';
import { scheduleSchemaOf } from './core/schedule.ts';
import { isAgent } from './config-keys.ts';
import type { AgentsFactory } from './config-types.ts';
import { lazy } from './core/lazy.ts';

const int = (min = 0) => z.number().int().min(min);

/** `gateway` in the configuration schema. */
function gatewaySchema() {
  const port = z.number().int().min(0).max(65_535);
  const ipRules = z
    .object({ allow: z.array(z.string()).optional(), deny: z.array(z.string()).optional() })
    .strict();
  const planSchema = z
    .object({
      requestsPerMinute: z.number().positive().optional(),
      rate: z.number().positive().optional(),
      burst: z.number().min(1).optional(),
      dailyQuota: z.number().int().positive().nullable().optional(),
      maxConnections: int(1).optional(),
    })
    .strict();
  return z
    .object({
      host: z.string().min(1).optional(),
      port: port.optional(),
      adminHost: z.string().min(1).optional(),
      adminPort: z.union([port, z.literal(false)]).optional(),
      cors: z
        .object({ origins: z.array(z.string().min(1)) })
        .strict()
        .optional(),
      ip: z.object({ public: ipRules.optional(), admin: ipRules.optional() }).strict().optional(),
      plans: z
        .record(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'plan names are lowercase words'), planSchema)
        .optional(),
      auth: z
        .object({
          cacheMs: int().optional(),
          revocationSweepMs: int(10).optional(),
          maxFailures: int(1).optional(),
          failureWindowMs: int(1).optional(),
          jwt: inboundSchemasOf().jwt.optional(),
        })
        .strict()
        .optional(),
      limits: z
        .object({
          maxBodyBytes: int(1).optional(),
          waitTimeoutMs: int().optional(),
          maxFrameBytes: int(1).optional(),
          maxMessageBytes: int(1).optional(),
          sendBufferBytes: int(1).optional(),
          idleMs: int(1).optional(),
          maxAbuse: int(1).optional(),
          maxSubscriptions: int(1).optional(),
        })
        .strict()
        .optional(),
      heartbeatMs: int(1).optional(),
      console: z.boolean().optional(),
    })
    .strict();
}

/** `telemetry` in the configuration schema. */
function telemetrySchema() {
  return z
    .object({
      serviceName: z.string().min(1).optional(),
      otlp: z
        .object({
          endpoint: z.url().optional(),
          tracesEndpoint: z.url().optional(),
          batch: z
            .object({
              scheduleDelayMs: int(0).optional(),
              exportTimeoutMs: int(1).optional(),
              maxExportBatchSize: int(1).optional(),
              maxQueueSize: int(1).optional(),
            })
            .strict()
            .refine((b) => (b.maxExportBatchSize ?? 0) <= (b.maxQueueSize ?? Infinity), {
              message: 'maxExportBatchSize must not exceed maxQueueSize',
              path: ['maxExportBatchSize'],
            })
            .optional(),
        })
        .strict()
        .optional(),
      traces: z.boolean().optional(),
      metrics: z.boolean().optional(),
      logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
      captureContent: z.boolean().optional(),
      prices: z
        .record(
          z.string(),
          z
            .object({
              input: z.number().min(0),
              output: z.number().min(0),
              cachedInput: z.number().min(0).optional(),
            })
            .strict(),
        )
        .optional(),
    })
    .strict();
}

/** `deployments` in the configuration schema. */
function deploymentsSchema() {
  const alarm = z.number().min(0).nullable().optional();

  return z
    .object({
      evaluateEveryMs: int(1).optional(),
      leaseMs: int(100).optional(),
      minRuns: int(1).optional(),
      alarms: z
        .object({
          errorRate: alarm,
          toolErrorRate: alarm,
          escalationRate: alarm,
          denialRate: alarm,
          p95LatencyRatio: alarm,
          costPerRunRatio: alarm,
        })
        .strict()
        .optional(),
      validation: z
        .object({
          replay: z
            .union([
              z.literal(false),
              z
                .object({ runs: int(1).optional(), maxDivergenceRate: z.number().min(0).max(1).optional() })
                .strict(),
            ])
            .optional(),
          suite: z.string().min(1).optional(),
        })
        .strict()
        .optional(),
      source: z.string().min(1).max(200).optional(),
    })
    .strict();
}

/**
 * The configuration schema, built on first use: building it (hundreds of zod schemas) is work a
 * process that never compiles a configuration (a system created from options) does not need.
 */
function buildConfigSchema() {
  const fn = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', { message: `must be ${what}` });
  const isModel = (v: unknown): v is LanguageModelV4 =>
    typeof v === 'object' && v !== null && 'specificationVersion' in v && 'doGenerate' in v;

  const agentSchema = z.custom<AgentDefinition>(isAgent, {
    message: 'must be an agent from defineAgent({...})',
  });

  const configSchema = z
    .object({
      agents: z.union([
        z.array(agentSchema).min(1, 'needs at least one agent'),
        fn<AgentsFactory>('a function'),
      ]),
      defaultAgent: z.string().min(1).optional(),
      policies: z.array(z.unknown()).optional(),
      model: z
        .union([z.string().min(1), z.custom<LanguageModelV4>(isModel, { message: 'must be a model' })])
        .optional(),
      modelSettings: z
        .object({
          timeoutMs: int().optional(),
          maxRetries: int().optional(),
          requestsPerMinute: int(1).optional(),
          maxOutputTokens: int(1).optional(),
          contextTokens: int(256).optional(),
        })
        .strict()
        .optional(),
      store: z
        .object({
          dataDir: z.string().min(1).optional(),
          url: z
            .string()
            .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
            .optional(),
          schema: z
            .string()
            .regex(/^[a-z_][a-z0-9_]{0,40}$/, 'must be a lowercase SQL identifier')
            .optional(),
          poolSize: int(1).optional(),
        })
        .strict()
        .optional(),
      gateway: gatewaySchema().optional(),
      routing: z
        .object({
          router: z
            .union([
              z.literal(false),
              z.custom<AgentRouter>((v) => typeof (v as AgentRouter)?.route === 'function'),
            ])
            .optional(),
          threshold: z.number().min(0).max(1).optional(),
          retrievers: z.instanceof(Map).optional(),
          toolThreshold: z.number().min(0).max(1).optional(),
          coUsage: z
            .union([
              z.boolean(),
              z
                .object({
                  runs: int(1).optional(),
                  refreshMs: int(1000).optional(),
                  minRuns: int(1).optional(),
                })
                .strict(),
            ])
            .optional(),
        })
        .strict()
        .optional(),
      memory: z
        .union([
          z.literal(false),
          z
            .object({
              enabled: z.boolean().optional(),
              k: int(1).optional(),
              retentionMs: int(1).optional(),
              maxFacts: int(0).optional(),
              hooks: z.object({}).passthrough().optional(),
            })
            .strict(),
        ])
        .optional(),
      budgets: z
        .object({
          maxSteps: int(1).optional(),
          maxModelCalls: int(1).optional(),
          maxToolCalls: int(0).optional(),
          maxTokens: int(1).optional(),
          maxDelegationDepth: int(0).optional(),
          deadlineMs: int(1).optional(),
        })
        .strict()
        .optional(),
      limits: z
        .object({
          leaseMs: int(100).optional(),
          pollMs: int(1).optional(),
          sweepIntervalMs: int(1).optional(),
          errorRetryMs: int(0).optional(),
          poisonAttempts: int(1).optional(),
          dedupWindowMs: int(0).optional(),
          approvalTtlMs: int(1).optional(),
          approvalExpiry: z.enum(['approved', 'rejected']).optional(),
          breaker: z
            .object({ threshold: int(1).optional(), cooldownMs: int(0).optional() })
            .strict()
            .optional(),
          routerConcurrency: int(1).optional(),
        })
        .strict()
        .optional(),
      telemetry: telemetrySchema().optional(),
      webhooks: z.array(inboundSchemasOf().webhook).optional(),
      schedules: z.array(scheduleSchemaOf()).optional(),
      batch: z
        .object({
          share: z.number().gt(0).max(1).optional(),
          concurrency: int(1).optional(),
          maxBodyBytes: int(1).optional(),
        })
        .strict()
        .optional(),
      mcp: z.union([z.string().min(1), z.object({}).passthrough()]).optional(),
      faults: z.string().optional(),
      audit: z
        .object({
          key: z.string().min(16, 'must be at least 16 characters (a random secret)').optional(),
          previousKeys: z.array(z.string().min(16, 'must be at least 16 characters')).optional(),
        })
        .strict()
        .optional(),
      deployments: deploymentsSchema().optional(),
    })
    .strict();
  return configSchema;
}
export const configSchemaOf = lazy(buildConfigSchema);
