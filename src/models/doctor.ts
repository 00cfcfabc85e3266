/**
 * The model half of `switchboard doctor`: which provider `SWITCHBOARD_MODEL` selects, where its
 * requests go, where its credentials come from, and whether it answers a one-word prompt.
 */
import type { FetchFunction } from '@ai-sdk/provider-utils';
import { ConfigError } from '../core/errors.ts';
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
  /** What the model said (trimmed), when it answered. */
  reply?: string;
  error?: string;
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
  try {
    const result = await model.doGenerate({
      prompt: [{ role: 'user', content: [{ type: 'text', text: 'Reply with the single word OK.' }] }],
      maxOutputTokens: 16,
    });
    const reply = result.content
      .map((p) => (p.type === 'text' ? p.text : ''))
      .join('')
      .trim()
      .slice(0, 40);
    return {
      configured: true,
      description,
      settings,
      ok: true,
      latencyMs: Math.round(performance.now() - started),
      reply,
    };
  } catch (error) {
    return {
      configured: true,
      description,
      settings,
      ok: false,
      latencyMs: Math.round(performance.now() - started),
      error: error instanceof Error ? error.message : String(error),
    };
  }
}
