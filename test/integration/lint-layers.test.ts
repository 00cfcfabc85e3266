/**
 * Issue 16 must-show 2: the layer rules of docs/architecture.md fail `npm run lint` on an import
 * cycle or an upward import. Each case writes a small src/ tree in a temporary directory and runs
 * the real dependency-cruiser with the project's .dependency-cruiser.cjs against it, as the lint
 * script does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

/** A tree that keeps every rule: each layer imports only lower ones, no cycle. */
const CLEAN: Record<string, string> = {
  'src/core/events.ts': `export type Kind = 'run.submitted';\nexport const KIND: Kind = 'run.submitted';\n`,
  'src/store/ports.ts': `import type { Kind } from '../core/events.ts';\nexport interface Store { append(kind: Kind): void }\n`,
  'src/routing/router.ts': `import { KIND } from '../core/events.ts';\nexport const route = (): string => KIND;\n`,
  'src/memory/facts.ts': `import type { Store } from '../store/ports.ts';\nexport const facts = (s: Store): Store => s;\n`,
  'src/runtime/engine.ts': `import type { Store } from '../store/ports.ts';\nimport { route } from '../routing/router.ts';\nexport class Engine { constructor(readonly store: Store) {}\n  route = route; }\n`,
  'src/replay/replay.ts': `import { route } from '../routing/router.ts';\nexport const replay = (): string => route();\n`,
  'src/system.ts': `import { Engine } from './runtime/engine.ts';\nimport type { Store } from './store/ports.ts';\nexport const createSystem = (store: Store): Engine => new Engine(store);\n`,
  'src/gateway/http.ts': `import type { createSystem } from '../system.ts';\nexport type System = ReturnType<typeof createSystem>;\n`,
  'src/cli/main.ts': `import type { System } from '../gateway/http.ts';\nexport const main = (s: System): System => s;\n`,
  'src/index.ts': `export { createSystem } from './system.ts';\n`,
};

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Run depcruise on `files` (paths relative to a fresh checkout-like directory). */
function cruise(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sb-layers-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const r = spawnSync(process.execPath, [DEPCRUISE, 'src', '--config', CONFIG], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('lint: layers and import cycles (dependency-cruiser)', () => {
  it('passes a tree whose imports all point down', () => {
    const r = cruise(CLEAN);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /no dependency violations found/);
  });

  it('fails on an import cycle, naming the rule and the modules', () => {
    const r = cruise({
      ...CLEAN,
      'src/gateway/http.ts': `import { serveConsole } from './static.ts';\nexport const routes = (): string => serveConsole();\nexport type Env = { id: string };\n`,
      'src/gateway/static.ts': `import type { Env } from './http.ts';\nexport const serveConsole = (env?: Env): string => env?.id ?? '';\n`,
      'src/cli/main.ts': `import { routes } from '../gateway/http.ts';\nexport const main = (): string => routes();\n`,
    });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /error no-circular: src\/gateway\/(http|static)\.ts/);
  });

  it('counts a cycle made only of type imports', () => {
    const r = cruise({
      ...CLEAN,
      'src/store/ports.ts': `import type { Row } from './rows.ts';\nexport interface Store { read(): Row }\n`,
      'src/store/rows.ts': `import type { Store } from './ports.ts';\nexport interface Row { from: Store }\n`,
    });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /error no-circular: src\/store\/(ports|rows)\.ts/);
  });

  it('fails on an upward import: core importing the runtime', () => {
    const r = cruise({
      ...CLEAN,
      'src/core/events.ts': `import type { Engine } from '../runtime/engine.ts';\nexport type Kind = 'run.submitted';\nexport const KIND: Kind = 'run.submitted';\nexport type E = Engine;\n`,
    });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /error layer-core: src\/core\/events\.ts → src\/runtime\/engine\.ts/);
  });

  it('fails on an upward import: the composition root importing the CLI', () => {
    const r = cruise({
      ...CLEAN,
      'src/cli/lint.ts': `export const formatLint = (): string => '';\n`,
      'src/system.ts': `${CLEAN['src/system.ts']}import { formatLint } from './cli/lint.ts';\nexport const lint = formatLint;\n`,
    });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /error layer-composition: src\/system\.ts → src\/cli\/lint\.ts/);
  });

  it('fails on an import beside its layer: one adapter importing another', () => {
    const r = cruise({
      ...CLEAN,
      'src/store/ports.ts': `import type { Kind } from '../core/events.ts';\nimport { route } from '../routing/router.ts';\nexport interface Store { append(kind: Kind): void }\nexport const r = route;\n`,
    });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /error layer-store: src\/store\/ports\.ts → src\/routing\/router\.ts/);
  });

  it('keeps the engine behind the System: the gateway may not import it', () => {
    const r = cruise({
      ...CLEAN,
      'src/gateway/ws.ts': `import type { Engine } from '../runtime/engine.ts';\nexport type E = Engine;\n`,
    });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /error engine-behind-system: src\/gateway\/ws\.ts → src\/runtime\/engine\.ts/);
  });

  it('fails on a module in no layer', () => {
    const r = cruise({ ...CLEAN, 'src/misc/util.ts': `export const x = 1;\n` });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /error not-in-a-layer: src\/misc\/util\.ts/);
  });
});
