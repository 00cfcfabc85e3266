/**
 * The OpenAPI 3.1 document, generated from the route table (schemas.ts): the router validates
 * with the same schemas, so the document and the behaviour cannot drift apart.
 */
import { z } from 'zod';
import { PathId, ROUTES, type RouteSpec } from './schemas.ts';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
};

/** The OpenAPI 3.1 document of {@link ROUTES}. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES as readonly RouteSpec[]) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const parameters: unknown[] = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: jsonSchema(PathId, 'input'),
    }));
    if (r.query) {
      for (const [name, schema] of Object.entries(r.query.shape)) {
        parameters.push({
          name,
          in: 'query',
          required: false,
          schema: jsonSchema(schema as z.ZodType, 'input'),
        });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(r.responses)) {
      const content: Record<string, unknown> = {};
      if (res.schema)
        content[res.jsonl ? 'application/x-ndjson' : 'application/json'] = {
          schema: jsonSchema(res.schema, 'output'),
        };
      if (res.sse) content['text/event-stream'] = { schema: { type: 'string' } };
      responses[status] = { description: res.description, ...(res.schema ? { content } : {}) };
    }
    (paths[path] ??= {})[r.method] = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.auth === false ? { security: [] } : {}),
      ...(r.roles ? { 'x-roles': r.roles } : {}),
      ...(r.ownerScoped ? { 'x-owner-scoped': true } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(r.body, 'input') } },
            },
          }
        : {}),
      ...(r.rawBody
        ? {
            requestBody: {
              required: true,
              content: Object.fromEntries(r.rawBody.types.map((t) => [t, { schema: { type: 'string' } }])),
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Switchboard gateway',
      version,
      description:
        'Runs, live progress and approvals of a Switchboard system. WebSocket API at /v1/ws (see docs/gateway.md).',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key from `switchboard keys create`, or a JWT of `gateway.auth.jwt`',
        },
      },
    },
    security: [{ apiKey: [] }],
    paths,
  };
}
