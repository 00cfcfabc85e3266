/**
 * Provider wiring: one string (`SWITCHBOARD_MODEL`, or an agent's `model`) selects an AI SDK
 * language model. Everything is checked when the string is read — a malformed spec, an unknown
 * provider or a missing key is a {@link ConfigError} at start-up naming the variable and the fix,
 * never a failure at the first request.
 *
 * | spec | provider | credentials |
 * |---|---|---|
 * | `openai-compatible:<baseURL>#<model>` | any chat-completions endpoint (vLLM, Ollama, llama.cpp, LM Studio) | `SWITCHBOARD_MODEL_API_KEY` (optional) |
 * | `openai:<model>` | OpenAI (Responses API) | `OPENAI_API_KEY`; `OPENAI_BASE_URL` optional |
 * | `anthropic:<model>` | Anthropic Messages | `ANTHROPIC_API_KEY`; `ANTHROPIC_BASE_URL` optional |
 * | `bedrock:<modelId>` | Amazon Bedrock Converse | `AWS_REGION`; keys from the AWS default chain |
 */
import type { LanguageModelV4 } from '@ai-sdk/provider';
import type { FetchFunction } from '@ai-sdk/provider-utils';
import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { ConfigError } from '../core/errors.ts';

/** The variable that selects the system's model. */
export const MODEL_VARIABLE = 'SWITCHBOARD_MODEL';

export const PROVIDERS = ['openai-compatible', 'openai', 'anthropic', 'bedrock'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** A parsed model spec. */
export type ModelSpec =
  | { provider: 'openai-compatible'; baseURL: string; model: string }
  | { provider: 'openai' | 'anthropic' | 'bedrock'; model: string };

/** Where credentials come from, for `doctor` and start-up logs (never the secret itself). */
export interface ModelDescription {
  spec: ModelSpec;
  /** `openai:gpt-4o-mini`, … */
  label: string;
  endpoint: string;
  /** e.g. `OPENAI_API_KEY`, `AWS default chain (profile, SSO, IMDS)`, `none`. */
  credentials: string;
}

export interface ModelFactoryOptions {
  /** The variable being read, named in errors (default `SWITCHBOARD_MODEL`). */
  variable?: string;
  /** Replaces `fetch` for every provider request (tests, proxies). */
  fetch?: FetchFunction;
}

type Env = Readonly<Record<string, string | undefined>>;

const EXAMPLES =
  'e.g. openai:gpt-4o-mini, anthropic:claude-sonnet-4-20250514, bedrock:anthropic.claude-3-5-haiku-20241022-v1:0 or openai-compatible:http://127.0.0.1:11434/v1#llama3.1';

const set = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/**
 * Parse a model spec string.
 * @example
 * parseModelSpec('openai-compatible:http://127.0.0.1:8000/v1#qwen2.5-7b');
 * // { provider: 'openai-compatible', baseURL: 'http://127.0.0.1:8000/v1', model: 'qwen2.5-7b' }
 */
export function parseModelSpec(spec: string, variable: string = MODEL_VARIABLE): ModelSpec {
  const s = spec.trim();
  const colon = s.indexOf(':');
  if (colon <= 0)
    throw new ConfigError(variable, `"${s}" is not <provider>:<model>; set it like ${EXAMPLES}`);
  const provider = s.slice(0, colon);
  const rest = s.slice(colon + 1).trim();
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    throw new ConfigError(
      variable,
      `unknown provider "${provider}"; use one of ${PROVIDERS.join(', ')} (${EXAMPLES})`,
    );
  }
  if (provider === 'openai-compatible') {
    const hash = rest.lastIndexOf('#');
    const baseURL = hash < 0 ? rest : rest.slice(0, hash);
    const model = hash < 0 ? '' : rest.slice(hash + 1).trim();
    let url: URL | null;
    try {
      url = new URL(baseURL);
    } catch {
      url = null;
    }
    if (!url || !/^https?:$/.test(url.protocol) || !model) {
      throw new ConfigError(
        variable,
        `"${s}" must be openai-compatible:<http(s) base URL>#<model>, e.g. openai-compatible:http://127.0.0.1:11434/v1#llama3.1`,
      );
    }
    return { provider, baseURL: baseURL.replace(/\/+$/, ''), model };
  }
  if (!rest || /\s/.test(rest))
    throw new ConfigError(variable, `"${s}" names no model; set it like ${EXAMPLES}`);
  return { provider: provider as 'openai' | 'anthropic' | 'bedrock', model: rest };
}

