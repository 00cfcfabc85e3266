#!/usr/bin/env node
// The `switchboard` command (the package's bin, built to dist/src/cli/bin.js).
import { main } from './main.ts';

await main(process.argv);
