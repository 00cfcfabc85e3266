/**
 * What a provider's error means, by provider family: one table per family mapping the HTTP status,
 * the error's type/code and (where the provider says nothing else) its message to a class. The
 * class decides whether a retry can succeed — only rate limits, overload and transient failures
 * are retried — and it is what the run's error reports (`details.class`). Providers name their
 * failures in text only, so the text is matched here, once; everything downstream branches on the
 * class.
 */

/** Why a model call failed, in terms of what can fix it. */
export type ModelErrorClass =
  /** Bad or missing credentials, no permission: fix the key. */
  | 'auth'
  /** The endpoint, model name, server flags or request shape are wrong: fix the setup. */
  | 'configuration'
  /** The prompt does not fit the model's context window. */
  | 'context_length'
  /** The provider's safety filter refused the prompt or the answer. */
  | 'content_filter'
  /** Too many requests for now: wait (honouring `retry-after`) and retry. */
  | 'rate_limit'
  /** The provider is overloaded or still loading the model: back off and retry. */
  | 'overload'
  /** A dropped connection, a timeout, a 5xx without a known cause: retry. */
  | 'transient'
  /** The model's own output could not be parsed (by the server or by Switchboard). */
  | 'model_behaviour';

/** The classes a retry can fix. */
export const RETRYABLE_CLASSES: ReadonlySet<ModelErrorClass> = new Set([
  'rate_limit',
  'overload',
  'transient',
]);

/** Provider families with a table of their own (src/models/providers.ts creates their models). */
export type ProviderFamily = 'openai-compatible' | 'openai' | 'anthropic' | 'bedrock';

/** The family of an AI SDK provider id (`openai-compatible.chat`, `anthropic.messages`, `amazon-bedrock`…). */
export function familyOf(provider: string): ProviderFamily {
  if (provider.startsWith('openai-compatible')) return 'openai-compatible';
  if (provider.startsWith('openai')) return 'openai';
  if (provider.startsWith('anthropic')) return 'anthropic';
  if (/bedrock/i.test(provider)) return 'bedrock';
  return 'openai-compatible';
}

/** What is known of one failed answer. */
export interface ProviderAnswer {
  status: number | undefined;
  /** The provider's message (the error body's `message`, else the SDK's). */
  message: string;
  /** `error.type` / `error.code` / `__type` / `x-amzn-errortype`, when the body gave one. */
  type?: string | undefined;
}

interface Rule {
  /** Status it applies to (any when absent). */
  status?: (s: number) => boolean;
  /** Matched against the type (exact, case-insensitive) when given. */
  type?: RegExp;
  /** Matched against the message when given. */
  message?: RegExp;
  class: ModelErrorClass;
  /** What to do about it, appended to the run's error. */
  hint?: string;
  /** The endpoint refuses tool calling itself (not this request). */
  toolsUnsupported?: true;
}

const is =
  (...codes: number[]) =>
  (s: number): boolean =>
    codes.includes(s);
const client = (s: number): boolean => s >= 400 && s < 500;
const server = (s: number): boolean => s >= 500;

/** Context-window messages of the servers behind OpenAI-compatible endpoints (llama.cpp, vLLM, Ollama, OpenAI). */
const CONTEXT =
  /exceeds the available context size|maximum context length|context[_ ]length[_ ]exceeded|context window|prompt is too long|too many (input )?tokens|input is too long|reduce the length of the messages/i;

/** Shared tail of every table: what the status alone says. */
const BY_STATUS: Rule[] = [
  { status: is(401, 403), class: 'auth', hint: 'check the API key and its permissions' },
  { status: is(429), class: 'rate_limit' },
  { status: is(503, 529), class: 'overload' },
  { status: is(408, 409, 425), class: 'transient' },
  { status: is(413), class: 'context_length' },
  { status: client, class: 'configuration' },
  { status: server, class: 'transient' },
];

const OPENAI_COMMON: Rule[] = [
  { type: /^(invalid_api_key|authentication_error|permission_denied)$/i, class: 'auth' },
  { type: /^insufficient_quota$/i, class: 'configuration', hint: 'the account has no quota left' },
  {
    type: /^(context_length_exceeded|exceed_context_size_error|string_above_max_length)$/i,
    class: 'context_length',
  },
  { type: /^content_filter$/i, class: 'content_filter' },
  { message: /content (management )?(policy|filter)|flagged by|safety system/i, class: 'content_filter' },
  { message: CONTEXT, class: 'context_length' },
  { type: /^(model_not_found|not_found_error)$/i, class: 'configuration', hint: 'check the model name' },
];

