/**
 * Provider wiring: create the AI SDK language model a spec names (src/models/spec.ts parses and
 * checks it). The provider SDKs load with this module, so the CLI imports it only when a provider
 * model is configured.
 */
import type { LanguageModelV4 } from '@ai-sdk/provider';
import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import {
  awsRegion,
  describeModelSpec,
  MODEL_VARIABLE,
  parseModelSpec,
  set,
  type Env,
  type ModelFactoryOptions,
  type ModelSpec,
} from './spec.ts';

export {
  describeModelSpec,
  MODEL_VARIABLE,
  parseModelSpec,
  PROVIDERS,
  type ModelDescription,
  type ModelFactoryOptions,
  type ModelSpec,
  type ProviderName,
} from './spec.ts';

/** The AWS default credential chain, loaded only when a Bedrock model without env keys is used. */
function awsDefaultChain(): () => Promise<{
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}> {
  let provider:
    (() => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>) | null = null;
  return async () => {
    if (!provider) {
      const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
      const chain = defaultProvider();
      provider = async () => {
        const c = await chain();
        return {
          accessKeyId: c.accessKeyId,
          secretAccessKey: c.secretAccessKey,
          ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
        };
      };
    }
    return provider();
  };
}

/**
 * Create the language model a spec names, reading credentials from `env` (not from `process.env`
 * behind the caller's back).
 */
export function createModel(
  spec: ModelSpec | string,
  env: Env,
  options: ModelFactoryOptions = {},
): LanguageModelV4 {
  const variable = options.variable ?? MODEL_VARIABLE;
  const s = typeof spec === 'string' ? parseModelSpec(spec, variable) : spec;
  const d = describeModelSpec(s, env, variable);
  const fetch = options.fetch ? { fetch: options.fetch } : {};
  switch (s.provider) {
    case 'openai-compatible':
      return createOpenAICompatible({
        name: 'openai-compatible',
        baseURL: s.baseURL,
        ...(set(env.SWITCHBOARD_MODEL_API_KEY) ? { apiKey: env.SWITCHBOARD_MODEL_API_KEY } : {}),
        // Ask for usage in streamed answers too: every model call records its tokens.
        includeUsage: true,
        ...fetch,
      }).chatModel(s.model);
    case 'openai':
      return createOpenAI({
        apiKey: env.OPENAI_API_KEY ?? '',
        baseURL: d.endpoint,
        ...(set(env.OPENAI_ORG_ID) ? { organization: env.OPENAI_ORG_ID } : {}),
        ...(set(env.OPENAI_PROJECT_ID) ? { project: env.OPENAI_PROJECT_ID } : {}),
        ...fetch,
      }).languageModel(s.model);
    case 'anthropic':
      return createAnthropic({
        baseURL: d.endpoint,
        ...(set(env.ANTHROPIC_API_KEY)
          ? { apiKey: env.ANTHROPIC_API_KEY }
          : { authToken: env.ANTHROPIC_AUTH_TOKEN ?? '' }),
        ...fetch,
      }).languageModel(s.model);
    case 'bedrock': {
      const region = awsRegion(env) ?? '';
      const accessKeyId = env.AWS_ACCESS_KEY_ID;
      const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
      const sessionToken = env.AWS_SESSION_TOKEN;
      const fromEnv =
        set(accessKeyId) && set(secretAccessKey)
          ? async () => ({ accessKeyId, secretAccessKey, ...(set(sessionToken) ? { sessionToken } : {}) })
          : awsDefaultChain();
      return createAmazonBedrock({
        region,
        baseURL: d.endpoint,
        // An empty key keeps the provider from reading process.env: credentials come from `env` only.
        apiKey: env.AWS_BEARER_TOKEN_BEDROCK ?? '',
        credentialProvider: fromEnv,
        ...fetch,
      }).languageModel(s.model);
    }
  }
}

/**
 * The model `SWITCHBOARD_MODEL` selects, or `undefined` when it is unset (the caller then uses the
 * offline model). Throws {@link ConfigError} — one line naming the variable and the fix.
 * @example
 * const model = createModelFromEnv(process.env) ?? createOfflineModel();
 */
export function createModelFromEnv(env: Env, options: ModelFactoryOptions = {}): LanguageModelV4 | undefined {
  const variable = options.variable ?? MODEL_VARIABLE;
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return undefined;
  return createModel(parseModelSpec(raw, variable), env, options);
}
