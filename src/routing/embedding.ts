/**
 * The optional embedding scorer: a port, an OpenAI-compatible `/v1/embeddings` adapter, and an
 * async router that embeds the catalog once and each query before the synchronous route. Off
 * unless configured; the only network I/O in the routing layer.
 */
import { createRouter, createToolRetriever, type RetrieverOptions, type RouterOptions } from './router.ts';
import { targetFields } from './fields.ts';
import type {
  RetrieveOptions,
  RouteDecision,
  Router,
  RoutingTarget,
  ToolRetrieval,
  ToolRetriever,
} from './types.ts';

/** Turns texts into vectors (one per text, same order). */
export interface EmbeddingPort {
  readonly model: string;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

/** Configuration of {@link openAIEmbeddings}. */
export interface OpenAIEmbeddingsConfig {
  /** e.g. `https://api.openai.com` or `http://127.0.0.1:11434`; `/v1/embeddings` is appended. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Texts per request (default 64). */
  batchSize?: number;
  fetch?: typeof fetch;
}

/**
 * An OpenAI-compatible embeddings adapter.
 * @example
 * const port = openAIEmbeddings({ baseUrl: 'http://127.0.0.1:8080', model: 'bge-small' });
 */
export function openAIEmbeddings(config: OpenAIEmbeddingsConfig): EmbeddingPort {
  const doFetch = config.fetch ?? fetch;
  const url = config.baseUrl.replace(/\/+$/, '') + '/v1/embeddings';
  const batchSize = config.batchSize ?? 64;
  return {
    model: config.model,
    async embed(texts) {
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += batchSize) {
        const batch = texts.slice(i, i + batchSize);
        const res = await doFetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}),
          },
          body: JSON.stringify({ model: config.model, input: batch }),
        });
        if (!res.ok) throw new Error(`embeddings endpoint ${url} answered ${res.status}`);
        const body = (await res.json()) as { data?: { index?: number; embedding?: unknown }[] };
        const data = body.data;
        if (!Array.isArray(data) || data.length !== batch.length) {
          throw new Error(
            `embeddings endpoint ${url} returned ${data?.length ?? 0} vectors for ${batch.length} texts`,
          );
        }
        const ordered = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
        for (const d of ordered) {
          if (!Array.isArray(d.embedding))
            throw new Error(`embeddings endpoint ${url} returned no embedding`);
          out.push(Float32Array.from(d.embedding as number[]));
        }
      }
      return out;
    },
  };
}

/** The text a target is embedded by: name, description, parameters and a few examples. */
export function embeddingText(target: RoutingTarget): string {
  const f = targetFields(target);
  return [f.name, f.description, f.parameters, ...f.examples.slice(0, 20)].filter(Boolean).join('\n');
}

/** A router whose queries are embedded first; `route` stays available for lexical-only decisions. */
export interface EmbeddedRouter extends Router {
  routeAsync(query: string): Promise<RouteDecision>;
}

/** Embed the catalog once, then fit the router with the `embedding` signal on. */
export async function createEmbeddedRouter(
  targets: RoutingTarget[],
  port: EmbeddingPort,
  options: RouterOptions = {},
): Promise<EmbeddedRouter> {
  const targetEmbeddings = await port.embed(targets.map(embeddingText));
  const router = createRouter(targets, { ...options, targetEmbeddings });
  return {
    fitMs: router.fitMs,
    route: (query, o) => router.route(query, o),
    async routeAsync(query) {
      const [queryEmbedding] = await port.embed([query]);
      return router.route(query, queryEmbedding ? { queryEmbedding } : {});
    },
  };
}

/** A tool retriever whose conversations are embedded first. */
export interface EmbeddedToolRetriever extends ToolRetriever {
  retrieveAsync(
    conversation: string,
    options: Omit<RetrieveOptions, 'queryEmbedding'>,
  ): Promise<ToolRetrieval>;
}

/** Embed the tool catalog once, then fit the retriever with the `embedding` signal on. */
export async function createEmbeddedToolRetriever(
  tools: RoutingTarget[],
  port: EmbeddingPort,
  options: RetrieverOptions = {},
): Promise<EmbeddedToolRetriever> {
  const targetEmbeddings = await port.embed(tools.map(embeddingText));
  const retriever = createToolRetriever(tools, { ...options, targetEmbeddings });
  return {
    fitMs: retriever.fitMs,
    retrieve: (conversation, o) => retriever.retrieve(conversation, o),
    async retrieveAsync(conversation, o) {
      const [queryEmbedding] = await port.embed([conversation]);
      return retriever.retrieve(conversation, queryEmbedding ? { ...o, queryEmbedding } : o);
    },
  };
}
