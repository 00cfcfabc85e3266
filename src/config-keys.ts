/**
 * The parts of configuration checking that are not the schema itself: the nearest valid key for a
 * typo, zod issues as one-line {@link ConfigError}s, environment overrides, and the checks that
 * need the agents (src/config.ts holds the schema and the defaults).
 */
import type { z } from 'zod';
import type { AgentDefinition } from './core/agent.ts';
import { ConfigError } from './core/errors.ts';
/** Environment variables, as read. */
export type Env = Readonly<Record<string, string | undefined>>;

// Errors with the nearest valid key

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const keep = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = keep;
    }
  }
  return row[b.length]!;
}

/** The nearest of `candidates` to `word`, when it is near enough to be a typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

export type AnySchema = z.core.$ZodType;

/** The keys an object schema at `path` accepts (through optional, nullable, default and union). */
function keysAt(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  const def = schema._zod.def as unknown as {
    type: string;
    shape?: Record<string, AnySchema>;
    innerType?: AnySchema;
    options?: AnySchema[];
  };
  if (def.innerType) return keysAt(def.innerType, path);
  if (def.type === 'union') return (def.options ?? []).flatMap((o) => keysAt(o, path));
  if (def.type !== 'object' || !def.shape) return [];
  if (path.length === 0) return Object.keys(def.shape);
  const next = def.shape[String(path[0])];
  return next ? keysAt(next, path.slice(1)) : [];
}

const pathText = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${String(p)}` : String(p)),
    '',
  );

export function configErrorOf(error: z.ZodError, where: string, schema: AnySchema): ConfigError {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const full = pathText([...issue.path, key]);
    const near = nearest(key, keysAt(schema, issue.path));
    return new ConfigError(
      full,
      `unknown key${near ? ` (did you mean ${pathText([...issue.path, near])}?)` : ''}${where}`,
    );
  }
  const p = pathText(issue.path) || 'config';
  return new ConfigError(p, `${issue.message}${where}`);
}

// Environment overrides

export function envOverrides(
  env: Env,
  keys: Readonly<Record<string, string>>,
): { values: Record<string, unknown>; sources: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const [variable, key] of Object.entries(keys)) {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === '') continue;
    sources[key] = variable;
    let value: unknown = raw.trim();
    const number = (): number => {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new ConfigError(variable, `must be a number, got "${raw}"`);
      return n;
    };
    if (/Ms$|Retries$|requestsPerMinute$|port$|Port$|Size$|Tokens$/.test(key)) value = number();
    else if (key === 'gateway.cors.origins' || key === 'audit.previousKeys')
      value = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (key === 'telemetry.captureContent') value = raw.trim() === 'true';
    else if (key === 'telemetry.prices') {
      try {
        value = JSON.parse(raw) as unknown;
      } catch {
        throw new ConfigError(variable, 'must be a JSON object: {"model": {"input": 3, "output": 15}}');
      }
    }
    values[key] = value;
  }
  if (env.OTEL_SDK_DISABLED === 'true') values['telemetry.traces'] = false;
  if (env.OTEL_TRACES_EXPORTER && env.OTEL_TRACES_EXPORTER.split(',').every((x) => x.trim() === 'none'))
    values['telemetry.traces'] = false;
  return { values, sources };
}

export function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let o = target;
  for (const p of parts.slice(0, -1)) {
    const next = o[p];
    o = o[p] = typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...next } : {};
  }
  o[parts.at(-1)!] = value;
}

/**
 * The checks that need the agents themselves: names and tool names unique, delegations and the
 * default agent name existing agents, policies naming existing agents.
 */
export function checkAgents(
  agents: AgentDefinition[],
  config: { defaultAgent?: string | undefined },
  where = '',
): void {
  const names = new Map<string, number>();
  agents.forEach((a, i) => {
    if (!isAgent(a))
      throw new ConfigError(`agents[${i}]`, `must be an agent from defineAgent({...})${where}`);
    const first = names.get(a.name);
    if (first !== undefined) {
      // The same name twice is two versions of one agent: each needs its own label.
      const labels = agents.filter((b) => b.name === a.name).map((b) => b.version);
      if (labels.some((l) => l === undefined) || new Set(labels).size !== labels.length)
        throw new ConfigError(
          `agents.${a.name}`,
          `agent "${a.name}" is defined twice: give each version a distinct version label (defineAgent({ version }))${where}`,
        );
    } else names.set(a.name, i);
  });
  agents.forEach((a, i) => {
    const tools = new Set<string>();
    a.tools.forEach((t, j) => {
      if (tools.has(t.name))
        throw new ConfigError(
          `agents[${i}].tools[${j}].name`,
          `tool "${t.name}" is used twice in agent "${a.name}"${where}`,
        );
      tools.add(t.name);
    });
    a.delegates.forEach((d, j) => {
      if (!names.has(d)) {
        const near = nearest(d, [...names.keys()]);
        throw new ConfigError(
          `agents[${i}].delegates[${j}]`,
          `agent "${a.name}" delegates to "${d}", which is not defined${near ? ` (did you mean "${near}"?)` : ''}${where}`,
        );
      }
      if (d === a.name)
        throw new ConfigError(
          `agents[${i}].delegates[${j}]`,
          `agent "${a.name}" delegates to itself${where}`,
        );
    });
  });
  if (config.defaultAgent !== undefined && !names.has(config.defaultAgent)) {
    const near = nearest(config.defaultAgent, [...names.keys()]);
    throw new ConfigError(
      'defaultAgent',
      `unknown agent "${config.defaultAgent}"${near ? ` (did you mean "${near}"?)` : ''}${where}`,
    );
  }
}

/** An agent from defineAgent (structurally: a name and a tool list). */
export const isAgent = (v: unknown): v is AgentDefinition =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as AgentDefinition).name === 'string' &&
  Array.isArray((v as AgentDefinition).tools);
