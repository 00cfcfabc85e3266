/**
 * The package as a user gets it: `npm pack`, the tarball installed into a fresh directory outside
 * the repository, and there (a) the README quick start as written, (b) a consumer TypeScript file
 * type-checked against the shipped declarations, (c) `npx switchboard --version`, and
 * `npx switchboard init app` + the scaffold's own `npm test` and a `switchboard run`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
// tsc of this checkout; everything runs on the pinned Node (the one running this test).
const NODE_BIN = dirname(process.execPath);
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(file: string, args: string[], cwd: string, timeoutMs = 300_000): Promise<Out> {
  return new Promise((resolve) => {
    // The user's environment (certificates, proxies, HOME), without anything that configures
    // Switchboard or the npm run this test may be part of.
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (k.startsWith('SWITCHBOARD_') || k.startsWith('OTEL_') || k === 'NODE_TEST_CONTEXT') continue;
      if (k.startsWith('npm_') && k !== 'npm_config_cache' && k !== 'npm_config_registry') continue;
      env[k] = v;
    }
    env.PATH = `${NODE_BIN}:${process.env.PATH ?? ''}`;
    execFile(
      file,
      args,
      { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** npm, as the user's shell finds it, on the pinned Node (its bin directory comes first on PATH). */
const npm = (args: string[], cwd: string, timeoutMs?: number): Promise<Out> =>
  sh('npm', [...args, '--no-audit', '--no-fund'], cwd, timeoutMs);

const npx = (args: string[], cwd: string): Promise<Out> =>
  sh(process.execPath, [join(cwd, 'node_modules', '.bin', 'switchboard'), ...args], cwd);

