#!/usr/bin/env node
// The `switchboard` command in the checkout: Node 24 runs the TypeScript sources directly (type
// stripping). The published package's bin is the built dist/src/cli/bin.js.
import process from 'node:process';
import { main } from '../src/cli/main.ts';

await main(process.argv);
