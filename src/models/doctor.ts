/**
 * The model half of `switchboard doctor`: which provider `SWITCHBOARD_MODEL` selects, where its
 * requests go, where its credentials come from, and whether it can do what every run needs — call
 * a tool. The probe offers one tool and a request that must call it (`tool_choice: required`): a
 * server that refuses tools, or a model that answers with text or with arguments that are not JSON,
 * fails the check, because it would fail every run.
 */
import type { LanguageModelV4FunctionTool, LanguageModelV4GenerateResult } from '@ai-sdk/provider';
import type { FetchFunction } from '@ai-sdk/provider-utils';
import { ConfigError } from '../core/errors.ts';
import { familyOf } from './error-classes.ts';
import { ModelProviderError } from './errors.ts';
import {
  createModel,
  describeModelSpec,
  MODEL_VARIABLE,
  parseModelSpec,
  type ModelDescription,
} from './providers.ts';
import { resilienceFromEnv, resilientModel } from './resilient.ts';

export interface ModelCheck {
  /** False when `SWITCHBOARD_MODEL` is unset: the offline model runs (no LLM). */
  configured: boolean;
  description?: ModelDescription;
  /** Resilience settings in effect. */
  settings?: string;
  ok: boolean;
  latencyMs?: number;
  /** What the model did (trimmed), when it answered: the probe's tool call. */
  reply?: string;
  /** `unsupported`: the endpoint or model cannot call tools, so every run would fail. */
  tools?: 'ok' | 'unsupported';
  error?: string;
}

/** The one tool of the probe. */
export const PROBE_TOOL: LanguageModelV4FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Get the current weather in a city',
  inputSchema: {
    type: 'object',
    properties: { city: { type: 'string', description: 'The city name' } },
    required: ['city'],
    additionalProperties: false,
  },
};

const UNSUPPORTED = 'tool calling not supported by this endpoint';

/** What to try, by provider family, when tool calling fails. */
const toolsHint = (provider: string): string =>
  familyOf(provider) === 'openai-compatible'
    ? ' (llama.cpp: start llama-server with --jinja; Ollama and vLLM: use a model and chat template with tool support)'
    : '';

/** The probe's verdict on an answer: the call it made, or why tool calling does not work. */
function judgeProbe(
  result: LanguageModelV4GenerateResult,
  provider: string,
): { ok: true; reply: string } | { ok: false; error: string } {
  const call = result.content.find((p) => p.type === 'tool-call');
  if (!call) {
    const text = result.content
      .map((p) => (p.type === 'text' ? p.text : ''))
      .join('')
      .trim()
      .slice(0, 60);
    return {
      ok: false,
      error: `${UNSUPPORTED}: asked to call ${PROBE_TOOL.name}, the model answered ${text ? `with text: "${text}"` : 'nothing'}${toolsHint(provider)}`,
    };
  }
  if (call.toolName !== PROBE_TOOL.name)
    return {
      ok: false,
      error: `${UNSUPPORTED}: the model called "${call.toolName}", not ${PROBE_TOOL.name}`,
    };
  try {
    const args = JSON.parse(call.input === '' ? '{}' : call.input) as unknown;
    if (!args || typeof args !== 'object' || Array.isArray(args)) throw new Error('not an object');
  } catch {
    return {
      ok: false,
      error: `${UNSUPPORTED}: the model called ${PROBE_TOOL.name} with arguments that are not a JSON object: ${call.input.slice(0, 80)}${toolsHint(provider)}`,
    };
  }
  return { ok: true, reply: `${PROBE_TOOL.name}(${call.input.slice(0, 40)})` };
}

/** Check the configured model: configuration first, then one tiny request bounded by `timeoutMs`. */
export async function checkModel(
  env: Readonly<Record<string, string | undefined>>,
  options: { timeoutMs?: number; fetch?: FetchFunction } = {},
): Promise<ModelCheck> {
  const raw = env[MODEL_VARIABLE];
  if (raw === undefined || raw.trim() === '') return { configured: false, ok: true };
  let description: ModelDescription;
  let settings: string;
  try {
    description = describeModelSpec(parseModelSpec(raw), env);
    const r = resilienceFromEnv(env);
    settings = `timeout ${r.timeoutMs ?? 60_000} ms, ${r.maxRetries ?? 3} retries, ${r.requestsPerMinute ? `${r.requestsPerMinute} requests/min` : 'no rate limit'}`;
  } catch (error) {
    return {
      configured: true,
      ok: false,
      error: error instanceof ConfigError ? error.message : String(error),
    };
  }
  // One attempt, no retries: doctor reports what the provider says now.
  const model = resilientModel(
    createModel(description.spec, env, options.fetch ? { fetch: options.fetch } : {}),
    {
      timeoutMs: options.timeoutMs ?? 15_000,
      maxRetries: 0,
    },
  );
  const started = performance.now();
  const done = (verdict: { ok: boolean; reply?: string; error?: string; tools?: 'ok' | 'unsupported' }) => ({
    configured: true,
    description,
    settings,
    latencyMs: Math.round(performance.now() - started),
    ...verdict,
  });
  try {
    const result = await model.doGenerate({
      prompt: [
        {
          role: 'user',
          content: [{ type: 'text', text: 'What is the weather in Paris? Call the get_weather tool.' }],
        },
      ],
      tools: [PROBE_TOOL],
      toolChoice: { type: 'required' },
      maxOutputTokens: 128,
    });
    const verdict = judgeProbe(result, model.provider);
    return done(verdict.ok ? { ...verdict, tools: 'ok' } : { ...verdict, tools: 'unsupported' });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof ModelProviderError && error.toolsUnsupported)
      return done({ ok: false, tools: 'unsupported', error: `${UNSUPPORTED}: ${message}` });
    return done({ ok: false, error: message });
  }
}
