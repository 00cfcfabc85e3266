/**
 * Model specs, parsed and checked without loading any provider SDK (src/models/providers.ts
 * creates the model). Provider wiring: one string (`SWITCHBOARD_MODEL`, or an agent's `model`) selects an AI SDK
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
import type { FetchFunction } from '@ai-sdk/provider-utils';
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

export type Env = Readonly<Record<string, string | undefined>>;

const EXAMPLES =
  'e.g. openai:gpt-4o-mini, anthropic:claude-sonnet-4-20250514, bedrock:anthropic.claude-3-5-haiku-20241022-v1:0 or openai-compatible:http://127.0.0.1:11434/v1#llama3.1';

export const set = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

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

export const awsRegion = (env: Env): string | undefined =>
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

export const bedrockEndpoint = (env: Env): string | undefined =>
  set(env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME)
    ? env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME
    : set(env.AWS_ENDPOINT_URL)
      ? env.AWS_ENDPOINT_URL
      : undefined;
