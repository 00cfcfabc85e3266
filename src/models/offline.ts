/**
 * The offline model (no LLM): a deterministic `LanguageModelV4` that runs agents without any
 * provider. It reads the prompt and the tools it is shown — best-first, as the tool retriever
 * ordered them — and follows a small, explainable policy:
 *
 * 1. Split the user's request into clauses and give each clause the shown tool that fits it best
 *    (lexical match of the clause against the tool's name, description and parameters, with the
 *    shown order as the tie-break).
 * 2. For each clause in order, extract the tool's arguments from the request by the tool's JSON
 *    schema: patterns (ids), emails, dates, amounts, ratings, enum values, quoted text, free text.
 *    Identifiers may also come from the conversation (earlier turns, tool results), most recent
 *    first. When a required argument is missing, call a shown lookup tool that can be called and
 *    may reveal it; failing that, ask a clarifying question.
 * 3. When every clause has its tool result, answer from templates that summarise the results (a
 *    result's `summary` field is quoted as is).
 *
 * It is the default for demos, tests and degraded operation, and is labelled "offline model (no
 * LLM)" everywhere. It is general — it knows nothing about any particular tool — but it is not
 * clever: it does what the schema and the words support, and asks otherwise.
 */
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4FunctionTool,
  LanguageModelV4GenerateResult,
  LanguageModelV4Message,
  LanguageModelV4StreamPart,
  LanguageModelV4ToolResultOutput,
  LanguageModelV4Usage,
} from '@ai-sdk/provider';
import { splitClauses, terms, withoutQuotes } from './offline-text.ts';
import { extractArguments, findPattern, ID_LIKE, propSchema, requiredOf } from './offline-args.ts';

export { extractArguments, findPattern } from './offline-args.ts';
export { splitClauses, stem, terms } from './offline-text.ts';

/** How the offline model is labelled in the CLI, console and journal. */
export const OFFLINE_MODEL_LABEL = 'offline model (no LLM)';

export interface OfflineModelOptions {
  /** Minimum lexical score for a tool to count as fitting a clause. Default 1. */
  minScore?: number;
  /** Most tool calls in one turn before the model answers with what it has. Default 6. */
  maxCallsPerTurn?: number;
}

/** A decision of the policy, exposed for tests and explanations. */
export type OfflineDecision =
  | { kind: 'call'; toolName: string; input: Record<string, unknown>; reason: string }
  | { kind: 'ask'; text: string; toolName: string; missing: string[] }
  | { kind: 'answer'; text: string };

interface ToolResultView {
  toolName: string;
  output: LanguageModelV4ToolResultOutput;
}

interface Conversation {
  /** The text the policy works on (the pending request merged with a reply to a question). */
  request: string;
  /** The latest user message alone. */
  latest: string;
  /** Tool calls made since the latest user message, in order. */
  calls: Array<{ toolName: string; input: unknown }>;
  /** Tool results since the latest user message, in order. */
  results: ToolResultView[];
  /** Earlier texts (user, assistant, tool results), most recent first. */
  history: string[];
}

// ---------------------------------------------------------------------------------------------
// Text helpers

function textOf(message: LanguageModelV4Message): string {
  if (message.role === 'system') return message.content;
  return message.content
    .map((part) =>
      part.type === 'text' ? part.text : part.type === 'tool-result' ? outputText(part.output) : '',
    )
    .filter(Boolean)
    .join('\n');
}

function outputText(output: LanguageModelV4ToolResultOutput): string {
  switch (output.type) {
    case 'text':
    case 'error-text':
      return output.value;
    case 'json':
    case 'error-json':
      return JSON.stringify(output.value);
    case 'execution-denied':
      return output.reason ?? 'denied';
    case 'content':
      return output.value.map((v) => (v.type === 'text' ? v.text : '')).join('\n');
  }
}

function readConversation(prompt: LanguageModelV4Message[]): Conversation {
  let lastUser = -1;
  for (let i = prompt.length - 1; i >= 0; i--) {
    if (prompt[i]?.role === 'user') {
      lastUser = i;
      break;
    }
  }
  const latest = lastUser >= 0 ? textOf(prompt[lastUser] as LanguageModelV4Message) : '';
  const calls: Conversation['calls'] = [];
  const results: ToolResultView[] = [];
  for (const message of prompt.slice(lastUser + 1)) {
    if (message.role === 'assistant') {
      for (const part of message.content) {
        if (part.type === 'tool-call') calls.push({ toolName: part.toolName, input: part.input });
        if (part.type === 'tool-result') results.push({ toolName: part.toolName, output: part.output });
      }
    } else if (message.role === 'tool') {
      for (const part of message.content) {
        if (part.type === 'tool-result') results.push({ toolName: part.toolName, output: part.output });
      }
    }
  }
  const earlier = prompt.slice(0, Math.max(lastUser, 0)).filter((m) => m.role !== 'system');
  const history = earlier.map(textOf).filter(Boolean).reverse();
  // A reply to our clarifying question completes the request that raised it.
  let request = latest;
  const previous = earlier.at(-1);
  if (previous?.role === 'assistant') {
    const asked =
      previous.content.every((p) => p.type !== 'tool-call') && textOf(previous).trim().endsWith('?');
    const pending = [...earlier].reverse().find((m) => m.role === 'user');
    if (asked && pending) request = `${textOf(pending)}\n${latest}`;
  }
  return { request, latest, calls, results, history };
}

