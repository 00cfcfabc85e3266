/**
 * Cold start: importing the package does not load what only some paths use — deployment
 * validation and replay, the routing eval suite and embeddings (routing/index.ts) — they load on
 * first use (bench/cold-start.ts measures the import).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** The source modules (paths under src/) a fresh process loads when it imports `entry`. */
function loadedBy(entry: string): string[] {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ load(url, context, next) { seen.push(url); return next(url, context); } });
    await import(${JSON.stringify(new URL(entry, `file://${SRC}`).href)});
    console.log(JSON.stringify(seen));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const prefix = new URL(`file://${SRC}`).href;
  return (JSON.parse(out) as string[]).filter((u) => u.startsWith(prefix)).map((u) => u.slice(prefix.length));
}

test('importing the package loads no replay, deployment validation, routing suite or embeddings', () => {
  const loaded = loadedBy('index.ts');
  assert.ok(
    loaded.includes('system.ts') && loaded.includes('routing/router.ts'),
    'the hook sees the imports',
  );
  const deferred = loaded.filter(
    (m) =>
      m.startsWith('replay/') ||
      m === 'runtime/deployment-validation.ts' ||
      m === 'routing/index.ts' ||
      m === 'routing/suite.ts' ||
      m === 'routing/embedding.ts',
  );
  assert.deepEqual(deferred, []);
});