const TABLES: Record<ProviderFamily, Rule[]> = {
  'openai-compatible': [
    {
      message: /tools param requires --jinja/i,
      class: 'configuration',
      hint: 'tool calling is not enabled on this server: start llama-server with --jinja',
      toolsUnsupported: true,
    },
    {
      message: /does not support tools|no endpoints found that support tool use/i,
      class: 'configuration',
      hint: 'this model or server does not support tool calling',
      toolsUnsupported: true,
    },
    {
      message: /jinja exception|chat template|conversation roles must alternate/i,
      class: 'configuration',
      hint: "the model's chat template refused the conversation",
    },
    {
      message: /does not match the expected .*format|failed to parse (input|tool call)/i,
      class: 'model_behaviour',
    },
    { status: is(503), message: /loading model/i, class: 'overload' },
    ...OPENAI_COMMON,
    { status: is(404), class: 'configuration', hint: 'check the base URL and the model name' },
    ...BY_STATUS,
  ],
  openai: [...OPENAI_COMMON, ...BY_STATUS],
  anthropic: [
    { type: /^(authentication_error|permission_error)$/i, class: 'auth' },
    { type: /^rate_limit_error$/i, class: 'rate_limit' },
    { type: /^overloaded_error$/i, class: 'overload' },
    { type: /^request_too_large$/i, class: 'context_length' },
    { message: /prompt is too long|exceed(s|ed)? .*context/i, class: 'context_length' },
    { message: /content filtering policy|output blocked/i, class: 'content_filter' },
    { type: /^not_found_error$/i, class: 'configuration', hint: 'check the model name' },
    { type: /^invalid_request_error$/i, class: 'configuration' },
    { type: /^api_error$/i, class: 'transient' },
    ...BY_STATUS,
  ],
  bedrock: [
    {
      type: /(AccessDenied|UnrecognizedClient|ExpiredToken|InvalidSignature|MissingAuthenticationToken)/i,
      class: 'auth',
      hint: 'check the AWS credentials and that the model is enabled for them',
    },
    { type: /Throttling|TooManyRequests/i, class: 'rate_limit' },
    { type: /ServiceUnavailable|ModelNotReady/i, class: 'overload' },
    { type: /ModelTimeout|InternalServer|ModelError/i, class: 'transient' },
    {
      message: /input is too long|too many input tokens|exceeds? .*(context|token)/i,
      class: 'context_length',
    },
    { message: /content filter|guardrail/i, class: 'content_filter' },
    { type: /ResourceNotFound/i, class: 'configuration', hint: 'check the model id and the region' },
    { type: /Validation/i, class: 'configuration' },
    ...BY_STATUS,
  ],
};

/** The class of a provider's answer, and the hint of the rule that matched. */
export function classifyAnswer(
  provider: string,
  answer: ProviderAnswer,
): { class: ModelErrorClass; hint?: string; toolsUnsupported?: true } {
  for (const rule of TABLES[familyOf(provider)]) {
    if (rule.status && (answer.status === undefined || !rule.status(answer.status))) continue;
    if (rule.type && !(answer.type !== undefined && rule.type.test(answer.type))) continue;
    if (rule.message && !rule.message.test(answer.message)) continue;
    return {
      class: rule.class,
      ...(rule.hint ? { hint: rule.hint } : {}),
      ...(rule.toolsUnsupported ? { toolsUnsupported: true as const } : {}),
    };
  }
  // No status and nothing recognized: a failure of the connection, not of the request.
  return { class: answer.status === undefined ? 'transient' : 'configuration' };
}

/** The message and type of an error body as providers send them (`{error:{message,type,code}}`, `{message,__type}`). */
export function answerOf(
  status: number | undefined,
  fallback: string,
  body: unknown,
  headers?: Record<string, string>,
): ProviderAnswer {
  const rec = (o: unknown): Record<string, unknown> | undefined =>
    o && typeof o === 'object' ? (o as Record<string, unknown>) : undefined;
  const top = rec(body);
  const inner = rec(top?.error) ?? top;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const header = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'x-amzn-errortype')?.[1];
  const type =
    str(inner?.type) ??
    (typeof inner?.code === 'string' ? inner.code : undefined) ??
    str(top?.__type) ??
    str(header?.split(':')[0]);
  return {
    status,
    message: str(inner?.message) ?? str(top?.message) ?? fallback,
    ...(type !== undefined ? { type } : {}),
  };
}