// ---------------------------------------------------------------------------------------------
// Scoring tools against a clause

interface ToolProfile {
  tool: LanguageModelV4FunctionTool;
  rank: number;
  weights: Map<string, number>;
  delegate: boolean;
}

export function profile(tool: LanguageModelV4FunctionTool, rank: number): ToolProfile {
  const weights = new Map<string, number>();
  const add = (text: string, w: number) => {
    for (const t of terms(text)) weights.set(t, Math.max(weights.get(t) ?? 0, w));
  };
  const delegate = tool.name.startsWith('delegate_to_');
  const schema = tool.inputSchema;
  if (!delegate) {
    for (const [name, prop] of Object.entries(schema.properties ?? {})) {
      add(name.replace(/([a-z])([A-Z])/g, '$1 $2'), 0.5);
      if (typeof prop === 'object' && prop.description) add(prop.description, 0.5);
    }
  }
  // A delegation tool's description is the other agent's responsibility: its every word is a reason to hand over.
  add(tool.description ?? '', delegate ? 1.5 : 1);
  if (delegate) for (const w of ['hand', 'task', 'agent', 'answer', 'back', 'get']) weights.delete(w);
  add(tool.name.replace(/^delegate_to_/, '').replace(/[_-]+/g, ' '), delegate ? 1 : 3);
  return { tool, rank, weights, delegate };
}

export function scoreTools(
  clause: string,
  profiles: ToolProfile[],
  earlier: ReadonlySet<string> = new Set(),
): Array<{ p: ToolProfile; score: number }> {
  const all = terms(withoutQuotes(clause));
  const query = [...new Set(all)];
  const n = profiles.length;
  return profiles
    .map((p) => {
      let score = 0;
      for (const t of query) {
        const w = p.weights.get(t);
        if (!w) continue;
        // Rarer terms among the shown tools discriminate more (an IDF over this call's tools); the
        // clause's first content word is usually its verb or topic ("refund …", "email …") and counts double.
        const df = profiles.filter((q) => q.weights.has(t)).length;
        // A word an earlier clause already used mostly refers back ("… and email her that the refund
        // was issued"), so it counts for little.
        score += w * Math.log(1 + n / df) * (t === all[0] ? 2 : 1) * (earlier.has(t) ? 0.25 : 1);
      }
      // A value in the clause that fits one of the tool's identifier patterns is strong evidence.
      for (const name of requiredOf(p.tool.inputSchema)) {
        const prop = propSchema(p.tool.inputSchema, name);
        if (prop?.pattern && findPattern(prop.pattern, withoutQuotes(clause)).length) score += 0.5;
      }
      // The shown order is the retriever's ranking: a small prior, mostly a tie-break.
      score += (0.2 * (n - p.rank)) / n - (p.delegate ? 0.2 : 0);
      return { p, score };
    })
    .sort((a, b) => b.score - a.score || a.p.rank - b.p.rank);
}

// ---------------------------------------------------------------------------------------------
// Extracting arguments by schema

const describeParam = (tool: LanguageModelV4FunctionTool, name: string): string => {
  const prop = propSchema(tool.inputSchema, name);
  if (prop?.description) return prop.description.charAt(0).toLowerCase() + prop.description.slice(1);
  if (Array.isArray(prop?.enum))
    return `${name} (one of ${prop.enum.map((v) => JSON.stringify(v)).join(', ')})`;
  return name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
};

const purpose = (tool: LanguageModelV4FunctionTool): string => {
  const d = (tool.description ?? tool.name).split(/[.:;]/)[0] ?? tool.name;
  return d.charAt(0).toLowerCase() + d.slice(1);
};

