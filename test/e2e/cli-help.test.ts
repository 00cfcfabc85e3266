/**
 * docs/cli.md against the real `switchboard` binary: every documented command has a `--help` that
 * lists exactly the documented flags, every documented flag is accepted by the parser, and every
 * command the binary has is documented. The docs are parsed, not copied, so neither can drift.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const CLI_DOC = fileURLToPath(new URL('../../docs/cli.md', import.meta.url));
const ROUTING_DOC = fileURLToPath(new URL('../../docs/routing.md', import.meta.url));
const PACKAGE = fileURLToPath(new URL('../../package.json', import.meta.url));
const AGENTS_SUITE = fileURLToPath(new URL('../unit/routing/fixtures/agents-suite.json', import.meta.url));

/** A flag as written in the docs or the help: `--limit <n>` is `{ name: '--limit', value: '<n>' }`. */
interface Flag {
  name: string;
  value: string | null;
}

interface DocCommand {
  words: string[];
  flags: Flag[];
}

const spec = (f: Flag): string => (f.value ? `${f.name} ${f.value}` : f.name);

const HEADING = /^### `switchboard ([a-z][a-z-]*(?: [a-z][a-z-]*)*)`\s*$/;
const DOC_FLAG = /^- `(--[a-z][a-z0-9-]*)(?: (<[^<>\s]+>|\[[^[\]\s]+\]))?` — \S/;

/** The commands of docs/cli.md; a flag bullet that does not parse is an error, never skipped. */
function parseCliDoc(text: string): DocCommand[] {
  const commands: DocCommand[] = [];
  let current: DocCommand | null = null;
  for (const [i, line] of text.split('\n').entries()) {
    if (line.startsWith('#')) {
      const m = HEADING.exec(line);
      current = m ? { words: m[1]!.split(' '), flags: [] } : null;
      if (current) commands.push(current);
      continue;
    }
    if (!current || !line.startsWith('- `-')) continue;
    const m = DOC_FLAG.exec(line);
    if (!m)
      throw new Error(`docs/cli.md:${i + 1}: flag bullet not in the form "- \`--flag <value>\` — text"`);
    current.flags.push({ name: m[1]!, value: m[2] ?? null });
  }
  return commands;
}

interface Help {
  usage: string;
  flags: Flag[];
  commands: string[];
}

/** Commander's help text: the Usage line, the Options section and the Commands section. */
function parseHelp(text: string): Help {
  const lines = text.split('\n');
  const section = (title: string): string[] => {
    const start = lines.indexOf(`${title}:`);
    if (start < 0) return [];
    const end = lines.findIndex((l, i) => i > start && l.trim() === '');
    // An entry is indented by exactly two spaces; wrapped descriptions are indented further.
    return lines.slice(start + 1, end < 0 ? undefined : end).filter((l) => /^ {2}\S/.test(l));
  };
  const flags = section('Options').map((l) => {
    const m = /^ {2}(?:-[A-Za-z], )?(--[a-z][a-z0-9-]*)(?: (<[^<>\s]+>|\[[^[\]\s]+\]))?(?: |$)/.exec(l);
    if (!m) throw new Error(`help option line does not parse: ${JSON.stringify(l)}`);
    return { name: m[1]!, value: m[2] ?? null };
  });
  const commands = section('Commands').map((l) => /^ {2}([a-z][a-z-]*)/.exec(l)?.[1] ?? l.trim());
  return { usage: lines[0] ?? '', flags, commands };
}

/** The environment of a child: nothing of ours that could configure it by accident. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('SWITCHBOARD_') && !k.startsWith('OTEL_') && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  return env;
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const dir = mkdtempSync(join(tmpdir(), 'sb-cli-help-'));
const CONFIG_FILE = join(dir, 'switchboard.config.mjs');
// Never loaded: parsing `--config <file>` does not open it. It exists so the value is a real path.
writeFileSync(CONFIG_FILE, 'export default {};\n');
const work = mkdtempSync(join(dir, 'cwd-'));

function sb(args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: work, env: cleanEnv(), stdio: 'pipe' });
    child.stdin.end();
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A value the flag's parser accepts, by its placeholder. */
function plausible(value: string): string {
  const placeholder = value.slice(1, -1);
  const values: Record<string, string> = {
    n: '5',
    ms: '5',
    format: 'json',
    dimension: 'agent',
    status: 'completed',
    duration: '15m',
    list: '1,3',
    names: 'a',
    role: 'user',
    file: CONFIG_FILE,
  };
  return values[placeholder] ?? 'x';
}