const awsRegion = (env: Env): string | undefined =>
  set(env.AWS_REGION) ? env.AWS_REGION : set(env.AWS_DEFAULT_REGION) ? env.AWS_DEFAULT_REGION : undefined;

/** Check credentials and describe where requests go, without creating a model. */
export function describeModelSpec(spec: ModelSpec, env: Env, variable = MODEL_VARIABLE): ModelDescription {
  const label =
    spec.provider === 'openai-compatible'
      ? `openai-compatible:${spec.model}`
      : `${spec.provider}:${spec.model}`;
  const missing = (key: string, hint: string): ConfigError =>
    new ConfigError(
      variable,
      `${spec.provider} needs ${key}: export ${key}=… (${hint}) or choose another provider`,
    );
  switch (spec.provider) {
    case 'openai-compatible':
      return {
        spec,
        label,
        endpoint: spec.baseURL,
        credentials: set(env.SWITCHBOARD_MODEL_API_KEY) ? 'SWITCHBOARD_MODEL_API_KEY' : 'none',
      };
    case 'openai':
      if (!set(env.OPENAI_API_KEY)) throw missing('OPENAI_API_KEY', 'an API key from platform.openai.com');
      return {
        spec,
        label,
        endpoint: set(env.OPENAI_BASE_URL) ? env.OPENAI_BASE_URL : 'https://api.openai.com/v1',
        credentials: 'OPENAI_API_KEY',
      };
    case 'anthropic':
      if (!set(env.ANTHROPIC_API_KEY) && !set(env.ANTHROPIC_AUTH_TOKEN))
        throw missing('ANTHROPIC_API_KEY', 'an API key from console.anthropic.com');
      return {
        spec,
        label,
        endpoint: set(env.ANTHROPIC_BASE_URL) ? env.ANTHROPIC_BASE_URL : 'https://api.anthropic.com/v1',
        credentials: set(env.ANTHROPIC_API_KEY) ? 'ANTHROPIC_API_KEY' : 'ANTHROPIC_AUTH_TOKEN',
      };
    case 'bedrock': {
      const region = awsRegion(env);
      if (!region)
        throw missing('AWS_REGION', 'the region your Bedrock models are enabled in, e.g. us-east-1');
      if (set(env.AWS_ACCESS_KEY_ID) !== set(env.AWS_SECRET_ACCESS_KEY)) {
        const absent = set(env.AWS_ACCESS_KEY_ID) ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID';
        throw new ConfigError(
          variable,
          `bedrock: ${absent} is missing while its pair is set; export both, or neither to use the AWS default credential chain`,
        );
      }
      return {
        spec,
        label,
        endpoint: bedrockEndpoint(env) ?? `https://bedrock-runtime.${region}.amazonaws.com`,
        credentials: set(env.AWS_BEARER_TOKEN_BEDROCK)
          ? 'AWS_BEARER_TOKEN_BEDROCK'
          : set(env.AWS_ACCESS_KEY_ID)
            ? 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY'
            : 'AWS default chain (profile, SSO, web identity, container, IMDS)',
      };
    }
  }
}

const bedrockEndpoint = (env: Env): string | undefined =>
  set(env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME)
    ? env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME
    : set(env.AWS_ENDPOINT_URL)
      ? env.AWS_ENDPOINT_URL
      : undefined;

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
  env: Env = process.env,
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
export function createModelFromEnv(
  env: Env = process.env,
  options: ModelFactoryOptions = {},
): LanguageModelV4 | undefined {
  const variable = options.variable ?? MODEL_VARIABLE;
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return undefined;
  return createModel(parseModelSpec(raw, variable), env, options);
}