function summarize(result: ToolResultView, tools: Map<string, LanguageModelV4FunctionTool>): string {
  const tool = tools.get(result.toolName);
  const what = tool ? purpose(tool) : result.toolName.replaceAll('_', ' ');
  const o = result.output;
  switch (o.type) {
    case 'execution-denied':
      return `I could not ${what}: ${o.reason ?? 'the step was not approved'}.`;
    case 'error-text':
    case 'error-json':
      return `I could not ${what}: ${outputText(o)}.`;
    case 'text':
    case 'content':
      return outputText(o).trim();
    case 'json': {
      const v = o.value;
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const summary = (v as Record<string, unknown>).summary;
        if (typeof summary === 'string') return summary;
        const fields = Object.entries(v)
          .filter(([, x]) => x === null || ['string', 'number', 'boolean'].includes(typeof x))
          .slice(0, 6)
          .map(([k, x]) => `${k}: ${JSON.stringify(x)}`);
        return `Done (${what}) — ${fields.join(', ')}.`;
      }
      if (Array.isArray(v)) return `Done (${what}): ${v.length} result(s).`;
      return `Done (${what}): ${JSON.stringify(v)}.`;
    }
  }
}

/**
 * Decide the next step for a prompt and the tools shown (best first). Pure and deterministic.
 * @example
 * decide(prompt, tools); // { kind: 'call', toolName: 'track_shipment', input: { reference: 'ORD-10042' }, ... }
 */
export function decide(
  prompt: LanguageModelV4Message[],
  shown: LanguageModelV4FunctionTool[],
  options: OfflineModelOptions = {},
): OfflineDecision {
  const minScore = options.minScore ?? 1;
  const maxCalls = options.maxCallsPerTurn ?? 6;
  const conv = readConversation(prompt);
  const byName = new Map(shown.map((t) => [t.name, t]));
  const profiles = shown.map((t, i) => profile(t, i));
  const answer = (lead?: string): OfflineDecision => {
    const parts = conv.results.map((r) => summarize(r, byName)).filter(Boolean);
    if (lead) parts.push(lead);
    return { kind: 'answer', text: parts.join('\n') || 'Done.' };
  };
  if (!conv.request.trim()) return { kind: 'answer', text: 'How can I help you today?' };
  if (conv.calls.length >= maxCalls) return answer();

  // One intent per clause; a clause that fits no tool, or the same tool as the clause before it,
  // belongs to the previous intent.
  const intents: Array<{ clause: string; profile: ToolProfile; score: number }> = [];
  const earlier = new Set<string>();
  const clauses = splitClauses(conv.request).map((clause) => {
    const best = scoreTools(clause, profiles, earlier)[0];
    for (const t of terms(withoutQuotes(clause))) earlier.add(t);
    return { clause, best };
  });
  // A clause is its own intent only when it fits a tool nearly as well as the strongest clause does.
  const strongest = Math.max(0, ...clauses.map((c) => c.best?.score ?? 0));
  const bar = Math.max(minScore, strongest * 0.25);
  let lead = '';
  for (const { clause, best } of clauses) {
    const prev = intents.at(-1);
    if (!best || best.score < bar) {
      // Context before the first intent ("I'm going to sue you. Escalate this!") belongs to it.
      if (prev) prev.clause += ` ${clause}`;
      else lead += `${clause} `;
      continue;
    }
    if (!prev && lead) {
      intents.push({ clause: lead + clause, profile: best.p, score: best.score });
      continue;
    }
    if (prev && prev.profile === best.p) prev.clause += ` ${clause}`;
    else intents.push({ clause, profile: best.p, score: best.score });
  }
  if (intents.length === 0) {
    if (conv.results.length) return answer();
    const offer = shown.filter((t) => !t.name.startsWith('delegate_to_')).map(purpose);
    return {
      kind: 'answer',
      text: `I'm not sure how to help with that. I can ${offer.slice(0, 5).join('; ') || 'answer questions'}. What would you like to do?`,
    };
  }

  const sources = [...conv.results.map((r) => outputText(r.output)).reverse(), conv.latest, ...conv.history];
  const seen = new Map<string, number>();
  const calledCount = (name: string) => conv.calls.filter((c) => c.toolName === name).length;
  for (const intent of intents) {
    const name = intent.profile.tool.name;
    const nth = (seen.get(name) ?? 0) + 1;
    seen.set(name, nth);
    if (calledCount(name) >= nth) continue;
    const tool = intent.profile.tool;
    if (intent.profile.delegate) {
      // Hand the clause over with the identifiers the other agent will need.
      const known = new Set<string>();
      for (const s of [intent.clause, conv.request, ...conv.history.slice(0, 4)]) {
        for (const m of s.match(ID_LIKE) ?? []) if (!/^\d/.test(m)) known.add(m);
      }
      const extra = [...known].filter((k) => !intent.clause.includes(k));
      const task = extra.length ? `${intent.clause} (context: ${extra.join(', ')})` : intent.clause;
      return { kind: 'call', toolName: name, input: { task }, reason: `delegation fits "${intent.clause}"` };
    }
    const { input, missing } = extractArguments(tool, intent.clause, { request: conv.request, sources });
    if (missing.length === 0) {
      return {
        kind: 'call',
        toolName: name,
        input,
        reason: `best fit for "${intent.clause}" (score ${intent.score.toFixed(2)})`,
      };
    }
    // A lookup that can run now may reveal what is missing (e.g. the order id of "my last order").
    const helpers = scoreTools(intent.clause, profiles).filter(
      (s) =>
        s.p !== intent.profile &&
        !s.p.delegate &&
        s.score >= minScore / 2 &&
        calledCount(s.p.tool.name) === 0,
    );
    for (const h of helpers) {
      const ex = extractArguments(h.p.tool, intent.clause, { request: conv.request, sources });
      const gives = Object.keys(ex.input).some((k) => /id|customer|email|reference|order/i.test(k));
      if (ex.missing.length === 0 && gives) {
        return {
          kind: 'call',
          toolName: h.p.tool.name,
          input: ex.input,
          reason: `looks up what ${name} needs`,
        };
      }
    }
    const wanted = missing.map((m) => describeParam(tool, m));
    const done = conv.results.map((r) => summarize(r, byName));
    const question = `To ${purpose(tool)}, I need the ${wanted.join(' and the ')}. Could you give me ${missing.length > 1 ? 'them' : 'it'}?`;
    return { kind: 'ask', text: [...done, question].join('\n'), toolName: name, missing };
  }
  return answer();
}