/** Placeholders whose values the parser itself validates: nonsense must be refused before anything runs. */
const VALIDATED = new Set(['<n>', '<ms>', '<duration>', '<status>', '<format>', '<dimension>']);

/** What commander says when only the positional arguments are wrong (the options parsed). */
const ARGUMENT_ERROR = /^error: (missing required argument|too many arguments)/;

/**
 * Arguments that make commander stop with an argument-count error *after* it parsed the options and
 * checked them for unknown ones — so nothing runs. `--help` cannot do this: commander answers
 * `--help` even after an unknown option (`runs --bogus --help` exits 0), so it proves nothing.
 * Required options (`resolve --call`, `keys create --name --role`) are found from commander's own
 * "required option … not specified" error, which it checks before unknown options.
 */
async function parseOnlyArgs(words: string[], usage: string): Promise<string[]> {
  const rest = usage.slice(`Usage: switchboard ${words.join(' ')}`.length);
  if (rest.includes('...')) throw new Error(`variadic arguments: no argument-count error for ${usage}`);
  const required = (rest.match(/<[^>]+>/g) ?? []).length;
  const optional = (rest.match(/\[[^\]]+\]/g) ?? []).filter((a) => a !== '[options]').length;
  // Missing arguments if any are required, else one more than it takes.
  const positionals = required > 0 ? [] : Array.from({ length: optional + 1 }, (_, i) => `extra${i}`);
  const mandatory: string[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const args = [...words, ...positionals, ...mandatory];
    const r = await sb(args);
    const missing = /^error: required option '(--[a-z][a-z0-9-]*)(?: <([^>]+)>)?' not specified/.exec(
      r.stderr,
    );
    if (missing) {
      mandatory.push(missing[1]!, missing[2] ? plausible(`<${missing[2]}>`) : 'x');
      continue;
    }
    assert.notEqual(r.code, 0, `${args.join(' ')} ran instead of stopping at its arguments`);
    assert.match(r.stderr, ARGUMENT_ERROR, `${args.join(' ')}: ${r.stderr}`);
    return [...positionals, ...mandatory];
  }
  throw new Error(`${words.join(' ')}: too many required options`);
}

/** A small pool: the machine has two cores and every check is a process. */
async function pool<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, lane));
}

const documented = parseCliDoc(readFileSync(CLI_DOC, 'utf8'));
const byName = new Map(documented.map((c) => [c.words.join(' '), c]));

