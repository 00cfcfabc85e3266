/** The text fields a routing target is indexed by: name, description, parameters, examples. */
import type { RoutingTarget } from './types.ts';

/** A target's searchable text, split into fields that are weighted separately. */
export interface TargetFields {
  name: string;
  description: string;
  /** Parameter names, descriptions and enum values from the JSON Schema. */
  parameters: string;
  examples: string[];
}

const MAX_SCHEMA_DEPTH = 6;

/** Collect parameter names, descriptions and enum values from a JSON Schema, depth-first. */
export function schemaText(schema: unknown): string {
  const parts: string[] = [];
  const visit = (node: unknown, depth: number): void => {
    if (depth > MAX_SCHEMA_DEPTH || node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (typeof obj.description === 'string' && depth > 0) parts.push(obj.description);
    if (Array.isArray(obj.enum)) {
      for (const v of obj.enum) if (typeof v === 'string' || typeof v === 'number') parts.push(String(v));
    }
    const props = obj.properties;
    if (props && typeof props === 'object') {
      for (const [key, child] of Object.entries(props as Record<string, unknown>)) {
        parts.push(key);
        visit(child, depth + 1);
      }
    }
    if (obj.items) visit(obj.items, depth + 1);
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
      const list = obj[key];
      if (Array.isArray(list)) for (const child of list) visit(child, depth + 1);
    }
  };
  visit(schema, 0);
  return parts.join(' . ');
}

/** Split a target into its indexed fields. */
export function targetFields(target: RoutingTarget): TargetFields {
  return {
    name: target.name,
    description: target.description,
    parameters: target.parameters === undefined ? '' : schemaText(target.parameters),
    examples: target.examples ?? [],
  };
}