// ---------------------------------------------------------------------------------------------
// The LanguageModelV4

const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

/**
 * Create the offline model.
 * @example
 * const model = createOfflineModel();
 * const system = createSystem({ agents, model });
 */
export function createOfflineModel(options: OfflineModelOptions = {}): LanguageModelV4 & { label: string } {
  const generate = (call: LanguageModelV4CallOptions): LanguageModelV4GenerateResult => {
    const shown = (call.tools ?? []).filter((t): t is LanguageModelV4FunctionTool => t.type === 'function');
    const usable = call.toolChoice?.type === 'none' ? [] : shown;
    const decision = decide(call.prompt, usable, options);
    // Derived from the prompt, not a counter: the same prompt gives the same call id (replay, doStream).
    const step = call.prompt.filter((m) => m.role === 'assistant').length + 1;
    const content: LanguageModelV4Content[] = [];
    let outputText: string;
    if (decision.kind === 'call') {
      const input = JSON.stringify(decision.input);
      content.push({
        type: 'tool-call',
        toolCallId: `offline-${step}-${decision.toolName}`,
        toolName: decision.toolName,
        input,
      });
      outputText = decision.toolName + input;
    } else {
      content.push({ type: 'text', text: decision.text });
      outputText = decision.text;
    }
    const inputTokens = estimateTokens(JSON.stringify(call.prompt) + JSON.stringify(shown));
    const outputTokens = estimateTokens(outputText);
    const usage: LanguageModelV4Usage = {
      inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: outputTokens, text: outputTokens, reasoning: undefined },
      raw: { decision: decision.kind, estimated: true },
    };
    return {
      content,
      finishReason:
        decision.kind === 'call'
          ? { unified: 'tool-calls', raw: 'tool_calls' }
          : { unified: 'stop', raw: decision.kind },
      usage,
      warnings: [],
      response: { modelId: 'offline' },
      providerMetadata: { switchboard: { label: OFFLINE_MODEL_LABEL, decision: decision.kind } },
    };
  };
  return {
    specificationVersion: 'v4',
    provider: 'switchboard',
    modelId: 'offline',
    label: OFFLINE_MODEL_LABEL,
    supportedUrls: {},
    async doGenerate(call) {
      return generate(call);
    },
    async doStream(call) {
      const result = generate(call);
      const parts: LanguageModelV4StreamPart[] = [
        { type: 'stream-start', warnings: [] },
        { type: 'response-metadata', modelId: 'offline' },
      ];
      for (const [i, part] of result.content.entries()) {
        if (part.type === 'text') {
          const id = `text-${i}`;
          parts.push({ type: 'text-start', id });
          for (const chunk of part.text.match(/\S+\s*|\s+/g) ?? [])
            parts.push({ type: 'text-delta', id, delta: chunk });
          parts.push({ type: 'text-end', id });
        } else if (part.type === 'tool-call') {
          parts.push({ type: 'tool-input-start', id: part.toolCallId, toolName: part.toolName });
          parts.push({ type: 'tool-input-delta', id: part.toolCallId, delta: part.input });
          parts.push({ type: 'tool-input-end', id: part.toolCallId });
          parts.push(part);
        }
      }
      parts.push({
        type: 'finish',
        usage: result.usage,
        finishReason: result.finishReason,
        ...(result.providerMetadata ? { providerMetadata: result.providerMetadata } : {}),
      });
      const stream = new ReadableStream<LanguageModelV4StreamPart>({
        start(controller) {
          for (const p of parts) controller.enqueue(p);
          controller.close();
        },
      });
      return { stream };
    },
  };
}