describe('docs/cli.md against the switchboard binary', { concurrency: 4, timeout: 180_000 }, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the docs parse into at least 30 commands, each documented once', () => {
    assert.ok(documented.length >= 30, `found ${documented.length} commands in docs/cli.md`);
    assert.equal(byName.size, documented.length, 'a command is documented twice');
  });

  for (const command of documented) {
    const name = command.words.join(' ');
    it(`switchboard ${name}: --help lists exactly the documented flags, and each parses`, async () => {
      const help = await sb([...command.words, '--help']);
      assert.equal(help.code, 0, help.stderr);
      assert.ok(
        help.stdout.startsWith(`Usage: switchboard ${name} `) ||
          help.stdout.startsWith(`Usage: switchboard ${name}\n`),
        `usage line: ${help.stdout.split('\n')[0]}`,
      );
      const parsed = parseHelp(help.stdout);
      const inHelp = parsed.flags.filter((f) => f.name !== '--help').map(spec);
      const inDocs = command.flags.map(spec);
      assert.deepEqual(
        inDocs.filter((f) => !inHelp.includes(f)),
        [],
        `documented in docs/cli.md but not in \`switchboard ${name} --help\``,
      );
      assert.deepEqual(
        inHelp.filter((f) => !inDocs.includes(f)),
        [],
        `in \`switchboard ${name} --help\` but not documented in docs/cli.md`,
      );

      const base = await parseOnlyArgs(command.words, parsed.usage);
      const checks: { args: string[]; expect: RegExp; what: string }[] = [];
      for (const flag of command.flags) {
        const given = flag.value ? [flag.name, plausible(flag.value)] : [flag.name];
        checks.push({ args: given, expect: ARGUMENT_ERROR, what: `${spec(flag)} is accepted` });
        if (flag.value && VALIDATED.has(flag.value))
          checks.push({
            args: [flag.name, 'bogus'],
            expect: new RegExp(
              `^error: option '${spec(flag).replace(/[[\]]/g, '\\$&')}' argument 'bogus' is invalid`,
            ),
            what: `${spec(flag)} refuses a nonsense value`,
          });
      }
      // One at a time within a command: the commands themselves run four at a time.
      await pool(checks, 1, async ({ args, expect, what }) => {
        const r = await sb([...command.words, ...base, ...args]);
        assert.notEqual(r.code, 0, `${what}: it ran`);
        assert.doesNotMatch(r.stderr, /unknown option/, `${what}: ${r.stderr}`);
        assert.match(r.stderr, expect, `${what}: ${r.stderr}`);
      });
    });
  }

  it('every command the binary has is documented', async () => {
    const leaves: string[] = [];
    const walk = async (words: string[]): Promise<void> => {
      const r = await sb([...words, '--help']);
      assert.equal(r.code, 0, r.stderr);
      const sub = parseHelp(r.stdout).commands.filter((c) => c !== 'help');
      if (sub.length === 0 || byName.has(words.join(' '))) leaves.push(words.join(' '));
      await pool(sub, 4, (c) => walk([...words, c]));
    };
    await walk([]);
    const undocumented = leaves.filter((c) => c !== '' && !byName.has(c));
    assert.deepEqual(undocumented, [], 'commands missing from docs/cli.md');
  });

  it('an unknown flag or a bad value exits 2 (usage) with one line naming it', async () => {
    const bad = await sb(['runs', '--limit', 'abc']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: option '--limit <n>' argument 'abc' is invalid/);
    const r = await sb(['runs', '--bogus']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /unknown option '--bogus'/);
  });

  it('--version and version print the version in package.json', async () => {
    const { version } = JSON.parse(readFileSync(PACKAGE, 'utf8')) as { version: string };
    for (const args of [['--version'], ['version']]) {
      const r = await sb(args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${version}\n`, args.join(' '));
    }
  });

  it('eval <suite> --json without a configuration prints one line with the keys docs/routing.md documents', async () => {
    const r = await sb(['eval', AGENTS_SUITE, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stdout);
    const result = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(result).sort(), evalJsonKeys(readFileSync(ROUTING_DOC, 'utf8')));
    const help = await sb(['eval', '--help']);
    assert.equal(help.code, 0, help.stderr);
  });
});

/**
 * The top-level keys of the `eval --json` object as docs/routing.md's "## Evaluation" section
 * documents them: the names its bullets define (`- \`top1\` — …`, `…; \`fitMs\` — …`) and any JSON example.
 */
function evalJsonKeys(text: string): string[] {
  const start = text.indexOf('\n## Evaluation\n');
  assert.ok(start >= 0, 'docs/routing.md has no "## Evaluation" section');
  const end = text.indexOf('\n#', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const keys = new Set<string>();
  const key = '`[a-zA-Z][a-zA-Z0-9]*(?:\\[\\w+\\])?`';
  // A backticked name that starts a definition: followed by " —", alone or in a list ("`a`, `b` and `c` —").
  const defined = new RegExp(
    `\`([a-zA-Z][a-zA-Z0-9]*)(?:\\[\\w+\\])?\`(?=(?:(?:,| and|, and) ${key})* —)`,
    'g',
  );
  for (const line of section.split('\n').filter((l) => l.startsWith('- ')))
    for (const m of line.matchAll(defined)) keys.add(m[1]!);
  for (const block of section.matchAll(/```json\n([\s\S]*?)```/g)) {
    const example = JSON.parse(block[1]!) as Record<string, unknown>;
    for (const k of Object.keys(example)) keys.add(k);
  }
  assert.ok(keys.size > 0, 'docs/routing.md documents no eval --json keys');
  return [...keys].sort();
}
