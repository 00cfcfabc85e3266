#!/usr/bin/env node
// The `switchboard` command (the package's bin, built to dist/src/cli/bin.js).
import module from 'node:module';

// On-disk V8 code cache for the CLI's modules (Node >= 22.1; NODE_COMPILE_CACHE picks the
// directory, NODE_DISABLE_COMPILE_CACHE=1 turns it off): the second and later invocations skip
// compiling them. It never throws; where it cannot be enabled the CLI runs as before. The rest of
// the CLI is imported after it, so that its modules are compiled through the cache.
if (typeof module.enableCompileCache === 'function') module.enableCompileCache();
const { main } = await import('./main.ts');

await main(process.argv);