describe('the packed package, installed in a fresh directory', { timeout: 900_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'sb-pkg-'));
  const consumer = join(work, 'consumer');
  let tarball = '';

  before(async () => {
    // `prepack` builds dist/ and the console; here only dist/ is rebuilt (the console test may be
    // serving console/dist meanwhile; `npm ci` built it), then the tarball is packed as published.
    const built = await npm(['run', 'build'], ROOT, 600_000);
    assert.equal(built.code, 0, built.stdout.slice(-3000) + built.stderr.slice(-2000));
    const packed = await npm(
      ['pack', '--ignore-scripts', '--pack-destination', work, '--json'],
      ROOT,
      600_000,
    );
    assert.equal(packed.code, 0, packed.stderr.slice(-2000));
    const [first] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {
      filename: string;
      files: { path: string }[];
    }[];
    assert.ok(first, 'npm pack reported the tarball');
    const { filename, files } = first;
    tarball = join(work, filename);
    const paths = files.map((f) => f.path);
    // Built JavaScript, declarations and source maps, the console, the docs — no TypeScript sources or tests.
    for (const p of [
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/index.js.map',
      'dist/src/cli/bin.js',
      'console/dist/index.html',
      'docs/config.md',
      'README.md',
    ])
      assert.ok(paths.includes(p), `the tarball has ${p}`);
    assert.ok(
      !paths.some((p) => p.startsWith('src/') || p.startsWith('test/')),
      'no sources or tests shipped',
    );
    // The JavaScript is the bundle (bin/bundle.ts): the entry points and their shared chunks, no
    // per-module files beside them that could be imported as a second copy of a module.
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
      exports: Record<string, string | { default?: string }>;
    };
    const entries = new Set(
      [
        ...Object.values(manifest.bin),
        ...Object.values(manifest.exports).flatMap((e) =>
          typeof e === 'object' && e.default ? [e.default] : [],
        ),
        'dist/examples/enterprise/switchboard.config.js',
      ].map((p) => p.replace(/^\.\//, '')),
    );
    const loose = paths.filter(
      (p) =>
        p.startsWith('dist/') && p.endsWith('.js') && !p.startsWith('dist/src/chunks/') && !entries.has(p),
    );
    assert.deepEqual(loose, [], 'only entry points and chunks');
    assert.ok(
      paths.some((p) => p.startsWith('dist/src/chunks/')),
      'the shared chunks are shipped',
    );
    mkdirSync(consumer);
    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    const installed = await npm(['install', tarball, '@types/node@24'], consumer);
    assert.equal(installed.code, 0, installed.stderr.slice(-2000));
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it('(a) runs the README quick start as written', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(code, 'README has a ts code block');
    assert.match(code, new RegExp(`from '${PKG.name}'`), 'it imports the published name');
    writeFileSync(join(consumer, 'quick.ts'), code);
    const r = await sh(process.execPath, ['quick.ts'], consumer);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 run\.submitted/);
    assert.match(r.stdout, /Order ORD-7 is in transit\./);
  });

  it('(b) a consumer TypeScript file type-checks against the shipped declarations', async () => {
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2024',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          allowImportingTsExtensions: true,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    writeFileSync(
      join(consumer, 'consumer.ts'),
      `import { z } from 'zod';
import { createSystem, defineAgent, defineConfig, defineTool, type RunView, type SwitchboardConfig } from '${PKG.name}';
import { createMemoryStore, scriptedModel } from '${PKG.name}/testing';
import { createGateway, createMemoryKeyStore } from '${PKG.name}/gateway';
import { createPostgresStore, type PostgresStoreOptions } from '${PKG.name}/postgres';

const pgOptions: PostgresStoreOptions = { url: 'postgres://127.0.0.1:5432/test', schema: 'app' };
export const onPostgres = () => createSystem({ agents: [agent], model: scriptedModel([{ text: 'ok' }]), store: createPostgresStore(pgOptions) });
const lookup = defineTool({
  name: 'lookup',
  description: 'Look a thing up',
  input: z.object({ id: z.string() }),
  risk: 'read',
  run: async ({ id }) => ({ id, found: true }),
});
const agent = defineAgent({ name: 'desk', responsibility: 'Look things up', instructions: 'Be brief.', tools: [lookup] });
export const config: SwitchboardConfig = defineConfig({ agents: [agent], gateway: { port: 8080 } });
// @ts-expect-error -- a mistyped key is a type error too
defineConfig({ agents: [agent], gateway: { prot: 8080 } });
const system = createSystem({ agents: [agent], model: scriptedModel([{ text: 'ok' }]), store: createMemoryStore() });
export const gateway = createGateway({ system, keys: createMemoryKeyStore(), port: 0 });
export async function answer(): Promise<string | undefined> {
  const { runId } = await system.submit({ actorId: 'a', sessionId: 's', input: 'hi' });
  const view: RunView = await system.wait(runId);
  return view.output;
}
`,
    );
    const r = await sh(process.execPath, [TSC, '-p', '.'], consumer);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // The check is real: a wrong call fails it.
    writeFileSync(
      join(consumer, 'consumer.ts'),
      `import { defineAgent } from '${PKG.name}';\ndefineAgent({ name: 1 });\n`,
    );
    const bad = await sh(process.execPath, [TSC, '-p', '.'], consumer);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout, /consumer\.ts/);
  });

  it('(c) npx switchboard --version, then init app: its npm test passes and run answers offline', async () => {
    const version = await npx(['--version'], consumer);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), PKG.version);
    // As the README says: `npm install <package>` made a package.json, `init` completes it in place.
    const inPlace = await npx(['init'], consumer);
    assert.equal(inPlace.code, 0, inPlace.stderr);
    const merged = JSON.parse(readFileSync(join(consumer, 'package.json'), 'utf8')) as {
      type: string;
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    assert.equal(merged.type, 'module');
    assert.match(merged.dependencies[PKG.name] ?? '', /\.tgz$/, 'the installed version is kept');
    assert.ok(merged.dependencies.zod && merged.scripts.test);
    const here = await npx(['run', 'What is the status of ticket T-1001?'], consumer);
    assert.equal(here.code, 0, here.stdout + here.stderr);
    assert.match(here.stdout, /completed \(helpdesk\): .*T-1001.*open/);
    const init = await npx(['init', 'app'], consumer);
    assert.equal(init.code, 0, init.stderr);
    const app = join(consumer, 'app');
    assert.deepEqual(
      readdirSync(app).sort(),
      ['.gitignore', 'README.md', 'package.json', 'switchboard.config.ts', 'test', 'tickets.ts'].sort(),
    );
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    assert.equal(manifest.dependencies[PKG.name], `^${PKG.version}`);
    // Not published from here: the tarball stands in for the registry's copy.
    const installed = await npm(['install', tarball], app);
    assert.equal(installed.code, 0, installed.stderr.slice(-2000));
    const tested = await npm(['test'], app);
    assert.equal(tested.code, 0, tested.stdout + tested.stderr);
    assert.match(tested.stdout, /pass 2\n/);
    const ran = await npx(['run', 'What is the status of ticket T-1001?'], app);
    assert.equal(ran.code, 0, ran.stdout + ran.stderr);
    assert.match(ran.stdout, /completed \(helpdesk\): .*T-1001.*open/);
    const lint = await npx(['lint'], app);
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);
  });

  it('(d) npx switchboard demo --exit plays the reference tour from the bundled example', async () => {
    const demo = await npx(['demo', '--exit'], consumer);
    assert.equal(demo.code, 0, demo.stdout + demo.stderr);
    assert.match(demo.stdout, /Multi-turn, 2: "his orders" resolved from memory\s+commerce\s+completed/);
    assert.match(demo.stdout, /dist\/examples\/enterprise\/switchboard\.config\.js/);
    assert.doesNotMatch(demo.stdout, /✘/);
  });
});
