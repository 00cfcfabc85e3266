/**
 * `node bin/bundle.ts` (the last step of `npm run build`): replaces tsc's one-file-per-module
 * JavaScript in dist/ with an esbuild bundle of the package's entry points, code-split so that
 * every entry (the exports in package.json, the `switchboard` bin and the reference example the
 * demo loads) shares one copy of each module through chunks in dist/src/chunks/.
 *
 * Why: a fresh process importing the package resolved, read and compiled 112 files of its own;
 * resolution and per-module overhead, not the code, were half of the import (bench/cold-start.ts).
 * Dynamic imports stay dynamic (their own chunks), so what loads on first use still does. The
 * declarations (.d.ts, .d.ts.map) stay tsc's; dependencies stay external (never bundled).
 */
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = join(ROOT, 'dist');

interface Manifest {
  bin: Record<string, string>;
  exports: Record<string, string | { default?: string }>;
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;

/** dist/src/x.js → src/x.ts: the source each built entry point is bundled from. */
const sourceOf = (built: string): string => built.replace(/^\.?\/?dist\//, '').replace(/\.js$/, '.ts');
const built = [
  ...Object.values(pkg.bin),
  ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'object' && e.default ? [e.default] : [])),
  // Loaded by path (never imported) by `switchboard demo`; bundled so that it shares the CLI's modules.
  'dist/examples/enterprise/switchboard.config.js',
];
const entryPoints = [...new Set(built.map(sourceOf))];

const result = await build({
  absWorkingDir: ROOT,
  entryPoints,
  outbase: '.',
  outdir: 'dist',
  entryNames: '[dir]/[name]',
  chunkNames: 'src/chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22.13',
  packages: 'external',
  sourcemap: 'linked',
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
});

// What went where (not shipped): `npx esbuild --analyze` reads it, or https://esbuild.github.io/analyze/.
writeFileSync(join(DIST, 'bundle.meta.json'), JSON.stringify(result.metafile));

// tsc's JavaScript (and its maps) for modules now inside the bundle: removed, so that nothing can
// import a second copy of a module. Declarations stay.
const outputs = new Set(Object.keys(result.metafile.outputs).map((p) => resolve(ROOT, p)));
let removed = 0;
for (const entry of readdirSync(DIST, { recursive: true, withFileTypes: true })) {
  const path = join(entry.parentPath, entry.name);
  if (!entry.isFile() || !/\.js(\.map)?$/.test(entry.name) || outputs.has(path)) continue;
  rmSync(path);
  removed++;
}
const chunks = Object.keys(result.metafile.outputs).filter(
  (p) => p.startsWith('dist/src/chunks/') && p.endsWith('.js'),
).length;
console.log(
  `bundle: ${entryPoints.length} entry points, ${chunks} chunks in ${relative(ROOT, join(DIST, 'src', 'chunks'))}, ` +
    `${removed} unbundled files removed`,
);
